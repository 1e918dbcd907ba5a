// PostgreSQL only (included by backend.rs in its module): an import's events go in as COPY.
// A batch of 10,000 requests writes ~30,000 events; as multi-row INSERTs each value is a bound
// parameter the server parses and plans around, and the events were the largest part of a
// load's time (docs/BENCHMARKS.md §6d). A few events (one request saved) stay an INSERT: COPY
// costs a round trip more.

use std::fmt::Write as _;

const COPY_EVENTS_FROM: usize = 100;

async fn insert_events(conn: &mut Conn, items: &[(i64, &RequestEvent)]) -> Result<()> {
    if items.len() < COPY_EVENTS_FROM {
        return insert_event_rows(conn, items).await;
    }
    let mut text = String::with_capacity(items.len() * 160);
    for (key, e) in items {
        let payload = serde_json::to_string(&e.kind).map_err(StoreError::corrupt)?;
        // The same microseconds sqlx binds (it drops what is finer).
        let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let _ = writeln!(
            text,
            "{key}\t{at}\t{}\t{}\t{}",
            copy_text(&e.actor.to_string()),
            copy_text(e.kind.name()),
            copy_text(&payload)
        );
    }
    let mut copy = conn
        .copy_in_raw("COPY request_events (request_key, at, actor, kind, payload) FROM STDIN")
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

// A value in COPY's text format: backslash, tab, newline and carriage return escaped.
fn copy_text(value: &str) -> std::borrow::Cow<'_, str> {
    if !value.contains(['\\', '\t', '\n', '\r']) {
        return value.into();
    }
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.into()
}
