//! The sandbox's only way out. A script with `allow_network: true` still runs in a network
//! namespace of its own, which has nothing but loopback; the sandbox binds this proxy's Unix
//! socket into it and the runner points `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` at a relay to
//! it. Every connection then goes through [`serve`]: `CONNECT host:port` (HTTPS, or any TCP
//! protocol a client tunnels) or an absolute-form `http://` request, resolved and checked
//! against the egress policy here, so a script reaches what `core.http_request` may reach and
//! nothing else: no loopback, no cloud metadata, no service of the stack, raw TCP included.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpStream, UnixListener, UnixStream};

use ferrocat_shared::egress::{self, EgressPolicy};

/// Longest request head accepted from the sandbox.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// How long the sandbox has to send a request head, and a connection to open.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running proxy; stops accepting when dropped.
pub struct EgressProxy {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Listens on a new Unix socket at `path` and serves each connection under `policy`.
pub fn start(path: &Path, policy: Arc<EgressPolicy>) -> std::io::Result<EgressProxy> {
    let listener = UnixListener::bind(path)?;
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else { break };
            let policy = policy.clone();
            connections.spawn(async move {
                if let Err(error) = serve(stream, &policy).await {
                    tracing::debug!(%error, "sandbox egress connection ended");
                }
            });
            // Finished connections are reaped as new ones come; all end with the proxy.
            while connections.try_join_next().is_some() {}
        }
    });
    Ok(EgressProxy { task })
}

/// One proxied connection.
async fn serve(mut client: UnixStream, policy: &EgressPolicy) -> std::io::Result<()> {
    let mut buffer = Vec::with_capacity(4096);
    let head_len = match tokio::time::timeout(STEP_TIMEOUT, read_head(&mut client, &mut buffer)).await {
        Ok(Ok(Some(len))) => len,
        Ok(Ok(None)) => return respond(&mut client, 431, "request head too large").await,
        Ok(Err(e)) => return Err(e),
        Err(_) => return respond(&mut client, 408, "no request head in time").await,
    };
    let head = String::from_utf8_lossy(&buffer[..head_len]).into_owned();
    let rest = buffer[head_len..].to_vec();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target, version) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or("HTTP/1.1"));

    let (host, port, forward_head) = if method.eq_ignore_ascii_case("CONNECT") {
        match authority(target) {
            Some((host, port)) => (host, port, None),
            None => return respond(&mut client, 400, "CONNECT needs host:port").await,
        }
    } else {
        let Ok(url) = url::Url::parse(target) else {
            return respond(&mut client, 400, "the egress proxy takes CONNECT or absolute http:// URLs").await;
        };
        if url.scheme() != "http" || url.host_str().is_none() {
            return respond(&mut client, 400, "the egress proxy takes CONNECT or absolute http:// URLs").await;
        }
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let mut forwarded = format!("{method} {path} {version}\r\n");
        for line in lines.filter(|l| !l.is_empty()) {
            let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
            if !matches!(name.as_str(), "proxy-connection" | "proxy-authorization" | "connection" | "keep-alive") {
                forwarded.push_str(line);
                forwarded.push_str("\r\n");
            }
        }
        // One request per connection: the next one may be for another host.
        forwarded.push_str("Connection: close\r\n\r\n");
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        (host, url.port_or_known_default().unwrap_or(80), Some(forwarded))
    };

    let addresses = match egress::resolve_allowed(policy, &host, &[Some(port)]).await {
        Ok(addresses) => addresses,
        Err(refused) => {
            tracing::info!(%host, port, "sandbox egress refused");
            return respond(&mut client, 403, &refused.to_string()).await;
        }
    };
    // Only addresses the policy kept for this port: the one checked is the one connected to.
    let mut upstream = None;
    for ip in addresses {
        if let Ok(Ok(stream)) = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect((ip, port))).await {
            upstream = Some(stream);
            break;
        }
    }
    let Some(mut upstream) = upstream else {
        return respond(&mut client, 502, &format!("cannot connect to {host}:{port}")).await;
    };
    match forward_head {
        None => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?,
        Some(head) => upstream.write_all(head.as_bytes()).await?,
    }
    upstream.write_all(&rest).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// Reads until the end of the head; `Some(length)` with the head's length (the buffer may
/// hold body bytes after it), `None` when it grew past [`MAX_HEAD_BYTES`].
async fn read_head(client: &mut UnixStream, buffer: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(Some(end + 4));
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Ok(None);
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before a request head"));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// `host:port` or `[v6]:port`.
fn authority(target: &str) -> Option<(String, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let host = host.trim_matches(['[', ']']);
    let port = port.parse().ok()?;
    if host.is_empty() {
        return None;
    }
    Some((host.to_owned(), port))
}

async fn respond(client: &mut UnixStream, status: u16, message: &str) -> std::io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Bad Gateway",
    };
    let body = format!("{message}\n");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn authorities() {
        assert_eq!(authority("example.com:443"), Some(("example.com".into(), 443)));
        assert_eq!(authority("[::1]:80"), Some(("::1".into(), 80)));
        assert_eq!(authority("example.com"), None);
        assert_eq!(authority(":80"), None);
        assert_eq!(authority("h:x"), None);
    }
}
