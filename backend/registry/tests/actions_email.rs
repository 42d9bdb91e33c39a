//! `core.send_email_smtp` against an SMTP server on loopback (a small receiver speaking the
//! protocol, as a mail relay would): the envelope, the headers, sanitised HTML, authentication,
//! and clear errors for bad addresses and a missing secret.

use base64::Engine as _;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use ferrocat_registry::ActionDeps;
use ferrocat_registry::actions;

/// What one SMTP session delivered.
#[derive(Debug, Default, Clone)]
struct Delivery {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
    auth: Option<String>,
}

/// Accepts SMTP sessions on a free port; each finished session is sent on the channel.
async fn smtp_server() -> (u16, mpsc::UnboundedReceiver<Delivery>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sink, deliveries) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let sink = sink.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let mut delivery = Delivery::default();
                write.write_all(b"220 relay.test ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-relay.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
                    } else if let Some(credentials) = line.strip_prefix("AUTH PLAIN ") {
                        let decoded = base64::engine::general_purpose::STANDARD.decode(credentials).unwrap();
                        delivery.auth = Some(String::from_utf8(decoded).unwrap().replace('\0', "|"));
                        b"235 2.7.0 Authentication successful\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        delivery.mail_from = line[10..].trim().to_owned();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        delivery.rcpt_to.push(line[8..].trim().to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await.unwrap();
                        while let Ok(Some(data)) = lines.next_line().await {
                            if data == "." {
                                break;
                            }
                            delivery.data.push_str(&data);
                            delivery.data.push('\n');
                        }
                        b"250 OK queued\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 Bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
                let _ = sink.send(delivery);
            });
        }
    });
    (port, deliveries)
}

fn smtp_secret(port: u16) -> Map<String, Value> {
    json!({"smtp": {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port.to_string(), "SMTP_USER": "soc-bot", "SMTP_PASS": "hunter2-relay"}})
        .as_object()
        .cloned()
        .unwrap()
}

async fn send(args: Value, secrets: &Map<String, Value>) -> Result<Value, String> {
    let deps = ActionDeps { http: actions::http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap(), redis: None, ai: None, cases: None, tables: None };
    ferrocat_registry::dispatch_with("core.send_email_smtp", args.as_object().cloned().unwrap(), &deps, secrets).await.map_err(|e| e.to_string())
}

/// The next finished session (the client returns once the server said 250, just before the
/// session ends).
async fn next(deliveries: &mut mpsc::UnboundedReceiver<Delivery>) -> Delivery {
    tokio::time::timeout(std::time::Duration::from_secs(10), deliveries.recv())
        .await
        .expect("the SMTP session ended")
        .expect("the server runs")
}

#[tokio::test]
async fn a_plain_email_reaches_the_relay_with_every_recipient() {
    let (port, mut list) = smtp_server().await;
    let result = send(
        json!({
            "sender": "soc@example.com", "sender_prefix": "SOC Bot",
            "recipients": ["analyst@example.com"], "cc": "lead@example.com", "bcc": ["audit@example.com"],
            "reply_to": "noreply@example.com", "subject": "Alert A-1", "body": "Host web-1 is isolated.",
            "headers": {"X-Case-Id": "42"}, "enable_auth": true,
        }),
        &smtp_secret(port),
    )
    .await
    .unwrap();
    assert_eq!(result, json!({}), "Tracecat returns an empty dict when every recipient was accepted");
    let delivery = next(&mut list).await;
    assert_eq!(delivery.mail_from, "<soc@example.com>");
    assert_eq!(delivery.rcpt_to, ["<analyst@example.com>", "<lead@example.com>", "<audit@example.com>"]);
    assert_eq!(delivery.auth.as_deref(), Some("|soc-bot|hunter2-relay"), "credentials come from the smtp secret");
    let data = delivery.data;
    assert!(data.contains("From: \"SOC Bot\" <soc@example.com>"), "{data}");
    assert!(data.contains("To: analyst@example.com"), "{data}");
    assert!(data.contains("Cc: lead@example.com"), "{data}");
    assert!(!data.contains("audit@example.com"), "bcc stays out of the headers: {data}");
    assert!(data.contains("Reply-To: noreply@example.com"), "{data}");
    assert!(data.contains("Subject: Alert A-1"), "{data}");
    assert!(data.contains("X-Case-Id: 42"), "{data}");
    assert!(data.contains("Host web-1 is isolated."), "{data}");
}

#[tokio::test]
async fn html_bodies_are_sanitised_and_sent_with_a_plain_alternative() {
    let (port, mut list) = smtp_server().await;
    send(
        json!({
            "sender": "soc@example.com", "recipients": ["analyst@example.com"], "subject": "Report",
            "body": "<h1>Report</h1><img src=x onerror=alert(1)><script>steal()</script>", "content_type": "text/html",
        }),
        &smtp_secret(port),
    )
    .await
    .unwrap();
    let data = next(&mut list).await.data;
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("This email requires an HTML viewer"), "{data}");
    assert!(data.contains("<h1>Report</h1>"), "{data}");
    assert!(!data.contains("script") && !data.contains("onerror"), "{data}");
}

#[tokio::test]
async fn bad_input_fails_clearly_and_sends_nothing() {
    let (port, mut list) = smtp_server().await;
    let secrets = smtp_secret(port);
    let base = json!({"sender": "soc@example.com", "recipients": ["analyst@example.com"], "subject": "s", "body": "b"});
    let mut bad_sender = base.clone();
    bad_sender["sender"] = json!("soc@example.com\r\nBcc: x@example.com");
    assert!(send(bad_sender, &secrets).await.unwrap_err().contains("Invalid sender email address"));
    let mut bad_type = base.clone();
    bad_type["content_type"] = json!("text/markdown");
    assert!(send(bad_type, &secrets).await.unwrap_err().contains("Unsupported content type"));
    let mut bad_header = base.clone();
    bad_header["headers"] = json!({"X-Injected": "a\r\nBcc: x@example.com"});
    assert!(send(bad_header, &secrets).await.unwrap_err().contains("one line"));
    let error = send(base.clone(), &Map::new()).await.unwrap_err();
    assert!(error.contains("SMTP_HOST"), "{error}");
    let refused = send(base, &smtp_secret(1)).await.unwrap_err();
    assert!(refused.contains("SMTP send to 127.0.0.1:1 failed"), "{refused}");
    assert!(list.try_recv().is_err(), "nothing reached the relay");
}
