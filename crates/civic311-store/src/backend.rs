//! Instantiates the SQL code in `sql/` once per backend. Each module sees its own `Db` type, so
//! the code is ordinary, fully typed sqlx code; `POSTGRES` selects the few statements whose
//! dialects differ. (The files in `sql/` are `include!`d, which is why they carry plain comments
//! instead of module docs.)

pub(crate) mod sqlite {
    pub(crate) type Db = sqlx::Sqlite;
    const POSTGRES: bool = false;
    include!("sql/requests.rs");
    include!("sql/catalog.rs");
    include!("sql/places.rs");
    include!("sql/intake.rs");
    include!("sql/sla.rs");
    include!("sql/work_orders.rs");
    include!("sql/appointments.rs");
    include!("sql/notifications.rs");
    include!("sql/follow_ups.rs");
    include!("sql/bulk.rs");
    include!("sql/activity.rs");
    include!("sql/rollup.rs");
    include!("sql/recount.rs");

    async fn insert_events(conn: &mut Conn, items: &[(i64, &RequestEvent)]) -> Result<()> {
        insert_event_rows(conn, items).await
    }

    // By month in hash maps, read a day at a time through the creation-time indexes, where
    // they are there.
    async fn count_rollups(conn: &mut Conn) -> Result<()> {
        if can_count_by_month(conn).await? {
            count_rollups_by_month(conn).await
        } else {
            count_rollups_by_sql(conn).await
        }
    }
}

pub(crate) mod postgres {
    pub(crate) type Db = sqlx::Postgres;
    const POSTGRES: bool = true;
    include!("sql/requests.rs");
    include!("sql/catalog.rs");
    include!("sql/places.rs");
    include!("sql/intake.rs");
    include!("sql/sla.rs");
    include!("sql/work_orders.rs");
    include!("sql/appointments.rs");
    include!("sql/notifications.rs");
    include!("sql/follow_ups.rs");
    include!("sql/bulk.rs");
    include!("sql/activity.rs");
    include!("sql/rollup.rs");
    include!("sql/copy.rs");

    async fn count_rollups(conn: &mut Conn) -> Result<()> {
        count_rollups_by_sql(conn).await
    }
}
