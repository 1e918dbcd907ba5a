// Area layers and informational contacts. Included by backend.rs once per backend.

use civic311_domain::InformationalContact;

use crate::areas::{Area, Placement};

pub(crate) async fn upsert_areas(pool: &Pool, layer: &str, name: &str, areas: &[Area]) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("INSERT INTO area_layers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = $2")
        .bind(layer)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    for a in areas {
        sqlx::query(
            "INSERT INTO areas (layer_id, area_id, name, geometry) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (layer_id, area_id) DO UPDATE SET name = $3, geometry = $4",
        )
        .bind(layer)
        .bind(a.id.as_str())
        .bind(a.name.as_deref())
        .bind(a.geometry.as_deref())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn area_counts(pool: &Pool, layer: &str) -> Result<Vec<(String, Option<String>, i64)>> {
    Ok(sqlx::query_as(
        "SELECT a.area_id, a.name, COUNT(ra.request_key) AS requests FROM areas a \
         LEFT JOIN request_areas ra ON ra.layer_id = a.layer_id AND ra.area_id = a.area_id \
         WHERE a.layer_id = $1 GROUP BY a.area_id, a.name ORDER BY requests DESC, a.area_id",
    )
    .bind(layer)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn record_contact(pool: &Pool, c: &InformationalContact) -> Result<i64> {
    let duration = c.duration_secs.map(|d| i32::try_from(d).unwrap_or(i32::MAX));
    Ok(sqlx::query_scalar(
        "INSERT INTO informational_contacts (topic, channel, started_at, duration_secs, article, \
         answered_by, area_layer, area_id, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&c.topic)
    .bind(c.channel.as_str())
    .bind(c.started_at)
    .bind(duration)
    .bind(c.article.as_deref())
    .bind(c.answered_by.as_deref())
    .bind(c.area.as_ref().map(|a| a.layer.as_str()))
    .bind(c.area.as_ref().map(|a| a.area.as_str()))
    .bind(c.request_id.as_ref().map(|r| r.as_str()))
    .fetch_one(pool)
    .await?)
}

pub(crate) async fn contact_counts(pool: &Pool) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT topic, COUNT(*) AS n FROM informational_contacts GROUP BY topic ORDER BY n DESC, topic",
    )
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn area_names(pool: &Pool, layer: &str) -> Result<Vec<(String, Option<String>)>> {
    Ok(sqlx::query_as("SELECT area_id, name FROM areas WHERE layer_id = $1 ORDER BY area_id")
        .bind(layer)
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn area_geometries(pool: &Pool) -> Result<Vec<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT layer_id, area_id, geometry FROM areas WHERE geometry IS NOT NULL ORDER BY layer_id, area_id",
    )
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn area_layers(pool: &Pool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM area_layers ORDER BY id").fetch_all(pool).await?)
}

pub(crate) async fn layers_in_use(pool: &Pool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        // The layers of request_areas one index seek each (a loose index scan), not a scan of
        // every placement: a few layers among tens of millions of rows.
        "WITH RECURSIVE used(layer_id) AS ( \
             SELECT MIN(layer_id) FROM request_areas \
             UNION ALL \
             SELECT (SELECT MIN(a.layer_id) FROM request_areas a WHERE a.layer_id > used.layer_id) \
             FROM used WHERE used.layer_id IS NOT NULL) \
         SELECT id FROM area_layers UNION SELECT layer_id FROM used WHERE layer_id IS NOT NULL ORDER BY 1",
    )
    .fetch_all(pool)
    .await?)
}

// Stored requests with a point and no area in `layer`: (key, lat, long, created_at, outcome),
// by key, after `after`.
pub(crate) async fn unplaced(
    pool: &Pool,
    layer: &str,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, f64, f64, DateTime<Utc>, Option<i16>)>> {
    Ok(sqlx::query_as(
        "SELECT r.key, r.lat, r.long, r.created_at, r.outcome FROM service_requests r WHERE r.lat IS NOT NULL AND r.key > $1 \
         AND NOT EXISTS (SELECT 1 FROM request_areas a WHERE a.request_key = r.key AND a.layer_id = $2) \
         ORDER BY r.key LIMIT $3",
    )
    .bind(after)
    .bind(layer)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn add_request_areas(
    pool: &Pool,
    layer: &str,
    placed: &[Placement],
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    for chunk in placed.chunks(ROWS_PER_INSERT / 4) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO request_areas (request_key, layer_id, area_id, created_at, outcome) ",
        );
        q.push_values(chunk, |mut row, (key, area, created_at, outcome)| {
            row.push_bind(*key).push_bind(layer).push_bind(area.as_str()).push_bind(*created_at).push_bind(*outcome);
        });
        q.push(" ON CONFLICT (request_key, layer_id) DO NOTHING");
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
