//! Embeds the built web console (`console/dist`, made by `npm --prefix console run build`) into
//! the binary when it exists: every file with its content type, whether it may be cached for
//! ever (Vite's hashed `assets/`), and a gzip copy when that is smaller. Without it the table
//! is empty and `ferrocat ui` says how to build the console.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = root.join("console").join("dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &mut files);
    }
    files.sort();
    let mut table = String::from("/// The built console's files (empty when it was not built).\npub static ASSETS: &[Asset] = &[\n");
    for (i, file) in files.iter().enumerate() {
        let rel = file.strip_prefix(&dist).expect("under dist").to_string_lossy().replace('\\', "/");
        let body = std::fs::read(file).expect("readable console file");
        let content_type = content_type(&rel);
        // index.html is filled in per request (its style nonce), so a packed copy would go unused.
        let gzip = (compressible(content_type) && rel != "index.html").then(|| gzip(&body)).filter(|packed| packed.len() < body.len());
        let gzip_expr = match gzip {
            Some(packed) => {
                let path = out_dir.join(format!("console-{i}.gz"));
                write_if_changed(&path, &packed);
                format!("Some(include_bytes!({:?}))", path.display().to_string())
            }
            None => "None".to_owned(),
        };
        let _ = writeln!(
            table,
            "    Asset {{ path: {:?}, body: include_bytes!({:?}), gzip: {gzip_expr}, content_type: {content_type:?}, immutable: {} }},",
            format!("/{rel}"),
            file.display().to_string(),
            rel.starts_with("assets/"),
        );
    }
    table.push_str("];\n");
    write_if_changed(&out_dir.join("console_assets.rs"), table.as_bytes());
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable console/dist").flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// Rewrites `path` only when its bytes change, so an unchanged console does not rebuild the
/// binary.
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::write(path, bytes).expect("OUT_DIR is writable");
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map_or("", |(_, ext)| ext) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/") || content_type == "application/json" || content_type == "image/svg+xml"
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}
