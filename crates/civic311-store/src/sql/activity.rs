// What happened in a period, from the event log and the contact log. Included by backend.rs once
// per backend.

// (surveys answered with a score, of which scored 1 or 2 out of 5).
macro_rules! scores {
    ($score:literal) => {
        concat!(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN CAST(", $score, " AS INTEGER) <= 2 THEN 1 ELSE 0 END), 0) \
             FROM request_events WHERE kind = 'survey_answered' AND ", $score, " IS NOT NULL"
        )
    };
}
const SCORES: &str = if POSTGRES {
    scores!("payload->>'score'")
} else {
    scores!("json_extract(payload, '$.score')")
};

pub(crate) async fn activity(
    pool: &Pool,
    from: DateTime<Utc>,
    before: DateTime<Utc>,
) -> Result<crate::activity::Activity> {
    let window = |sql: &str, column: &str| {
        let mut q = QueryBuilder::<Db>::new(sql);
        q.push(format!(" AND {column} >= ")).push_bind(from);
        q.push(format!(" AND {column} < ")).push_bind(before);
        q
    };
    let kinds: Vec<(String, i64)> = window(
        "SELECT kind, COUNT(*) FROM request_events WHERE kind IN ('escalated', 'reopened')",
        "at",
    )
    .push(" GROUP BY kind")
    .build_query_as()
    .fetch_all(pool)
    .await?;
    let count = |kind: &str| kinds.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
    let (reassignments, misroutes): (i64, i64) =
        window(MOVES, "at").build_query_as().fetch_one(pool).await?;
    let (surveys_answered, dissatisfied): (i64, i64) =
        window(SCORES, "at").build_query_as().fetch_one(pool).await?;
    let informational_contacts: i64 =
        window("SELECT COUNT(*) FROM informational_contacts WHERE 1 = 1", "started_at")
            .build_query_scalar()
            .fetch_one(pool)
            .await?;
    Ok(crate::activity::Activity {
        informational_contacts,
        escalations: count("escalated"),
        reassignments,
        misroutes,
        reopened: count("reopened"),
        surveys_answered,
        dissatisfied,
    })
}
