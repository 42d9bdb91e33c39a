//! The embedded S3 store (`ferrocat object-store`'s code, s3s over a folder) for the tests of
//! one test binary: started on a free port the first time a test asks, on a thread of its own
//! so that it outlives each test's runtime.

use std::path::PathBuf;
use std::sync::OnceLock;

use ferrocat_shared::config::Env;
use ferrocat_object_store::{self as object_server, ObjectStoreConfig};

pub struct ObjectStore {
    pub addr: String,
    /// The folder the objects are kept in: `<dir>/<bucket>/<key>`.
    pub dir: PathBuf,
}

static STORE: OnceLock<ObjectStore> = OnceLock::new();

const ACCESS_KEY: &str = "ferrocat-test";
const SECRET_KEY: &str = "ferrocat-test-secret";

/// The store, started on first use.
pub fn object_store() -> &'static ObjectStore {
    STORE.get_or_init(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let dir = std::env::temp_dir().join(format!("ferrocat-test-objects-{}", uuid::Uuid::new_v4().simple()));
        let config = ObjectStoreConfig::from_env(&Env::from_pairs([
            ("FERROCAT_S3_ADDR", addr.to_string()),
            ("FERROCAT_S3_DIR", dir.to_string_lossy().into_owned()),
            ("FERROCAT_S3_ACCESS_KEY", ACCESS_KEY.to_owned()),
            ("FERROCAT_S3_SECRET_KEY", SECRET_KEY.to_owned()),
        ]))
        .unwrap();
        let (ready, started) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let serving = object_server::serve(listener, config, std::future::pending());
                ready.send(()).unwrap();
                serving.await.unwrap();
            });
        });
        started.recv().unwrap();
        ObjectStore { addr: addr.to_string(), dir }
    })
}

impl ObjectStore {
    /// The settings that point an executor at this store, with results above `threshold`
    /// bytes stored.
    pub fn env(&self, threshold: usize) -> Vec<(&'static str, String)> {
        vec![
            ("FERROCAT_S3_ADDR", self.addr.clone()),
            ("FERROCAT_S3_ACCESS_KEY", ACCESS_KEY.to_owned()),
            ("FERROCAT_S3_SECRET_KEY", SECRET_KEY.to_owned()),
            ("FERROCAT_RESULT_THRESHOLD_BYTES", threshold.to_string()),
        ]
    }

    /// Every object's path under the workflow bucket whose key starts with `prefix`.
    pub fn objects(&self, prefix: &str) -> Vec<PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() { walk(&path, out) } else { out.push(path) }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.join("ferrocat-workflow").join(prefix), &mut out);
        // s3s-fs keeps its own metadata beside the objects.
        out.retain(|p| p.extension().is_some_and(|e| e == "json"));
        out
    }
}
