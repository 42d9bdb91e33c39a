//! Object storage for results too large for Temporal history: an action's result above the
//! threshold (128 KiB by default) is written to the workflow bucket, and history keeps only a
//! [`StoredRef`] to it. The same S3 client serves the embedded store (`ferrocat object-store`),
//! MinIO and AWS S3.
//!
//! Keys are content-addressed (`{workspace}/{execution}/{digest}.json`), so a loop iteration or
//! a retry that writes the same ref again never changes an object an earlier reference points
//! to; readers verify the whole sha256. Keys stay under 140 bytes: the embedded store names a
//! metadata file after the base64 of bucket and key, and file names end at 255 bytes.

use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::primitives::ByteStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::config::{ConfigError, Env};

/// The key a stored result's reference sits under in place of the result itself. No action
/// returns a mapping with this one key by chance.
pub const STORED_KEY: &str = "__ferrocat_stored__";

/// Default threshold: results whose JSON is larger go to object storage (Tracecat's default).
pub const DEFAULT_THRESHOLD_BYTES: usize = 128 * 1024;

/// Where a stored result is, and what it must hash to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRef {
    pub backend: String,
    pub bucket: String,
    pub key: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub content_type: String,
    pub encoding: String,
    /// Python's type name of the stored value, so `result_typename` needs no read.
    pub typename: String,
}

impl StoredRef {
    /// The value that stands for the result in history: `{"__ferrocat_stored__": {...}}`.
    pub fn to_value(&self) -> Value {
        let mut map = serde_json::Map::new();
        map.insert(STORED_KEY.into(), serde_json::to_value(self).unwrap_or(Value::Null));
        Value::Object(map)
    }

    /// The reference `value` stands for, if it is one.
    pub fn from_value(value: &Value) -> Option<StoredRef> {
        let map = value.as_object()?;
        if map.len() != 1 {
            return None;
        }
        serde_json::from_value(map.get(STORED_KEY)?.clone()).ok()
    }
}

pub use ferrocat_dsl::expr::typename;

/// Why a result could not be stored or read back.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object storage: writing {key}: {message}")]
    Put { key: String, message: String },
    #[error("object storage: reading {key}: {message}")]
    Get { key: String, message: String },
    #[error("object storage: {key} does not match its sha256 (expected {expected}, read {actual})")]
    Corrupt { key: String, expected: String, actual: String },
    #[error("object storage: {key} is not JSON: {message}")]
    Decode { key: String, message: String },
    /// The store did not answer (refused, timed out, or failed on its side with a 5xx): a
    /// fault of the platform that goes away when the store comes back, unlike the others.
    #[error("object storage is unavailable ({key}): {message}")]
    Unreachable { key: String, message: String },
}

impl StoreError {
    /// Whether the store itself was out of reach, so the same request may succeed later.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StoreError::Unreachable { .. })
    }

    /// A failed request for `key`: [`StoreError::Unreachable`] when the store did not answer
    /// or answered with its own failure, else `other` (a refusal: missing object, bad
    /// credentials, no such bucket).
    fn request<E>(key: &str, error: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>, other: fn(String, String) -> StoreError) -> StoreError
    where
        E: std::error::Error + 'static,
    {
        use aws_sdk_s3::error::SdkError;
        let message = describe(error);
        let unreachable = match error {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(failed) => failed.raw().status().is_server_error(),
            _ => false,
        };
        if unreachable { StoreError::Unreachable { key: key.to_owned(), message } } else { other(key.to_owned(), message) }
    }

    fn put(key: String, message: String) -> StoreError {
        StoreError::Put { key, message }
    }

    fn get(key: String, message: String) -> StoreError {
        StoreError::Get { key, message }
    }
}

/// Settings of the result store, from `FERROCAT_S3_*` and `FERROCAT_RESULT_*`.
#[derive(Clone)]
pub struct ResultStoreConfig {
    /// `FERROCAT_S3_ENDPOINT`, else `http://` + `FERROCAT_S3_ADDR` (the embedded store).
    pub endpoint: String,
    /// `FERROCAT_S3_REGION`, default `us-east-1`.
    pub region: String,
    /// `FERROCAT_S3_ACCESS_KEY`.
    pub access_key: String,
    /// `FERROCAT_S3_SECRET_KEY`.
    secret_key: String,
    /// `FERROCAT_RESULTS_BUCKET`, default `ferrocat-workflow`.
    pub bucket: String,
    /// `FERROCAT_RESULT_THRESHOLD_BYTES`, default 131072; `0` keeps every result inline.
    pub threshold: usize,
    /// `FERROCAT_S3_PRESIGN_URL`: the public base of download links (the edge's `/s3`, or the
    /// store's own public address); `None` signs links for the endpoint itself.
    pub presign_base: Option<String>,
}

impl std::fmt::Debug for ResultStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultStoreConfig")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl ResultStoreConfig {
    /// `None` when no object store is configured (no endpoint or no credentials): results then
    /// stay inline whatever their size.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let endpoint = match (env.get("FERROCAT_S3_ENDPOINT"), env.get("FERROCAT_S3_ADDR")) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => return Ok(None),
        };
        let (Some(access_key), Some(secret_key)) = (env.get("FERROCAT_S3_ACCESS_KEY"), env.get("FERROCAT_S3_SECRET_KEY")) else {
            return Ok(None);
        };
        let threshold = env.parse_or("FERROCAT_RESULT_THRESHOLD_BYTES", DEFAULT_THRESHOLD_BYTES)?;
        Ok(Some(Self {
            endpoint,
            region: env.string_or("FERROCAT_S3_REGION", "us-east-1"),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            bucket: env.string_or("FERROCAT_RESULTS_BUCKET", "ferrocat-workflow"),
            threshold,
            presign_base: env.get("FERROCAT_S3_PRESIGN_URL").map(|u| u.trim_end_matches('/').to_owned()),
        }))
    }
}

/// Writes large results to object storage and reads them back.
#[derive(Clone)]
pub struct ResultStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    threshold: usize,
    presign: Presigner,
}

/// Signs download links: a client for the public origin, and the base that replaces it. A link
/// through a proxy that drops the port from Host (the edge does, as MinIO needs) is signed for
/// the bare origin, and the proxy's base put in its place.
#[derive(Clone)]
struct Presigner {
    client: aws_sdk_s3::Client,
    origin: String,
    base: String,
}

impl Presigner {
    fn new(config: &ResultStoreConfig, endpoint_client: &aws_sdk_s3::Client) -> Self {
        match &config.presign_base {
            Some(base) => {
                // A base with a path (`…/s3`) is a proxy's; a bare origin is the store's own
                // public address, whose port stays in the signed Host.
                let origin = url::Url::parse(base)
                    .ok()
                    .and_then(|u| {
                        let host = u.host_str()?;
                        let port = match (u.path().trim_end_matches('/').is_empty(), u.port()) {
                            (true, Some(port)) => format!(":{port}"),
                            _ => String::new(),
                        };
                        Some(format!("{}://{host}{port}", u.scheme()))
                    })
                    .unwrap_or_else(|| config.endpoint.clone());
                Self { client: client(config, &origin), origin, base: base.clone() }
            }
            None => Self { client: endpoint_client.clone(), origin: config.endpoint.clone(), base: config.endpoint.clone() },
        }
    }

    async fn get(&self, bucket: &str, key: &str, disposition: &str, content_type: &str, expires_in: std::time::Duration) -> Result<String, StoreError> {
        let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(expires_in)
            .map_err(|e| StoreError::Get { key: key.to_owned(), message: e.to_string() })?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .response_content_disposition(disposition)
            .response_content_type(content_type)
            .presigned(config)
            .await
            .map_err(|e| StoreError::Get { key: key.to_owned(), message: describe(&e) })?;
        let uri = request.uri().to_owned();
        Ok(match uri.strip_prefix(self.origin.as_str()) {
            Some(rest) => format!("{}{rest}", self.base),
            None => uri,
        })
    }
}

/// Where case attachments go and how large they may be (Tracecat's limits by default).
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    /// `FERROCAT_ATTACHMENTS_BUCKET`, default `ferrocat-attachments`.
    pub bucket: String,
    /// `FERROCAT_ATTACHMENT_MAX_BYTES`, default 20 MiB: the largest file.
    pub max_file_bytes: u64,
    /// `FERROCAT_ATTACHMENTS_PER_CASE`, default 10.
    pub max_files_per_case: i64,
    /// `FERROCAT_ATTACHMENT_BYTES_PER_CASE`, default 200 MiB: all of one case's files.
    pub max_bytes_per_case: i64,
}

impl AttachmentSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let settings = Self {
            bucket: env.string_or("FERROCAT_ATTACHMENTS_BUCKET", "ferrocat-attachments"),
            max_file_bytes: env.parse_or("FERROCAT_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024u64)?,
            max_files_per_case: env.parse_or("FERROCAT_ATTACHMENTS_PER_CASE", 10i64)?,
            max_bytes_per_case: env.parse_or("FERROCAT_ATTACHMENT_BYTES_PER_CASE", 200 * 1024 * 1024i64)?,
        };
        if settings.max_file_bytes == 0 || settings.max_files_per_case < 1 || settings.max_bytes_per_case < 1 {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_ATTACHMENT_*".into(),
                value: format!("{settings:?}"),
                reason: "attachment limits must be at least 1".into(),
            });
        }
        Ok(settings)
    }
}

/// Files kept by their content (case attachments): `attachments/<sha256>` in the attachments
/// bucket (`FERROCAT_ATTACHMENTS_BUCKET`, default `ferrocat-attachments`), read back checked
/// against the hash, downloaded through presigned links.
#[derive(Clone)]
pub struct BlobStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    presign: Presigner,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore").field("bucket", &self.bucket).finish_non_exhaustive()
    }
}

impl BlobStore {
    /// The store for `settings` on the object store `config` describes. Its client talks only
    /// to the operator's configured endpoint (`FERROCAT_S3_*`), never to an address a workflow
    /// chose, so it is not under the egress policy; files a workflow fetches from a URL come
    /// through the actions' egress-checked client first.
    pub fn new(config: &ResultStoreConfig, settings: &AttachmentSettings) -> Self {
        let client = client(config, &config.endpoint);
        Self { presign: Presigner::new(config, &client), client, bucket: settings.bucket.clone() }
    }

    fn key(sha256: &str) -> String {
        format!("attachments/{sha256}")
    }

    /// Writes `bytes` under their hash (the same content twice is one object).
    pub async fn put(&self, sha256: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        let key = Self::key(sha256);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| StoreError::request(&key, &e, StoreError::put))?;
        Ok(())
    }

    /// The content with hash `sha256`, checked.
    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, StoreError> {
        let key = Self::key(sha256);
        let object = self.client.get_object().bucket(&self.bucket).key(&key).send().await.map_err(|e| StoreError::request(&key, &e, StoreError::get))?;
        let bytes = object.body.collect().await.map_err(|e| StoreError::Unreachable { key: key.clone(), message: e.to_string() })?.into_bytes().to_vec();
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != sha256 {
            return Err(StoreError::Corrupt { key, expected: sha256.to_owned(), actual });
        }
        Ok(bytes)
    }

    /// Removes the content with hash `sha256`.
    pub async fn delete(&self, sha256: &str) -> Result<(), StoreError> {
        let key = Self::key(sha256);
        self.client.delete_object().bucket(&self.bucket).key(&key).send().await.map_err(|e| StoreError::request(&key, &e, StoreError::put))?;
        Ok(())
    }

    /// A link that downloads the content as `file_name` (inline when `inline`, for previews).
    pub async fn download_url(&self, sha256: &str, file_name: &str, content_type: &str, inline: bool, expires_in: std::time::Duration) -> Result<String, StoreError> {
        // The name goes into a header: only characters that cannot break out of the quotes.
        let safe: String = file_name.chars().map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' }).collect();
        let disposition = format!("{}; filename=\"{safe}\"", if inline { "inline" } else { "attachment" });
        self.presign.get(&self.bucket, &Self::key(sha256), &disposition, content_type, expires_in).await
    }
}

impl std::fmt::Debug for ResultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultStore").field("bucket", &self.bucket).field("threshold", &self.threshold).finish_non_exhaustive()
    }
}

impl ResultStore {
    /// A client for `config` (no request is made until the first result is stored).
    pub fn new(config: &ResultStoreConfig) -> Self {
        let client = client(config, &config.endpoint);
        Self { presign: Presigner::new(config, &client), client, bucket: config.bucket.clone(), threshold: config.threshold }
    }

    /// A time-limited link that downloads a stored value (as an attachment), for callers
    /// that hold no credentials.
    pub async fn presigned_url(&self, stored: &StoredRef, expires_in: std::time::Duration) -> Result<String, StoreError> {
        self.presign.get(&stored.bucket, &stored.key, "attachment; filename=\"result.json\"", &stored.content_type, expires_in).await
    }

    /// The store configured in `env`, if any.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        Ok(ResultStoreConfig::from_env(env)?.map(|c| Self::new(&c)))
    }

    /// Keeps `value` inline when its JSON is at most the threshold; else writes it among
    /// `execution`'s objects in `workspace` and returns its reference in its place.
    pub async fn externalize(&self, workspace: &str, execution: &str, value: Value) -> Result<Value, StoreError> {
        Ok(self.store(workspace, execution, &value).await?.unwrap_or(value))
    }

    /// What [`ResultStore::externalize`] puts in `value`'s place: `None` when it stays inline,
    /// else its reference once written. Borrowing the value, a caller can try again after a
    /// failed write without having copied it first.
    pub async fn store(&self, workspace: &str, execution: &str, value: &Value) -> Result<Option<Value>, StoreError> {
        if self.threshold == 0 {
            return Ok(None);
        }
        let bytes = serde_json::to_vec(value).unwrap_or_default();
        if bytes.len() <= self.threshold {
            return Ok(None);
        }
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let key = format!("{}/{}/{}.json", key_part(workspace), key_part(execution), &sha256[..32]);
        let size_bytes = bytes.len() as u64;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| StoreError::request(&key, &e, StoreError::put))?;
        tracing::debug!(%key, size_bytes, "result stored");
        let stored = StoredRef {
            backend: "s3".into(),
            bucket: self.bucket.clone(),
            key,
            size_bytes,
            sha256,
            content_type: "application/json".into(),
            encoding: "json".into(),
            typename: typename(value).into(),
        };
        Ok(Some(stored.to_value()))
    }

    /// Reads a stored value back, checking its hash.
    pub async fn load(&self, stored: &StoredRef) -> Result<Value, StoreError> {
        let key = stored.key.clone();
        if stored.bucket != self.bucket {
            return Err(StoreError::Get { key, message: format!("bucket {:?} is not where results are kept", stored.bucket) });
        }
        let object = self
            .client
            .get_object()
            .bucket(&stored.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| StoreError::request(&key, &e, StoreError::get))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unreachable { key: key.clone(), message: e.to_string() })?
            .into_bytes();
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != stored.sha256 {
            return Err(StoreError::Corrupt { key, expected: stored.sha256.clone(), actual });
        }
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Decode { key, message: e.to_string() })
    }

    /// `value` with every stored reference in it (at any depth) replaced by what it stands for.
    pub async fn materialize(&self, value: Value) -> Result<Value, StoreError> {
        self.scoped(value, None).await
    }

    /// [`ResultStore::materialize`] for a run of `workspace`: a reference to anything outside
    /// that workspace's objects (one a result could forge) is refused, not read.
    pub async fn materialize_in(&self, workspace: &str, value: Value) -> Result<Value, StoreError> {
        let prefix = format!("{}/", key_part(workspace));
        self.scoped(value, Some(&prefix)).await
    }

    async fn scoped(&self, value: Value, prefix: Option<&str>) -> Result<Value, StoreError> {
        if !contains_stored(&value) {
            return Ok(value);
        }
        if let Some(stored) = StoredRef::from_value(&value) {
            if prefix.is_some_and(|p| !stored.key.starts_with(p)) {
                return Err(StoreError::Get { key: stored.key, message: "it belongs to another workspace".into() });
            }
            return self.load(&stored).await;
        }
        match value {
            Value::Array(items) => {
                let loads = items.into_iter().map(|item| Box::pin(self.scoped(item, prefix)));
                Ok(Value::Array(futures::future::try_join_all(loads).await?))
            }
            Value::Object(map) => {
                let (keys, values): (Vec<String>, Vec<Value>) = map.into_iter().unzip();
                let loaded = futures::future::try_join_all(values.into_iter().map(|v| Box::pin(self.scoped(v, prefix)))).await?;
                Ok(Value::Object(keys.into_iter().zip(loaded).collect()))
            }
            other => Ok(other),
        }
    }
}

/// An S3 client for `endpoint` with `config`'s region and credentials. A client of its own, not
/// the egress-checked one: the endpoint is the operator's setting (`FERROCAT_S3_*`), and stored
/// references are only read inside their workspace's prefix of that one bucket
/// ([`ResultStore::materialize_in`]), so a workflow never chooses where it connects.
fn client(config: &ResultStoreConfig, endpoint: &str) -> aws_sdk_s3::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring))
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(config.region.clone()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(&config.access_key, &config.secret_key, None, None, "ferrocat"))
        .force_path_style(true)
        // Plain signed bodies rather than aws-chunked uploads with trailing checksums, which
        // not every S3-compatible store takes; our own sha256 guards what is read back.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        // A store that stops answering is an outage its callers wait out or report, not a
        // hang: connecting, and the first byte of each answer, are bounded.
        .timeout_config(TimeoutConfig::builder().connect_timeout(std::time::Duration::from_secs(3)).read_timeout(std::time::Duration::from_secs(10)).build())
        .http_client(http)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// `part` as one piece of a key: itself when short, else a digest of it (execution ids of
/// subflows and of runs started by other tools can be long).
fn key_part(part: &str) -> String {
    let part = match uuid::Uuid::parse_str(part) {
        Ok(id) => id.simple().to_string(),
        Err(_) => part.to_owned(),
    };
    if part.len() <= 64 && !part.is_empty() { part } else { hex::encode(&Sha256::digest(part.as_bytes())[..16]) }
}

/// Whether `value` holds a stored reference anywhere.
pub fn contains_stored(value: &Value) -> bool {
    match value {
        Value::Object(map) => (map.len() == 1 && map.contains_key(STORED_KEY)) || map.values().any(contains_stored),
        Value::Array(items) => items.iter().any(contains_stored),
        _ => false,
    }
}

/// The innermost message of an SDK error (its Display is only "service error").
fn describe(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reference_round_trips_and_nothing_else_is_one() {
        let stored = StoredRef {
            backend: "s3".into(),
            bucket: "b".into(),
            key: "k".into(),
            size_bytes: 3,
            sha256: "00".into(),
            content_type: "application/json".into(),
            encoding: "json".into(),
            typename: "list".into(),
        };
        let value = stored.to_value();
        assert_eq!(StoredRef::from_value(&value), Some(stored));
        assert!(contains_stored(&json!({"a": [1, value]})));
        assert_eq!(StoredRef::from_value(&json!({STORED_KEY: {"bucket": "b"}})), None);
        assert_eq!(StoredRef::from_value(&json!({STORED_KEY: 1, "other": 2})), None);
        assert!(!contains_stored(&json!({"result": {"type": "external"}})));
    }

    #[test]
    fn no_endpoint_or_no_credentials_means_no_store() {
        assert!(ResultStoreConfig::from_env(&Env::from_pairs([("FERROCAT_S3_ACCESS_KEY", "a")])).unwrap().is_none());
        let env = Env::from_pairs([("FERROCAT_S3_ADDR", "127.0.0.1:9000"), ("FERROCAT_S3_ACCESS_KEY", "a")]);
        assert!(ResultStoreConfig::from_env(&env).unwrap().is_none());
        let env = Env::from_pairs([
            ("FERROCAT_S3_ADDR", "127.0.0.1:9000"),
            ("FERROCAT_S3_ACCESS_KEY", "a"),
            ("FERROCAT_S3_SECRET_KEY", "very-secret"),
        ]);
        let config = ResultStoreConfig::from_env(&env).unwrap().unwrap();
        assert_eq!(config.endpoint, "http://127.0.0.1:9000");
        assert_eq!(config.threshold, DEFAULT_THRESHOLD_BYTES);
        assert!(!format!("{config:?}").contains("very-secret"));
        let bad = Env::from_pairs([
            ("FERROCAT_S3_ENDPOINT", "http://s3.local/"),
            ("FERROCAT_S3_ACCESS_KEY", "a"),
            ("FERROCAT_S3_SECRET_KEY", "b"),
            ("FERROCAT_RESULT_THRESHOLD_BYTES", "lots"),
        ]);
        assert!(ResultStoreConfig::from_env(&bad).unwrap_err().to_string().contains("FERROCAT_RESULT_THRESHOLD_BYTES"));
    }
}
