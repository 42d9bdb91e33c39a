//! Case attachments: files kept in the object store by their SHA-256, shared by every
//! attachment with the same content and deleted with the last of them. A file is taken only
//! when its extension is allowed, its declared type fits the extension, and its first bytes
//! are what the extension claims (a program renamed `report.pdf` is refused); and within the
//! limits per file and per case. Downloads are presigned links through the edge.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::Digest as _;
use sqlx::PgPool;
use uuid::Uuid;

use ferrocat_shared::objects::{AttachmentSettings, BlobStore};

use super::events::{self, EventType};
use super::{Actor, CaseRow};
use crate::AppError;
use crate::checks::invalid;

/// One kind of file that may be attached: its extensions, the types it may be declared as
/// (the first is used when none is), and how its content starts.
struct Kind {
    extensions: &'static [&'static str],
    types: &'static [&'static str],
    name: &'static str,
    starts: fn(&[u8]) -> bool,
    /// Shown inline in a preview (images only).
    previewable: bool,
}

fn zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Text: UTF-8 without NUL bytes.
fn text(bytes: &[u8]) -> bool {
    !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok()
}

/// Tracecat's allowlist.
const KINDS: &[Kind] = &[
    Kind { extensions: &["pdf"], types: &["application/pdf"], name: "a PDF document", starts: |b| b.starts_with(b"%PDF-"), previewable: false },
    Kind {
        extensions: &["docx"],
        types: &["application/vnd.openxmlformats-officedocument.wordprocessingml.document"],
        name: "a Word document",
        starts: zip,
        previewable: false,
    },
    Kind {
        extensions: &["xlsx"],
        types: &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        name: "an Excel workbook",
        starts: zip,
        previewable: false,
    },
    Kind {
        extensions: &["pptx"],
        types: &["application/vnd.openxmlformats-officedocument.presentationml.presentation"],
        name: "a PowerPoint presentation",
        starts: zip,
        previewable: false,
    },
    Kind { extensions: &["txt"], types: &["text/plain"], name: "text", starts: text, previewable: false },
    Kind { extensions: &["csv"], types: &["text/csv", "text/plain", "application/csv"], name: "CSV text", starts: text, previewable: false },
    Kind { extensions: &["jpg", "jpeg"], types: &["image/jpeg"], name: "a JPEG image", starts: |b| b.starts_with(&[0xFF, 0xD8, 0xFF]), previewable: true },
    Kind { extensions: &["png"], types: &["image/png"], name: "a PNG image", starts: |b| b.starts_with(b"\x89PNG\r\n\x1a\n"), previewable: true },
    Kind { extensions: &["gif"], types: &["image/gif"], name: "a GIF image", starts: |b| b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a"), previewable: true },
    Kind {
        extensions: &["webp"],
        types: &["image/webp"],
        name: "a WebP image",
        starts: |b| b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP",
        previewable: true,
    },
];

/// Every allowed extension, for messages.
fn allowed() -> String {
    KINDS.iter().flat_map(|k| k.extensions).copied().collect::<Vec<_>>().join(", ")
}

/// Checks a file before anything is stored: its name, extension, declared type and content.
/// Returns the content type to keep.
pub fn check_file(file_name: &str, content_type: &str, bytes: &[u8]) -> Result<&'static str, AppError> {
    if file_name.trim().is_empty() || file_name.chars().count() > 255 || file_name.chars().any(|c| c.is_control() || c == '/' || c == '\\') {
        return Err(invalid("file_name", "a file name is 1-255 characters without slashes or control characters"));
    }
    let extension = file_name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    let Some(kind) = KINDS.iter().find(|k| k.extensions.contains(&extension.as_str())) else {
        let shown = if extension.is_empty() { "without an extension".to_owned() } else { format!("of type .{extension}") };
        return Err(invalid("file", format!("files {shown} are not allowed (allowed: {})", allowed())));
    };
    let declared = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let kept = match declared.as_str() {
        "" | "application/octet-stream" => kind.types[0],
        given => *kind.types.iter().find(|t| **t == given).ok_or_else(|| {
            invalid("content_type", format!("a .{extension} file cannot be sent as {given} (expected {})", kind.types.join(" or ")))
        })?,
    };
    if bytes.is_empty() {
        return Err(invalid("file", "the file is empty"));
    }
    if !(kind.starts)(bytes) {
        return Err(invalid("file", format!("the content of {file_name:?} is not {}, as its .{extension} extension says", kind.name)));
    }
    Ok(kept)
}

/// An attachment of a case.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub sha256: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub creator_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl AttachmentRow {
    /// Tracecat's CaseAttachmentRead.
    pub fn read_model(&self) -> Value {
        json!({
            "id": self.id,
            "case_id": self.case_id,
            "file_id": self.id,
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "creator_id": self.creator_id,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "is_deleted": false,
        })
    }
}

macro_rules! columns {
    () => {
        "id, case_id, sha256, file_name, content_type, size, creator_id, created_at"
    };
}

fn store(store: Option<&BlobStore>) -> Result<&BlobStore, AppError> {
    store.ok_or_else(|| AppError::Unavailable("attachments need an object store (FERROCAT_S3_*), and none is configured".into()))
}

pub async fn list(db: &PgPool, case: &CaseRow) -> Result<Vec<AttachmentRow>, AppError> {
    Ok(sqlx::query_as::<_, AttachmentRow>(concat!("SELECT ", columns!(), " FROM case_attachments WHERE case_id = $1 ORDER BY created_at, id"))
        .bind(case.id)
        .fetch_all(db)
        .await?)
}

pub async fn get(db: &PgPool, case: &CaseRow, id: Uuid) -> Result<AttachmentRow, AppError> {
    sqlx::query_as::<_, AttachmentRow>(concat!("SELECT ", columns!(), " FROM case_attachments WHERE case_id = $1 AND id = $2"))
        .bind(case.id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("attachment {id} not found")))
}

/// Serialises writers of one content: a blob is never deleted while another attachment of the
/// same content is being added.
async fn lock_content(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, sha256: &str) -> Result<(), AppError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))").bind(sha256).execute(&mut **tx).await?;
    Ok(())
}

/// A file as it was sent.
#[derive(Debug)]
pub struct NewFile {
    pub file_name: String,
    /// As declared (may be empty).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Attaches a file to the case, within the limits; the same file (name and content) twice is
/// one attachment.
#[tracing::instrument(skip_all, fields(case_id = %case.id, file_name = %file.file_name, size = file.bytes.len()))]
pub async fn upload(
    db: &PgPool,
    blobs: Option<&BlobStore>,
    settings: &AttachmentSettings,
    case: &CaseRow,
    actor: &Actor,
    file: NewFile,
) -> Result<AttachmentRow, AppError> {
    let blobs = store(blobs)?;
    let NewFile { file_name, content_type, bytes } = file;
    let (file_name, content_type) = (file_name.as_str(), content_type.as_str());
    if bytes.len() as u64 > settings.max_file_bytes {
        return Err(AppError::PayloadTooLarge(format!("a file may be at most {} bytes; this one is {}", settings.max_file_bytes, bytes.len())));
    }
    let content_type = check_file(file_name, content_type, &bytes)?;
    let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
    let size = bytes.len() as i64;
    let mut tx = db.begin().await?;
    super::lock(&mut tx, case.workspace_id, case.id).await?;
    let existing = sqlx::query_as::<_, AttachmentRow>(concat!("SELECT ", columns!(), " FROM case_attachments WHERE case_id = $1 AND sha256 = $2 AND file_name = $3"))
        .bind(case.id)
        .bind(&sha256)
        .bind(file_name)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    let (count, total): (i64, Option<i64>) =
        sqlx::query_as("SELECT count(*), sum(size)::bigint FROM case_attachments WHERE case_id = $1").bind(case.id).fetch_one(&mut *tx).await?;
    if count >= settings.max_files_per_case {
        return Err(invalid("file", format!("a case holds at most {} attachments", settings.max_files_per_case)));
    }
    if total.unwrap_or(0) + size > settings.max_bytes_per_case {
        return Err(AppError::PayloadTooLarge(format!("a case's attachments may total at most {} bytes", settings.max_bytes_per_case)));
    }
    lock_content(&mut tx, &sha256).await?;
    blobs.put(&sha256, bytes, content_type).await?;
    let row = sqlx::query_as::<_, AttachmentRow>(concat!(
        "INSERT INTO case_attachments (id, case_id, sha256, file_name, content_type, size, creator_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(case.id)
    .bind(&sha256)
    .bind(file_name)
    .bind(content_type)
    .bind(size)
    .bind(actor.user_id())
    .fetch_one(&mut *tx)
    .await?;
    let data = json!({"attachment_id": row.id, "file_name": row.file_name, "content_type": row.content_type, "size": row.size});
    events::record(&mut tx, case, actor, EventType::AttachmentCreated, data).await?;
    tx.commit().await?;
    tracing::info!(sha256 = %row.sha256, "attachment stored");
    Ok(row)
}

/// Deletes an attachment (its creator, an admin, or any editor for one a run added), and its
/// content when no other attachment has it.
pub async fn delete(db: &PgPool, blobs: Option<&BlobStore>, case: &CaseRow, actor: &Actor, id: Uuid, may_moderate: bool) -> Result<(), AppError> {
    let row = get(db, case, id).await?;
    let blobs = store(blobs)?;
    match (row.creator_id, actor.user_id()) {
        (Some(creator), Some(me)) if creator == me => {}
        (None, _) => {}
        _ if may_moderate => {}
        _ => return Err(AppError::Forbidden("only the person who attached a file, or an admin, may delete it".into())),
    }
    let mut tx = db.begin().await?;
    lock_content(&mut tx, &row.sha256).await?;
    sqlx::query("DELETE FROM case_attachments WHERE id = $1").bind(id).execute(&mut *tx).await?;
    let data = json!({"attachment_id": row.id, "file_name": row.file_name, "content_type": row.content_type, "size": row.size});
    events::record(&mut tx, case, actor, EventType::AttachmentDeleted, data).await?;
    forget_unused(&mut tx, blobs, &row.sha256).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the content `sha256` when no attachment refers to it any more (in `tx`, which holds
/// the content's lock).
async fn forget_unused(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, blobs: &BlobStore, sha256: &str) -> Result<(), AppError> {
    let used: i64 = sqlx::query_scalar("SELECT count(*) FROM case_attachments WHERE sha256 = $1").bind(sha256).fetch_one(&mut **tx).await?;
    if used == 0 {
        blobs.delete(sha256).await?;
        tracing::info!(sha256, "attachment content deleted");
    }
    Ok(())
}

/// After case `case_id`'s rows went (a case delete), deletes the contents only it held.
pub(crate) async fn forget_contents(db: &PgPool, blobs: Option<&BlobStore>, contents: &[String]) -> Result<(), AppError> {
    let Some(blobs) = blobs else { return Ok(()) };
    for sha256 in contents {
        let mut tx = db.begin().await?;
        lock_content(&mut tx, sha256).await?;
        forget_unused(&mut tx, blobs, sha256).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// The content of an attachment, checked against its hash.
pub async fn content(blobs: Option<&BlobStore>, row: &AttachmentRow) -> Result<Vec<u8>, AppError> {
    Ok(store(blobs)?.get(&row.sha256).await?)
}

/// `{download_url, file_name, content_type}`: a link valid for `expiry` (images inline when
/// `preview`, anything else as a download).
pub async fn download(blobs: Option<&BlobStore>, row: &AttachmentRow, preview: bool, expiry: Duration) -> Result<Value, AppError> {
    let previewable = KINDS.iter().any(|k| k.previewable && k.types.contains(&row.content_type.as_str()));
    let url = store(blobs)?.download_url(&row.sha256, &row.file_name, &row.content_type, preview && previewable, expiry).await?;
    Ok(json!({"download_url": url, "file_name": row.file_name, "content_type": row.content_type}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_must_be_what_its_extension_says() {
        assert_eq!(check_file("report.pdf", "application/pdf", b"%PDF-1.7 ...").unwrap(), "application/pdf");
        assert_eq!(check_file("report.PDF", "", b"%PDF-1.7").unwrap(), "application/pdf", "no type: the extension's");
        let renamed = check_file("invoice.pdf", "application/pdf", b"MZ\x90\x00 a Windows program").unwrap_err().to_string();
        assert!(renamed.contains("is not a PDF document"), "{renamed}");
        let exe = check_file("tool.exe", "application/octet-stream", b"MZ").unwrap_err().to_string();
        assert!(exe.contains("files of type .exe are not allowed") && exe.contains("pdf"), "{exe}");
        assert!(check_file("notes", "text/plain", b"hi").unwrap_err().to_string().contains("without an extension"));
        let mismatch = check_file("shot.png", "text/html", b"\x89PNG\r\n\x1a\n").unwrap_err().to_string();
        assert!(mismatch.contains("cannot be sent as text/html"), "{mismatch}");
        assert_eq!(check_file("iocs.csv", "text/csv; charset=utf-8", b"ip\n1.2.3.4\n").unwrap(), "text/csv");
        assert!(check_file("iocs.csv", "text/csv", b"ip\0\x01").is_err(), "binary is not text");
        assert!(check_file("../etc/passwd.txt", "text/plain", b"x").is_err());
        assert!(check_file("a.webp", "image/webp", b"RIFF\0\0\0\0WEBPVP8 ").is_ok());
        assert!(check_file("a.txt", "text/plain", b"").is_err(), "empty");
    }
}
