//! A minimal SMTP server for tests: it accepts every message and keeps it, so a test can read
//! what civic311 mailed. `sink()` gives its `smtp://` URL and the mailbox.

use std::sync::{Arc, Mutex};

/// What the sink was given: (recipients, message), in order.
pub type Mailbox = Arc<Mutex<Vec<(Vec<String>, String)>>>;

pub async fn sink() -> (String, Mailbox) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("SMTP sink");
    let url = format!("smtp://{}", listener.local_addr().expect("SMTP sink"));
    let mailbox = Mailbox::default();
    let kept = mailbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write
                    .write_all(b"220 sink ESMTP\r\n")
                    .await
                    .expect("SMTP sink");
                let mut rcpts = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpts.push(
                            line[8..]
                                .trim()
                                .trim_matches(|c| c == '<' || c == '>')
                                .to_owned(),
                        );
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 go on\r\n").await.expect("SMTP sink");
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        kept.lock()
                            .expect("SMTP sink")
                            .push((std::mem::take(&mut rcpts), data));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.expect("SMTP sink");
                }
            });
        }
    });
    (url, mailbox)
}
