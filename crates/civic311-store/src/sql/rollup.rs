// Roll-ups of the requests (see rollup.rs). Included by backend.rs once per backend.

use crate::rollup::{OpenGroup, Piece, RollupQuery};

// The UTC day and month of a creation time, as the grains' periods write them.
const DAY_OF_CREATION: &str =
    if POSTGRES { "to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')" } else { "substr(r.created_at, 1, 10)" };
// The UTC month of creation as grouped (PostgreSQL's to_char is costly on every row: the groups'
// months are written as text once grouped, by `PERIOD_OF_MONTH` of the grouped `month`).
const MONTH_OF_CREATION: &str =
    if POSTGRES { "date_trunc('month', r.created_at AT TIME ZONE 'UTC')" } else { "substr(r.created_at, 1, 7)" };
const PERIOD_OF_MONTH: &str = if POSTGRES { "to_char(month, 'YYYY-MM')" } else { "month" };

// Appends the query's service and department conditions; `r` is the table read.
fn push_rollup_filter(q: &mut QueryBuilder<Db>, f: &RollupQuery) {
    push_service_codes(q, &f.service_codes);
    if let Some(d) = &f.department {
        q.push(" AND r.department_code = ").push_bind(d.as_str().to_owned());
    }
}

// What a query of the requests of a range reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    // Their columns, as `r`.
    Requests,
    // Their keys only (`{key}` in a join): for an area without service or department, its index
    // alone.
    Keys,
    // Their columns through the requests' own indexes (the open requests' index), an area
    // tested request by request: for the few requests an index of theirs picks out.
    Probing,
}

// Appends the requests created in `[from, before)`, `join` (its `{key}` the request's key) and a
// WHERE: from the requests' own index of creation times, or, for an area, from its range of the
// areas' index (the area's requests of the period, whatever it had before or after) joined to
// the requests as `r` where their columns are needed.
fn push_rows(q: &mut QueryBuilder<Db>, f: &RollupQuery, from: DateTime<Utc>, before: DateTime<Utc>, join: &str, read: Read) {
    match &f.area {
        Some(a) if read != Read::Probing => {
            let keys_only = read == Read::Keys && f.service_codes.is_empty() && f.department.is_none();
            if keys_only {
                q.push(" FROM request_areas fa").push(join.replace("{key}", "fa.request_key"));
            } else {
                q.push(" FROM request_areas fa JOIN service_requests r ON r.key = fa.request_key")
                    .push(join.replace("{key}", "r.key"));
            }
            q.push(" WHERE fa.layer_id = ")
                .push_bind(a.layer.as_str().to_owned())
                .push(" AND fa.area_id = ")
                .push_bind(a.area.as_str().to_owned())
                .push(" AND fa.created_at >= ")
                .push_bind(from)
                .push(" AND fa.created_at < ")
                .push_bind(before);
        }
        area => {
            q.push(" FROM service_requests r")
                .push(join.replace("{key}", "r.key"))
                .push(" WHERE r.created_at >= ")
                .push_bind(from)
                .push(" AND r.created_at < ")
                .push_bind(before);
            if let Some(a) = area {
                q.push(" AND EXISTS (SELECT 1 FROM request_areas fa WHERE fa.request_key = r.key AND fa.layer_id = ")
                    .push_bind(a.layer.as_str().to_owned())
                    .push(" AND fa.area_id = ")
                    .push_bind(a.area.as_str().to_owned())
                    .push(")");
            }
        }
    }
}

// What a query counts from the roll-ups: the groups, the close-time bins, the areas, or the
// requests alone.
#[derive(Clone, Copy)]
enum Rollup {
    Groups,
    Bins,
    // The bins of the whole city, no service or department chosen.
    CityBins,
    Areas,
    Count,
}

impl Rollup {
    // The city's roll-up, by grain.
    fn of_city(self) -> &'static str {
        match self {
            Rollup::Groups | Rollup::Count => "request_rollup",
            Rollup::Bins => "close_rollup",
            Rollup::CityBins => "close_bin_rollup",
            Rollup::Areas => "area_rollup",
        }
    }

    // The roll-up by area, by month, and the condition choosing its rows (a count of an area's
    // requests, whatever their outcome, comes from its pairs with itself).
    fn of_area(self) -> (&'static str, &'static str) {
        match self {
            Rollup::Groups => ("area_request_rollup", ""),
            Rollup::Bins | Rollup::CityBins => ("area_close_rollup", ""),
            Rollup::Areas => ("area_pair_rollup", ""),
            Rollup::Count => ("area_pair_rollup", " AND r.layer_id = r.of_layer AND r.area_id = r.of_area"),
        }
    }
}

// Appends where a piece's rows are, with a WHERE: the requests of a range of creation times
// (`push_rows`, with `join` and `read`), or a range of periods of `rollup` as `r`: of a grain of
// the city's, or of months of the query's area.
fn push_piece(q: &mut QueryBuilder<Db>, piece: &Piece, f: &RollupQuery, rollup: Rollup, join: &str, read: Read) {
    match (piece, &f.area) {
        (Piece::Rows { from, before }, _) => push_rows(q, f, *from, *before, join, read),
        (Piece::Grain { from, before, .. }, Some(a)) => {
            let (table, own) = rollup.of_area();
            q.push(" FROM ").push(table).push(" r WHERE r.of_layer = ")
                .push_bind(a.layer.as_str().to_owned())
                .push(" AND r.of_area = ")
                .push_bind(a.area.as_str().to_owned())
                .push(own)
                .push(" AND r.period >= ")
                .push_bind(from.clone())
                .push(" AND r.period < ")
                .push_bind(before.clone());
        }
        (Piece::Grain { grain, from, before }, None) => {
            q.push(" FROM ").push(rollup.of_city()).push(" r WHERE r.grain = ")
                .push_bind(*grain)
                .push(" AND r.period >= ")
                .push_bind(from.clone())
                .push(" AND r.period < ")
                .push_bind(before.clone());
        }
    }
}

pub(crate) async fn rollup_groups(pool: &Pool, piece: &Piece, f: &RollupQuery) -> Result<Vec<(crate::rollup::GroupKey, (i64, i64))>> {
    let mut q = QueryBuilder::<Db>::new("SELECT r.service_code, ");
    match piece {
        Piece::Rows { .. } => q.push(
            "coalesce(r.department_code, ''), r.channel, r.status, r.outcome, CAST(count(*) AS BIGINT), \
             CAST(coalesce(sum(r.close_seconds), 0) AS BIGINT)",
        ),
        Piece::Grain { .. } => q.push(
            "r.department_code, r.channel, r.status, r.outcome, CAST(sum(r.requests) AS BIGINT), \
             CAST(sum(r.close_seconds) AS BIGINT)",
        ),
    };
    push_piece(&mut q, piece, f, Rollup::Groups, "", Read::Requests);
    if matches!(piece, Piece::Rows { .. }) {
        q.push(" AND r.outcome IS NOT NULL");
    }
    push_rollup_filter(&mut q, f);
    q.push(" GROUP BY 1, 2, 3, 4, 5");
    let rows: Vec<(String, String, String, String, i16, i64, i64)> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(service, department, channel, status, outcome, requests, seconds)| {
            ((service, department, channel, status, outcome), (requests, seconds))
        })
        .collect())
}

// Service, department, channel, status, outcome, close bin, requests, sum of close times.
type AreaGroupRow = (String, String, String, String, i16, Option<i64>, i64, i64);

// The groups of an area's requests of a piece of rows with their close-time bins, in one read of
// those requests: (group, close bin, requests, sum of close times).
pub(crate) async fn area_groups_bins(
    pool: &Pool,
    piece: &Piece,
    f: &RollupQuery,
) -> Result<Vec<(crate::rollup::GroupKey, Option<i64>, i64, i64)>> {
    let mut q = QueryBuilder::<Db>::new(
        "SELECT r.service_code, coalesce(r.department_code, ''), r.channel, r.status, r.outcome, r.close_bin, \
         CAST(count(*) AS BIGINT), CAST(coalesce(sum(r.close_seconds), 0) AS BIGINT)",
    );
    push_piece(&mut q, piece, f, Rollup::Groups, "", Read::Requests);
    q.push(" AND r.outcome IS NOT NULL");
    push_rollup_filter(&mut q, f);
    q.push(" GROUP BY 1, 2, 3, 4, 5, 6");
    let rows: Vec<AreaGroupRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(service, department, channel, status, outcome, bin, requests, seconds)| {
            ((service, department, channel, status, outcome), bin, requests, seconds)
        })
        .collect())
}

pub(crate) async fn rollup_bins(pool: &Pool, piece: &Piece, f: &RollupQuery) -> Result<Vec<(i64, i64)>> {
    Ok(bins_query(piece, f, false).build_query_as().fetch_all(pool).await?)
}

// The query of the close-time bins of a piece, (bin, requests), or by service and department
// first (`by_group`). The whole city's months and days are read from its bins by period alone.
fn bins_query(piece: &Piece, f: &RollupQuery, by_group: bool) -> QueryBuilder<Db> {
    let mut q = QueryBuilder::<Db>::new("SELECT ");
    if by_group {
        q.push("r.service_code, coalesce(r.department_code, ''), ");
    }
    q.push(match piece {
        Piece::Rows { .. } => "r.close_bin, CAST(count(*) AS BIGINT)",
        Piece::Grain { .. } => "r.bin, CAST(sum(r.requests) AS BIGINT)",
    });
    let whole_city = !by_group && f.service_codes.is_empty() && f.department.is_none();
    let rollup = if whole_city { Rollup::CityBins } else { Rollup::Bins };
    push_piece(&mut q, piece, f, rollup, "", Read::Requests);
    if matches!(piece, Piece::Rows { .. }) {
        q.push(" AND r.close_bin IS NOT NULL AND r.outcome IS NOT NULL");
    }
    push_rollup_filter(&mut q, f);
    q.push(if by_group { " GROUP BY 1, 2, 3" } else { " GROUP BY 1" });
    q
}

// The two columns naming a request's part of a split (the second empty but for areas), and the
// join that finds them (`sa`, the request's areas, for a split by area). A request's areas are
// found in the areas' index of creation times, by its creation time (the key kept from serving
// as an index's by `+`): the requests of a close-time bin come in order of creation, so theirs
// are the period's run of that index, where looked up by key they were pages all over the
// areas' table (a cold report's medians by area; joining the areas of all the period's requests
// in memory instead took 0.15 s more of a warm 10M report for 0.05 s less of a cold one).
fn split_columns(split: Option<crate::rollup::Split>) -> (&'static str, &'static str, &'static str) {
    use crate::rollup::Split;
    match split {
        None => ("CAST('' AS TEXT)", "CAST('' AS TEXT)", ""),
        Some(Split::Service) => ("r.service_code", "CAST('' AS TEXT)", ""),
        Some(Split::Department) => ("coalesce(r.department_code, '')", "CAST('' AS TEXT)", ""),
        Some(Split::Area) => (
            "sa.layer_id",
            "sa.area_id",
            " JOIN request_areas sa ON sa.created_at = r.created_at AND +sa.request_key = {key}",
        ),
    }
}

// The close-time bins of a piece of the city's requests, by service and department (empty for
// none): (service, department, bin, requests).
pub(crate) async fn rollup_bins_by_group(pool: &Pool, piece: &Piece, f: &RollupQuery) -> Result<Vec<(String, String, i64, i64)>> {
    Ok(bins_query(piece, f, true).build_query_as().fetch_all(pool).await?)
}

// Layer, area, then as `AreaGroupRow`.
type SplitGroupRow = (String, String, String, String, String, String, i16, Option<i64>, i64, i64);

// The groups and close-time bins of the requests of a range of rows, by area: (layer, area,
// group, close bin, requests, sum of close times), one read of those requests.
pub(crate) async fn area_split_rows(
    pool: &Pool,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<Vec<(String, String, crate::rollup::GroupKey, Option<i64>, i64, i64)>> {
    let mut q = QueryBuilder::<Db>::new("");
    push_range_with_areas(
        &mut q,
        (from, before),
        ", r.service_code, coalesce(r.department_code, '') AS department_code, r.channel, r.status, r.outcome, \
         r.close_bin, r.close_seconds",
        |q| {
            q.push(" AND r.outcome IS NOT NULL");
        },
        "",
    );
    q.push(
        " SELECT sa.layer_id, sa.area_id, r.service_code, r.department_code, r.channel, r.status, r.outcome, \
         r.close_bin, CAST(count(*) AS BIGINT), CAST(coalesce(sum(r.close_seconds), 0) AS BIGINT) \
         FROM sa JOIN r ON r.key = sa.request_key GROUP BY 1, 2, 3, 4, 5, 6, 7, 8",
    );
    let rows: Vec<SplitGroupRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(layer, area, service, department, channel, status, outcome, bin, requests, seconds)| {
            (layer, area, (service, department, channel, status, outcome), bin, requests, seconds)
        })
        .collect())
}

// Appends the rows of the areas' own roll-up `table` of months `[from, before)`, as `r`, for
// the areas listed (each found by its key: the areas' roll-ups lead with the area).
fn push_area_months(q: &mut QueryBuilder<Db>, table: &str, areas: &[(String, String)], from: &str, before: &str) {
    // (Both databases name a VALUES list's columns column1, column2.)
    q.push(" FROM (VALUES ");
    for (i, (layer, area)) in areas.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" })
            .push_bind(layer.clone())
            .push(", ")
            .push_bind(area.clone())
            .push(")");
    }
    q.push(") k JOIN ")
        .push(table)
        .push(" r ON r.of_layer = k.column1 AND r.of_area = k.column2 AND r.period >= ")
        .push_bind(from.to_owned())
        .push(" AND r.period < ")
        .push_bind(before.to_owned());
}

// Layer, area, service, department, channel, status, outcome, requests, sum of close times.
type AreaMonthRow = (String, String, String, String, String, String, i16, i64, i64);

// The groups of the listed areas' requests of months `[from, before)` from their roll-ups:
// (layer, area, group, requests, sum of close times).
pub(crate) async fn area_split_groups(
    pool: &Pool,
    areas: &[(String, String)],
    from: &str,
    before: &str,
) -> Result<Vec<(String, String, crate::rollup::GroupKey, i64, i64)>> {
    if areas.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT r.of_layer, r.of_area, r.service_code, r.department_code, r.channel, r.status, r.outcome, \
         CAST(sum(r.requests) AS BIGINT), CAST(sum(r.close_seconds) AS BIGINT)",
    );
    push_area_months(&mut q, "area_request_rollup", areas, from, before);
    q.push(" GROUP BY 1, 2, 3, 4, 5, 6, 7");
    let rows: Vec<AreaMonthRow> = q.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(layer, area, service, department, channel, status, outcome, requests, seconds)| {
            (layer, area, (service, department, channel, status, outcome), requests, seconds)
        })
        .collect())
}

// The close-time bins of the listed areas' requests of months `[from, before)` from their
// roll-ups: (layer, area, bin, requests).
pub(crate) async fn area_split_bins(
    pool: &Pool,
    areas: &[(String, String)],
    from: &str,
    before: &str,
) -> Result<Vec<(String, String, i64, i64)>> {
    if areas.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new("SELECT r.of_layer, r.of_area, r.bin, CAST(sum(r.requests) AS BIGINT)");
    push_area_months(&mut q, "area_close_rollup", areas, from, before);
    q.push(" GROUP BY 1, 2, 3");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

// Opens a query with the city's requests created in `[from, before)` as `r` (their key and
// `columns`, those meeting what `condition` appends) and their areas as `sa` (key, layer, area;
// those meeting `areas_condition`), each read from an index of creation times (a run of each),
// then joined in memory. Each request's areas looked up by its key were a page read each in a
// store read cold: a range's requests are scattered over their table.
fn push_range_with_areas(
    q: &mut QueryBuilder<Db>,
    (from, before): (DateTime<Utc>, DateTime<Utc>),
    columns: &str,
    condition: impl FnOnce(&mut QueryBuilder<Db>),
    areas_condition: &str,
) {
    q.push("WITH r AS MATERIALIZED (SELECT r.key")
        .push(columns)
        .push(" FROM service_requests r WHERE r.created_at >= ")
        .push_bind(from)
        .push(" AND r.created_at < ")
        .push_bind(before);
    condition(q);
    q.push("), sa AS MATERIALIZED (SELECT request_key, layer_id, area_id FROM request_areas WHERE created_at >= ")
        .push_bind(from)
        .push(" AND created_at < ")
        .push_bind(before)
        .push(areas_condition)
        .push(")");
}

pub(crate) async fn rollup_areas(pool: &Pool, piece: &Piece, f: &RollupQuery) -> Result<Vec<(String, String, i64)>> {
    if let (Piece::Rows { from, before }, None) = (piece, &f.area) {
        // Every area of the city's requests read, in every layer.
        let mut q = QueryBuilder::<Db>::new("");
        push_range_with_areas(&mut q, (*from, *before), "", |q| push_rollup_filter(q, f), "");
        q.push(" SELECT sa.layer_id, sa.area_id, CAST(count(*) AS BIGINT) FROM sa JOIN r ON r.key = sa.request_key GROUP BY 1, 2");
        return Ok(q.build_query_as().fetch_all(pool).await?);
    }
    let mut q = QueryBuilder::<Db>::new(match piece {
        Piece::Rows { .. } => "SELECT a.layer_id, a.area_id, CAST(count(*) AS BIGINT)",
        Piece::Grain { .. } => "SELECT r.layer_id, r.area_id, CAST(sum(r.requests) AS BIGINT)",
    });
    // Every area of the requests read, in every layer.
    push_piece(&mut q, piece, f, Rollup::Areas, " JOIN request_areas a ON a.request_key = {key}", Read::Keys);
    push_rollup_filter(&mut q, f);
    q.push(" GROUP BY 1, 2");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

pub(crate) async fn rollup_count(pool: &Pool, piece: &Piece, f: &RollupQuery) -> Result<i64> {
    let mut q = QueryBuilder::<Db>::new(match piece {
        Piece::Rows { .. } => "SELECT CAST(count(*) AS BIGINT)",
        Piece::Grain { .. } => "SELECT CAST(coalesce(sum(r.requests), 0) AS BIGINT)",
    });
    // Every request, whether its outcome is computed yet or not: a count needs no table row.
    push_piece(&mut q, piece, f, Rollup::Count, "", Read::Keys);
    push_rollup_filter(&mut q, f);
    Ok(q.build_query_scalar().fetch_one(pool).await?)
}

// The requests of each month of `[from, before)` (`YYYY-MM`), of the query's area if it has one.
pub(crate) async fn rollup_months_counts(pool: &Pool, f: &RollupQuery, from: &str, before: &str) -> Result<Vec<(String, i64)>> {
    let mut q = QueryBuilder::<Db>::new("SELECT r.period, CAST(sum(r.requests) AS BIGINT)");
    let months = Piece::Grain { grain: 2, from: from.to_owned(), before: before.to_owned() };
    push_piece(&mut q, &months, f, Rollup::Count, "", Read::Keys);
    push_rollup_filter(&mut q, f);
    q.push(" GROUP BY 1");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

// The first and the last month of the month grain.
pub(crate) async fn rollup_months(pool: &Pool) -> Result<Option<(String, String)>> {
    let row: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT min(period), max(period) FROM request_rollup WHERE grain = 2 AND requests > 0")
            .fetch_one(pool)
            .await?;
    Ok(row.0.zip(row.1))
}

pub(crate) async fn open_groups(
    pool: &Pool,
    f: &RollupQuery,
    now: DateTime<Utc>,
    born_after: &[DateTime<Utc>],
    split: Option<crate::rollup::Split>,
) -> Result<Vec<(crate::rollup::SplitKey, OpenGroup)>> {
    let (k1, k2, join) = split_columns(split);
    let mut q = QueryBuilder::<Db>::new("");
    let open_of_query = |q: &mut QueryBuilder<Db>| {
        q.push(" AND r.status <> 'closed' AND r.outcome IS NOT NULL");
        push_rollup_filter(q, f);
    };
    // The city's by area: the open requests (their own index) joined to their areas (those of
    // open outcomes in the areas' index of creation times).
    let by_area = f.area.is_none() && split == Some(crate::rollup::Split::Area);
    if by_area {
        push_range_with_areas(
            &mut q,
            (f.from, f.before),
            ", r.created_at, r.due_at, r.outcome, r.channel",
            open_of_query,
            &format!(" AND outcome < {}", crate::rollup::OPEN_OUTCOMES_BELOW),
        );
    }
    q.push("SELECT ").push(k1).push(", ").push(k2).push(", CAST(CASE");
    for (i, t) in born_after.iter().enumerate() {
        q.push(" WHEN r.created_at > ").push_bind(*t).push(" THEN ").push(i.to_string());
    }
    q.push(" ELSE ")
        .push(born_after.len().to_string())
        .push(" END AS BIGINT), CAST(CASE WHEN r.due_at < ")
        .push_bind(now)
        .push(" THEN 1 ELSE 0 END AS BIGINT), r.outcome, r.channel, CAST(count(*) AS BIGINT)");
    if f.area.is_some() {
        // An area's: found in its index by the outcome kept beside each of its requests (the
        // open ones' codes are below OPEN_OUTCOMES_BELOW), then read. (Through the city's open
        // requests, each tested for the area, a neighborhood's year read 19,000 of them at 10M:
        // 150 ms.)
        push_rows(&mut q, f, f.from, f.before, "", Read::Requests);
        q.push(" AND fa.outcome < ").push(crate::rollup::OPEN_OUTCOMES_BELOW.to_string());
    } else if by_area {
        q.push(" FROM sa JOIN r ON r.key = sa.request_key");
    } else {
        // Few: through their own index.
        push_rows(&mut q, f, f.from, f.before, join, Read::Probing);
    }
    if !by_area {
        open_of_query(&mut q);
    }
    q.push(" GROUP BY 1, 2, 3, 4, 5, 6");
    let rows: Vec<(String, String, i64, i64, i16, String, i64)> = q.build_query_as().fetch_all(pool).await?;
    rows.into_iter()
        .map(|(k1, k2, age, overdue, outcome, channel, requests)| {
            let group = OpenGroup {
                age: usize::try_from(age).unwrap_or(0),
                overdue: overdue == 1,
                outcome,
                channel,
                requests: u64::try_from(requests).map_err(StoreError::corrupt)?,
            };
            Ok(((k1, k2), group))
        })
        .collect()
}

// The close times of ranks `[from, before)` (from 0, in ascending order) within close-time bins
// of the query's requests, all in one read: (bin, rank, seconds). Read through the close-time
// index of the range (for an area, each request of a bin tested for it: a bin holds a few
// percent of the city's requests, where the area's requests of the range are all of them).
pub(crate) async fn close_times_in(pool: &Pool, f: &RollupQuery, wanted: &[(i64, i64, i64)]) -> Result<Vec<(i64, i64, i64)>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT t.close_bin, t.nth, t.close_seconds FROM (SELECT r.close_bin, r.close_seconds, \
         CAST(row_number() OVER (PARTITION BY r.close_bin ORDER BY r.close_seconds) - 1 AS BIGINT) AS nth",
    );
    push_rows(&mut q, f, f.from, f.before, "", Read::Probing);
    q.push(" AND r.close_bin IN (");
    let mut bins = q.separated(", ");
    for (bin, ..) in wanted {
        bins.push_bind(*bin);
    }
    q.push(")");
    push_rollup_filter(&mut q, f);
    q.push(") t WHERE");
    for (i, (bin, from, before)) in wanted.iter().enumerate() {
        q.push(if i == 0 { " (" } else { " OR (" })
            .push("t.close_bin = ")
            .push_bind(*bin)
            .push(" AND t.nth >= ")
            .push_bind(*from)
            .push(" AND t.nth < ")
            .push_bind(*before)
            .push(")");
    }
    Ok(q.build_query_as().fetch_all(pool).await?)
}

// As `close_times_in`, for the parts of a split of the query's requests at once: every close
// time of each (part, bin) of `wanted` with its rank within them, (part, bin, rank, seconds)
// (the caller keeps the ranks it wants). Only the requests of those bins are ranked: found
// through the close-time index, each tested for its pair of part and bin in a list.
pub(crate) async fn close_times_split(
    pool: &Pool,
    f: &RollupQuery,
    split: crate::rollup::Split,
    wanted: &[(crate::rollup::SplitKey, i64)],
) -> Result<Vec<(String, String, i64, i64, i64)>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let (k1, k2, join) = split_columns(Some(split));
    let mut q = QueryBuilder::<Db>::new(format!(
        "SELECT {k1}, {k2}, r.close_bin, CAST(row_number() OVER (PARTITION BY {k1}, {k2}, r.close_bin \
         ORDER BY r.close_seconds) - 1 AS BIGINT), r.close_seconds"
    ));
    push_rows(&mut q, f, f.from, f.before, join, Read::Probing);
    q.push(" AND r.close_bin IN (");
    let mut bins = q.separated(", ");
    let mut distinct: Vec<i64> = wanted.iter().map(|w| w.1).collect();
    distinct.sort_unstable();
    distinct.dedup();
    for bin in distinct {
        bins.push_bind(bin);
    }
    // The part's column as an expression (`|| ''`), which no index serves: PostgreSQL otherwise
    // found each (service, bin) pair through the index of services, visiting every request of
    // the service in the month (1.4 s of a cold 10M report, against 0.18 s through the
    // close-time index, which holds the service and needs no visit).
    q.push(format!(") AND ({k1} || '', {k2}, r.close_bin) IN (VALUES "));
    for (i, ((k1, k2), bin)) in wanted.iter().enumerate() {
        q.push(if i == 0 { "(" } else { ", (" })
            .push_bind(k1.clone())
            .push(", ")
            .push_bind(k2.clone())
            .push(", ")
            .push_bind(*bin)
            .push(")");
    }
    q.push(")");
    push_rollup_filter(&mut q, f);
    Ok(q.build_query_as().fetch_all(pool).await?)
}

// Counts every request again into empty roll-ups: the days from the requests, the months from
// the days.
pub(crate) async fn rebuild_rollups(pool: &Pool) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    rebuild_rollups_in(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

// Empties the roll-ups and counts them again (`count_rollups`, one per backend: backend.rs).
async fn rebuild_rollups_in(conn: &mut Conn) -> Result<()> {
    for table in [
        "request_rollup",
        "close_rollup",
        "close_bin_rollup",
        "area_rollup",
        "area_request_rollup",
        "area_close_rollup",
        "area_pair_rollup",
    ] {
        // A constant name.
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}"))).execute(&mut *conn).await?;
    }
    count_rollups(conn).await
}

// Counts every request into the empty roll-ups by grouping statements. Each roll-up is written
// in the order of its key: PostgreSQL keeps rows where they were inserted, and a year's groups
// read through the key index from rows in hash order cost a page read each (10M requests:
// 116,000 pages and 240 ms for a year's close-time bins, 50 ms in key order). SQLite's
// roll-ups are stored in key order anyway (WITHOUT ROWID); it counts them this way only
// without its creation-time index (sql/recount.rs).
async fn count_rollups_by_sql(conn: &mut Conn) -> Result<()> {
    if POSTGRES {
        // Groups of millions of rows hashed in memory, not sorted on disk (4 MB by default): the
        // area roll-ups of 1M requests took 2.5 times as long.
        sqlx::query("SET LOCAL work_mem = '256MB'").execute(&mut *conn).await?;
    }
    let statements = [
        format!(
            "INSERT INTO request_rollup (grain, period, service_code, department_code, channel, status, \
             outcome, requests, close_seconds) \
             SELECT 1, {DAY_OF_CREATION}, r.service_code, coalesce(r.department_code, ''), r.channel, r.status, \
             r.outcome, count(*), coalesce(sum(r.close_seconds), 0) \
             FROM service_requests r WHERE r.outcome IS NOT NULL GROUP BY 2, 3, 4, 5, 6, 7 ORDER BY 2, 3, 4, 5, 6, 7"
        ),
        format!(
            "INSERT INTO close_rollup (grain, period, service_code, department_code, bin, requests) \
             SELECT 1, {DAY_OF_CREATION}, r.service_code, coalesce(r.department_code, ''), r.close_bin, count(*) \
             FROM service_requests r WHERE r.outcome IS NOT NULL AND r.close_bin IS NOT NULL GROUP BY 2, 3, 4, 5 \
             ORDER BY 2, 3, 4, 5"
        ),
        format!(
            "INSERT INTO area_rollup (grain, period, layer_id, area_id, service_code, department_code, requests) \
             SELECT 1, {DAY_OF_CREATION}, a.layer_id, a.area_id, r.service_code, coalesce(r.department_code, ''), \
             count(*) FROM request_areas a JOIN service_requests r ON r.key = a.request_key GROUP BY 2, 3, 4, 5, 6 \
             ORDER BY 2, 3, 4, 5, 6"
        ),
        "INSERT INTO request_rollup (grain, period, service_code, department_code, channel, status, outcome, \
         requests, close_seconds) \
         SELECT 2, substr(period, 1, 7), service_code, department_code, channel, status, outcome, sum(requests), \
         sum(close_seconds) FROM request_rollup WHERE grain = 1 GROUP BY 2, 3, 4, 5, 6, 7 ORDER BY 2, 3, 4, 5, 6, 7"
            .to_owned(),
        "INSERT INTO close_rollup (grain, period, service_code, department_code, bin, requests) \
         SELECT 2, substr(period, 1, 7), service_code, department_code, bin, sum(requests) \
         FROM close_rollup WHERE grain = 1 GROUP BY 2, 3, 4, 5 ORDER BY 2, 3, 4, 5"
            .to_owned(),
        "INSERT INTO close_bin_rollup (grain, period, bin, requests) \
         SELECT grain, period, bin, sum(requests) FROM close_rollup GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            .to_owned(),
        "INSERT INTO area_rollup (grain, period, layer_id, area_id, service_code, department_code, requests) \
         SELECT 2, substr(period, 1, 7), layer_id, area_id, service_code, department_code, sum(requests) \
         FROM area_rollup WHERE grain = 1 GROUP BY 2, 3, 4, 5, 6 ORDER BY 2, 3, 4, 5, 6"
            .to_owned(),
        // By area, months only: the areas joined to their requests once, grouped by everything
        // the two roll-ups tell apart, then each roll-up from those groups.
        format!(
            "CREATE TEMP TABLE area_groups AS SELECT a.layer_id, a.area_id, {MONTH_OF_CREATION} AS month, \
             r.service_code, coalesce(r.department_code, '') AS department_code, r.channel, r.status, r.outcome, \
             r.close_bin, count(*) AS requests, coalesce(sum(r.close_seconds), 0) AS close_seconds \
             FROM request_areas a JOIN service_requests r ON r.key = a.request_key WHERE r.outcome IS NOT NULL \
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9"
        ),
        format!(
            "INSERT INTO area_request_rollup (of_layer, of_area, period, service_code, department_code, channel, \
             status, outcome, requests, close_seconds) \
             SELECT layer_id, area_id, {PERIOD_OF_MONTH}, service_code, department_code, channel, status, outcome, \
             sum(requests), sum(close_seconds) FROM area_groups GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 \
             ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
        ),
        format!(
            "INSERT INTO area_close_rollup (of_layer, of_area, period, service_code, department_code, bin, requests) \
             SELECT layer_id, area_id, {PERIOD_OF_MONTH}, service_code, department_code, close_bin, sum(requests) \
             FROM area_groups WHERE close_bin IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        ),
        "DROP TABLE area_groups".to_owned(),
        // An area paired with itself counts what the month's area roll-up counts, so only the
        // pairs of two layers are joined and grouped (a third less time on SQLite at 1M).
        format!(
            "INSERT INTO area_pair_rollup (of_layer, of_area, period, service_code, department_code, layer_id, \
             area_id, requests) \
             SELECT * FROM (SELECT layer_id, area_id, period, service_code, department_code, layer_id, area_id, \
             requests FROM area_rollup WHERE grain = 2 \
             UNION ALL \
             SELECT of_layer, of_area, {PERIOD_OF_MONTH}, service_code, department_code, layer_id, area_id, requests \
             FROM (SELECT a.layer_id AS of_layer, a.area_id AS of_area, {MONTH_OF_CREATION} AS month, \
             r.service_code, coalesce(r.department_code, '') AS department_code, o.layer_id, o.area_id, \
             count(*) AS requests FROM request_areas a \
             JOIN request_areas o ON o.request_key = a.request_key AND o.layer_id <> a.layer_id \
             JOIN service_requests r ON r.key = a.request_key GROUP BY 1, 2, 3, 4, 5, 6, 7) g) pairs \
             ORDER BY 1, 2, 3, 4, 5, 6, 7"
        ),
    ];
    for statement in statements {
        // Built from constants only.
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *conn).await?;
    }
    Ok(())
}

// Computes the outcome of up to `limit` requests stored before outcomes were (the oldest
// first). Returns how many.
pub(crate) async fn refresh_outcomes(pool: &Pool, limit: i64) -> Result<usize> {
    let mut tx = begin_write(pool).await?;
    let mut q = QueryBuilder::<Db>::new(REQUESTS_JSON);
    q.push(" WHERE r.outcome IS NULL ORDER BY r.key LIMIT ").push_bind(limit).push(")").push(REQUESTS_END);
    let page = fetch_requests(&mut tx, q, false).await?;
    for (key, r) in &page {
        let outcome = Outcome::of(r);
        sqlx::query("UPDATE service_requests SET outcome = $1, close_seconds = $2, close_bin = $3 WHERE key = $4")
            .bind(outcome.code())
            .bind(outcome.close_seconds)
            .bind(outcome.close_bin())
            .bind(key)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(page.len())
}
