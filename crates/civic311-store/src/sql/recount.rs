// The roll-ups counted again by UTC month (recount.rs). SQLite only: included by
// backend.rs for it alone. PostgreSQL counts them with its own hash aggregates (rollup.rs).

use crate::recount::{CountedRow, MonthCounts, MonthRows};

// A day's requests (`created_at` in `[$1, $2)`) with their areas, in the order of the
// creation-time index, which holds every column read but the areas: one JSON value, one array
// a row (see `request_json!`: sqlx hands each row of a result across threads).
const DAY_READ: &str = "SELECT json_group_array(json_array(r.key, substr(r.created_at, 1, 10), r.service_code, \
     coalesce(r.department_code, ''), r.channel, r.status, r.outcome, r.close_bin, r.close_seconds, a.layer_id, \
     a.area_id)) FROM service_requests r INDEXED BY service_requests_created \
     LEFT JOIN request_areas a ON a.request_key = r.key WHERE r.created_at >= $1 AND r.created_at < $2";

// Above every creation time that begins with `prefix` (the largest character there is), so
// that a day is a range of the index whatever its text.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

// Whether the creation-time index the days are read through is there (a bulk load builds it
// before counting; without it each day would read the whole table).
async fn can_count_by_month(conn: &mut Conn) -> Result<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'service_requests_created'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

// Counts every request into the empty roll-ups by month, read a UTC day at a time: what is held
// is one day's requests and one month's counts, whatever the store's size (a month of a 10M
// file read at once took the import's peak memory from about 250 to over 400 MiB).
async fn count_rollups_by_month(conn: &mut Conn) -> Result<()> {
    let mut counts = MonthCounts::default();
    let mut pending = MonthRows::default();
    let mut month: Option<String> = None;
    let mut from = String::new();
    loop {
        let first: Option<String> =
            sqlx::query_scalar("SELECT substr(min(created_at), 1, 10) FROM service_requests WHERE created_at >= $1")
                .bind(&from)
                .fetch_one(&mut *conn)
                .await?;
        let next: Option<String> = first.as_deref().map(|day| day.chars().take(7).collect());
        // A month is counted when a day of another one comes, or none.
        if let Some(done) = month.as_deref().filter(|m| Some(*m) != next.as_deref()) {
            pending.append(counts.take_rows(done));
            write_rows(conn, &mut pending, false).await?;
        }
        let Some(day) = first else { break };
        month = next;
        let before = prefix_end(&day);
        let json: String = sqlx::query_scalar(DAY_READ).bind(&day).bind(&before).fetch_one(&mut *conn).await?;
        let rows: Vec<CountedRow> = serde_json::from_str(&json).map_err(StoreError::corrupt)?;
        drop(json);
        // A request's rows (one per area) come together: the areas are the inner loop of the join.
        for request in rows.chunk_by(|a, b| a.key == b.key) {
            counts.add(request);
        }
        from = before;
    }
    write_rows(conn, &mut pending, true).await
}

// Writes the rows of one roll-up in multi-row INSERTs of one length (`columns` values a row,
// 30,000 a statement), prepared once: the rest waits for the next month unless `all`. A month's
// rows of a roll-up are a few thousand at most, and a statement of a new length is parsed
// again, placeholder by placeholder.
async fn insert_counted<T>(
    conn: &mut Conn,
    head: &'static str,
    columns: usize,
    rows: &mut Vec<T>,
    all: bool,
    bind: impl Fn(&mut sqlx::query_builder::Separated<'_, Db, &'static str>, &T),
) -> Result<()> {
    let per = 30_000 / columns;
    let full = rows.len() - rows.len() % per;
    for chunk in rows[..if all { rows.len() } else { full }].chunks(per) {
        let mut q = QueryBuilder::<Db>::new(head);
        q.push_values(chunk, |mut row, item| bind(&mut row, item));
        q.build().persistent(chunk.len() == per).execute(&mut *conn).await?;
    }
    rows.drain(..if all { rows.len() } else { full });
    Ok(())
}

async fn write_rows(conn: &mut Conn, m: &mut MonthRows, all: bool) -> Result<()> {
    insert_counted(
        conn,
        "INSERT INTO request_rollup (grain, period, service_code, department_code, channel, status, outcome, \
         requests, close_seconds) ",
        9,
        &mut m.groups,
        all,
        |row, (grain, period, s, d, c, st, o, n, secs)| {
            row.push_bind(*grain).push_bind(period.clone()).push_bind(s.clone()).push_bind(d.clone());
            row.push_bind(c.clone()).push_bind(st.clone()).push_bind(*o).push_bind(*n).push_bind(*secs);
        },
    )
    .await?;
    insert_counted(
        conn,
        "INSERT INTO close_rollup (grain, period, service_code, department_code, bin, requests) ",
        6,
        &mut m.bins,
        all,
        |row, (grain, period, s, d, bin, n)| {
            row.push_bind(*grain).push_bind(period.clone()).push_bind(s.clone()).push_bind(d.clone());
            row.push_bind(*bin).push_bind(*n);
        },
    )
    .await?;
    insert_counted(
        conn,
        "INSERT INTO close_bin_rollup (grain, period, bin, requests) ",
        4,
        &mut m.city_bins,
        all,
        |row, (grain, period, bin, n)| {
            row.push_bind(*grain).push_bind(period.clone()).push_bind(*bin).push_bind(*n);
        },
    )
    .await?;
    insert_counted(
        conn,
        "INSERT INTO area_rollup (grain, period, layer_id, area_id, service_code, department_code, requests) ",
        7,
        &mut m.areas,
        all,
        |row, (grain, period, l, a, s, d, n)| {
            row.push_bind(*grain).push_bind(period.clone()).push_bind(l.clone()).push_bind(a.clone());
            row.push_bind(s.clone()).push_bind(d.clone()).push_bind(*n);
        },
    )
    .await?;
    insert_counted(
        conn,
        "INSERT INTO area_request_rollup (of_layer, of_area, period, service_code, department_code, channel, \
         status, outcome, requests, close_seconds) ",
        10,
        &mut m.area_groups,
        all,
        |row, (l, a, period, s, d, c, st, o, n, secs)| {
            row.push_bind(l.clone()).push_bind(a.clone()).push_bind(period.clone()).push_bind(s.clone());
            row.push_bind(d.clone()).push_bind(c.clone()).push_bind(st.clone()).push_bind(*o);
            row.push_bind(*n).push_bind(*secs);
        },
    )
    .await?;
    insert_counted(
        conn,
        "INSERT INTO area_close_rollup (of_layer, of_area, period, service_code, department_code, bin, requests) ",
        7,
        &mut m.area_bins,
        all,
        |row, (l, a, period, s, d, bin, n)| {
            row.push_bind(l.clone()).push_bind(a.clone()).push_bind(period.clone()).push_bind(s.clone());
            row.push_bind(d.clone()).push_bind(*bin).push_bind(*n);
        },
    )
    .await?;
    insert_counted(
        conn,
        "INSERT INTO area_pair_rollup (of_layer, of_area, period, service_code, department_code, layer_id, \
         area_id, requests) ",
        8,
        &mut m.pairs,
        all,
        |row, (l, a, period, s, d, ol, oa, n)| {
            row.push_bind(l.clone()).push_bind(a.clone()).push_bind(period.clone()).push_bind(s.clone());
            row.push_bind(d.clone()).push_bind(ol.clone()).push_bind(oa.clone()).push_bind(*n);
        },
    )
    .await
}
