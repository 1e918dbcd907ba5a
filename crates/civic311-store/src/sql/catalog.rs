// Departments and services. Included by backend.rs once per backend.

use civic311_domain::{Department, Service};

use crate::rows::DepartmentRow;

pub(crate) async fn upsert_department(pool: &Pool, d: &Department) -> Result<()> {
    let mut conn = pool.acquire().await?;
    upsert_department_in(&mut conn, d).await
}

async fn upsert_department_in(conn: &mut Conn, d: &Department) -> Result<()> {
    sqlx::query(
        "INSERT INTO departments (code, name, email, phone) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (code) DO UPDATE SET name = $2, email = $3, phone = $4",
    )
    .bind(d.code.as_str())
    .bind(&d.name)
    .bind(d.email.as_deref())
    .bind(d.phone.as_deref())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn departments(pool: &Pool) -> Result<Vec<Department>> {
    let rows: Vec<DepartmentRow> =
        sqlx::query_as("SELECT code, name, email, phone FROM departments ORDER BY name")
            .fetch_all(pool)
            .await?;
    rows.into_iter().map(DepartmentRow::into_department).collect()
}

pub(crate) async fn upsert_service(pool: &Pool, s: &Service) -> Result<()> {
    let mut conn = pool.acquire().await?;
    upsert_service_in(&mut conn, s).await
}

async fn upsert_service_in(conn: &mut Conn, s: &Service) -> Result<()> {
    let sla_amount = s.sla.map(|t| i32::try_from(t.amount).unwrap_or(i32::MAX));
    sqlx::query(
        "INSERT INTO services (code, name, description, service_group, keywords, \
         department_code, attributes, sla_amount, sla_unit, active, sla_by_priority, category) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (code) DO UPDATE SET name = $2, description = $3, service_group = $4, \
         keywords = $5, department_code = $6, attributes = $7, sla_amount = $8, \
         sla_unit = $9, active = $10, sla_by_priority = $11, category = $12",
    )
    .bind(s.code.as_str())
    .bind(&s.name)
    .bind(s.description.as_deref())
    .bind(s.group.as_deref())
    .bind(Json(&s.keywords))
    .bind(s.department.as_ref().map(|d| d.as_str()))
    .bind(Json(&s.attributes))
    .bind(sla_amount)
    .bind(s.sla.map(|t| t.unit.as_str()))
    .bind(s.active)
    .bind(Json(&s.sla_by_priority))
    .bind(s.category.map(|c| c.slug()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn services(pool: &Pool) -> Result<Vec<Service>> {
    let rows: Vec<ServiceRow> =
        sqlx::query_as("SELECT * FROM services ORDER BY service_group, name, code")
            .fetch_all(pool)
            .await?;
    rows.into_iter().map(ServiceRow::into_service).collect()
}

pub(crate) async fn service(pool: &Pool, code: &str) -> Result<Option<Service>> {
    let row: Option<ServiceRow> = sqlx::query_as("SELECT * FROM services WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await?;
    row.map(ServiceRow::into_service).transpose()
}

pub(crate) async fn service_counts(pool: &Pool, limit: u32) -> Result<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT s.code, s.name, COUNT(*) AS n FROM service_requests r \
         JOIN services s ON s.code = r.service_code \
         GROUP BY s.code, s.name ORDER BY n DESC, s.code LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn save_routing(
    pool: &Pool,
    table: &civic311_domain::RoutingTable,
    by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64> {
    let mut tx = begin_write(pool).await?;
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO routing_tables (version, routing, saved_at, saved_by) \
         SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3 FROM routing_tables RETURNING version",
    )
    .bind(sqlx::types::Json(table))
    .bind(now)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}

// The newest routing table and its version; version 0, the empty table, before any was saved.
async fn routing_in(conn: &mut Conn) -> Result<(i64, civic311_domain::RoutingTable)> {
    let row: Option<(i64, sqlx::types::Json<civic311_domain::RoutingTable>)> =
        sqlx::query_as("SELECT version, routing FROM routing_tables ORDER BY version DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(v, t)| (v, t.0)).unwrap_or_default())
}

pub(crate) async fn routing(pool: &Pool) -> Result<(i64, civic311_domain::RoutingTable)> {
    let mut conn = pool.acquire().await?;
    routing_in(&mut conn).await
}

// Saves a catalog document (departments first, then services) and the whole catalog after it
// as the next version, in one transaction. Returns the version.
pub(crate) async fn save_catalog(
    pool: &Pool,
    doc: &civic311_domain::CatalogDocument,
    summary: &str,
    by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64> {
    let mut tx = begin_write(pool).await?;
    for d in &doc.departments {
        upsert_department_in(&mut tx, d).await?;
    }
    for s in &doc.services {
        upsert_service_in(&mut tx, s).await?;
    }
    let departments: Vec<DepartmentRow> =
        sqlx::query_as("SELECT code, name, email, phone FROM departments ORDER BY code").fetch_all(&mut *tx).await?;
    let services: Vec<crate::rows::ServiceRow> =
        sqlx::query_as("SELECT * FROM services ORDER BY code").fetch_all(&mut *tx).await?;
    let whole = civic311_domain::CatalogDocument {
        departments: departments.into_iter().map(DepartmentRow::into_department).collect::<Result<_>>()?,
        services: services.into_iter().map(crate::rows::ServiceRow::into_service).collect::<Result<_>>()?,
    };
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO catalog_versions (version, catalog, summary, saved_at, saved_by) \
         SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3, $4 FROM catalog_versions RETURNING version",
    )
    .bind(Json(&whole))
    .bind(summary)
    .bind(now)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}

pub(crate) async fn catalog_versions(
    pool: &Pool,
) -> Result<Vec<(i64, String, chrono::DateTime<chrono::Utc>, String)>> {
    Ok(sqlx::query_as("SELECT version, summary, saved_at, saved_by FROM catalog_versions ORDER BY version DESC")
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn catalog_version(pool: &Pool, version: i64) -> Result<Option<civic311_domain::CatalogDocument>> {
    let row: Option<Json<civic311_domain::CatalogDocument>> =
        sqlx::query_scalar("SELECT catalog FROM catalog_versions WHERE version = $1")
            .bind(version)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|j| j.0))
}

pub(crate) async fn save_costs(
    pool: &Pool,
    effective_from: chrono::NaiveDate,
    costs: &[civic311_domain::ServiceCost],
    by: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("DELETE FROM service_costs WHERE effective_from = $1")
        .bind(effective_from)
        .execute(&mut *tx)
        .await?;
    for c in costs {
        sqlx::query(
            "INSERT INTO service_costs (effective_from, service_code, labor_minutes, hourly_rate, unit_cost, saved_at, saved_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(effective_from)
        .bind(c.service_code.as_str())
        .bind(c.labor_minutes)
        .bind(c.hourly_rate)
        .bind(c.unit_cost)
        .bind(now)
        .bind(by)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn costs(
    pool: &Pool,
    on: chrono::NaiveDate,
) -> Result<Option<(chrono::NaiveDate, Vec<civic311_domain::ServiceCost>)>> {
    let version: Option<chrono::NaiveDate> = sqlx::query_scalar(
        "SELECT MAX(effective_from) FROM service_costs WHERE effective_from <= $1",
    )
    .bind(on)
    .fetch_one(pool)
    .await?;
    let Some(version) = version else {
        return Ok(None);
    };
    let rows: Vec<(String, f64, f64, f64)> = sqlx::query_as(
        "SELECT service_code, labor_minutes, hourly_rate, unit_cost FROM service_costs \
         WHERE effective_from = $1 ORDER BY service_code",
    )
    .bind(version)
    .fetch_all(pool)
    .await?;
    let costs = rows
        .into_iter()
        .map(|(code, labor_minutes, hourly_rate, unit_cost)| {
            Ok(civic311_domain::ServiceCost {
                service_code: civic311_domain::ServiceCode::parse(&code).map_err(StoreError::corrupt)?,
                labor_minutes,
                hourly_rate,
                unit_cost,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((version, costs)))
}

pub(crate) async fn budget_versions(pool: &Pool) -> Result<Vec<crate::BudgetVersion>> {
    let rows: Vec<(chrono::NaiveDate, i64, chrono::DateTime<chrono::Utc>, String)> = sqlx::query_as(
        "SELECT effective_from, COUNT(*), MAX(saved_at), MAX(saved_by) FROM service_costs \
         GROUP BY effective_from ORDER BY effective_from",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(effective_from, services, saved_at, saved_by)| crate::BudgetVersion {
            effective_from,
            services: services as u64,
            saved_at,
            saved_by,
        })
        .collect())
}
