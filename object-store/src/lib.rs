//! `ferrocat object-store`: the embedded S3-compatible store over a local folder (s3s-fs), so
//! the same S3 client code (`ferrocat_shared::objects`) serves both this and MinIO/S3.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

use ferrocat_shared::config::{ConfigError, Env};

/// The buckets ferrocat uses, created as folders at start.
pub const BUCKETS: &[&str] = &["ferrocat-workflow", "ferrocat-attachments"];

/// The object store's configuration.
#[derive(Clone)]
pub struct ObjectStoreConfig {
    /// `FERROCAT_S3_ADDR`, default `127.0.0.1:9000`.
    pub addr: SocketAddr,
    /// `FERROCAT_S3_DIR`, default `.ferrocat/objects`.
    pub dir: PathBuf,
    /// `FERROCAT_S3_ACCESS_KEY` / `FERROCAT_S3_SECRET_KEY`: required credentials.
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for ObjectStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreConfig").field("addr", &self.addr).field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl ObjectStoreConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            addr: env.parse_or("FERROCAT_S3_ADDR", SocketAddr::from(([127, 0, 0, 1], 9000)))?,
            dir: PathBuf::from(env.string_or("FERROCAT_S3_DIR", ".ferrocat/objects")),
            access_key: env.required("FERROCAT_S3_ACCESS_KEY")?,
            secret_key: env.required("FERROCAT_S3_SECRET_KEY")?,
        })
    }
}

/// Serves S3 on `config.addr` until `shutdown`, then drains connections for up to ten seconds.
pub async fn run(config: ObjectStoreConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    serve(listener, config, shutdown).await
}

/// [`run`] on a listener already bound (tests bind port 0).
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ObjectStoreConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    for bucket in BUCKETS {
        std::fs::create_dir_all(config.dir.join(bucket))?;
    }
    let fs = s3s_fs::FileSystem::new(&config.dir).map_err(|e| anyhow::anyhow!("opening {}: {e:?}", config.dir.display()))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(config.access_key.clone(), config.secret_key.clone()));
    let s3 = builder.build();
    // A refusal before the body is read (a bad signature) says it closes the connection.
    let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
        let s3 = s3.clone();
        async move {
            let (parts, body) = request.into_parts();
            let (body, read) = ferrocat_shared::keepalive::Watched::new(body);
            let mut response = s3.call(http::Request::from_parts(parts, s3s::Body::http_body_unsync(body))).await?;
            ferrocat_shared::keepalive::close_unless_read(&read, response.headers_mut());
            Ok::<_, s3s::HttpError>(response)
        }
    });

    tracing::info!(addr = %listener.local_addr()?, dir = %config.dir.display(), "object store listening");
    let http = ConnBuilder::new(TokioExecutor::new());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
            () = &mut shutdown => break,
        };
        let connection = graceful.watch(http.serve_connection(TokioIo::new(socket), service.clone()).into_owned());
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => tracing::warn!("gave up draining after 10s"),
    }
    Ok(())
}
