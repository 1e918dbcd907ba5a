// The roll-ups counted again by UTC month (recount.rs). SQLite only: included by
// backend.rs for it alone. PostgreSQL counts them with its own hash aggregates (rollup.rs).

use crate::recount::{CountedRequest, MonthCounts, MonthRows, PlacedArea};

// A day's requests (`created_at` in `[$1, $2)`), in the order of the creation-time index, which
// holds every column read: one JSON value, one array a request (see `request_json!`: sqlx hands
// each row of a result across threads).
const DAY_READ: &str = "SELECT json_group_array(json_array(key, substr(created_at, 1, 10), service_code, \
     coalesce(department_code, ''), channel, status, outcome, close_bin, close_seconds)) \
     FROM service_requests INDEXED BY service_requests_created WHERE created_at >= $1 AND created_at < $2";

// The same day's areas, from their own creation-time index (an area's `created_at` is its
// request's: requests.rs writes them together), which holds the request's key and the layer
// too. Joined to the requests by key in memory: looked up by key instead, each request's areas
// were a seek into the whole table, in no order the pages are in.
const DAY_AREAS: &str = "SELECT json_group_array(json_array(request_key, layer_id, area_id)) \
     FROM request_areas INDEXED BY request_areas_created WHERE created_at >= $1 AND created_at < $2";

// Above every creation time that begins with `prefix` (the largest character there is), so
// that a day is a range of the index whatever its text.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

// Whether the creation-time indexes the days are read through are there (a bulk load builds
// them before counting; without them each day would read the whole tables).
async fn can_count_by_month(conn: &mut Conn) -> Result<bool> {
    let found: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' \
         AND name IN ('service_requests_created', 'request_areas_created')",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(found == 2)
}

// Reads one JSON array of a day's read.
async fn read_day<T: serde::de::DeserializeOwned>(conn: &mut Conn, sql: &'static str, day: &str, before: &str) -> Result<Vec<T>> {
    let json: String = sqlx::query_scalar(sql).bind(day).bind(before).fetch_one(&mut *conn).await?;
    serde_json::from_str(&json).map_err(StoreError::corrupt)
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
        let requests: Vec<CountedRequest> = read_day(conn, DAY_READ, &day, &before).await?;
        let mut areas: Vec<PlacedArea> = read_day(conn, DAY_AREAS, &day, &before).await?;
        areas.sort_unstable_by_key(|a| a.0);
        for r in &requests {
            let start = areas.partition_point(|a| a.0 < r.key);
            let end = start + areas[start..].partition_point(|a| a.0 == r.key);
            counts.add(r, &areas[start..end]);
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
    let ready = if all { rows.len() } else { rows.len() - rows.len() % per };
    insert_chunks(conn, &rows[..ready], per, |chunk| {
        let mut q = QueryBuilder::<Db>::new(head);
        q.push_values(chunk, |mut row, item| bind(&mut row, item));
        q
    })
    .await?;
    rows.drain(..ready);
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
