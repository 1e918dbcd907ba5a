// Bookable services: schedules, places per day, bookings. Included by backend.rs once per backend.

use chrono::NaiveDate;
use civic311_domain::AppointmentSchedule;

use crate::appointments::Appointment;

const DAY: &str = "%Y-%m-%d";

pub(crate) async fn set_appointment_schedule(pool: &Pool, service: &str, json: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO appointment_schedules (service_code, schedule) VALUES ($1, $2) \
         ON CONFLICT (service_code) DO UPDATE SET schedule = excluded.schedule",
    )
    .bind(service)
    .bind(json)
    .execute(pool)
    .await?;
    Ok(())
}

fn schedule_from(json: &str) -> Result<AppointmentSchedule> {
    serde_json::from_str(json).map_err(|e| StoreError::corrupt(format!("appointment schedule: {e}")))
}

async fn schedules_in(conn: &mut Conn, services: &[&str]) -> Result<Vec<AppointmentSchedule>> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Db>::new("SELECT schedule FROM appointment_schedules WHERE service_code IN ");
    push_texts(&mut q, services);
    let rows: Vec<String> = q.build_query_scalar().fetch_all(&mut *conn).await?;
    rows.iter().map(|j| schedule_from(j)).collect()
}

fn push_texts(q: &mut QueryBuilder<Db>, values: &[&str]) {
    q.push("(");
    let mut list = q.separated(", ");
    for v in values {
        list.push_bind(v.to_string());
    }
    q.push(")");
}

pub(crate) async fn appointment_schedule(pool: &Pool, service: &str) -> Result<Option<AppointmentSchedule>> {
    let mut conn = pool.acquire().await?;
    Ok(schedules_in(&mut conn, &[service]).await?.pop())
}

pub(crate) async fn booked_days(
    pool: &Pool,
    service: &str,
    zone: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<(NaiveDate, u32)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT day, CAST(booked AS BIGINT) FROM appointment_slots \
         WHERE service_code = $1 AND zone = $2 AND day BETWEEN $3 AND $4",
    )
    .bind(service)
    .bind(zone)
    .bind(first.format(DAY).to_string())
    .bind(last.format(DAY).to_string())
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(d, n)| Ok((parse_day(&d)?, u32::try_from(n).unwrap_or(0))))
        .collect()
}

fn parse_day(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, DAY).map_err(|e| StoreError::corrupt(format!("day {text:?}: {e}")))
}

// Takes a place on `day` in `zone`, if fewer than `capacity` are taken. The conditional UPDATE
// is atomic on both databases (PostgreSQL re-checks `booked < capacity` on the locked row), so
// parallel bookings never overfill a day.
async fn take_place(conn: &mut Conn, service: &str, zone: &str, day: NaiveDate, capacity: u32) -> Result<()> {
    let day_text = day.format(DAY).to_string();
    sqlx::query(
        "INSERT INTO appointment_slots (service_code, zone, day) VALUES ($1, $2, $3) \
         ON CONFLICT (service_code, zone, day) DO NOTHING",
    )
    .bind(service)
    .bind(zone)
    .bind(&day_text)
    .execute(&mut *conn)
    .await?;
    let taken = sqlx::query(
        "UPDATE appointment_slots SET booked = booked + 1 \
         WHERE service_code = $1 AND zone = $2 AND day = $3 AND booked < $4",
    )
    .bind(service)
    .bind(zone)
    .bind(&day_text)
    .bind(i64::from(capacity))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if taken == 0 {
        return Err(DomainError::FullyBooked { day }.into());
    }
    Ok(())
}

async fn give_back(conn: &mut Conn, a: &Appointment) -> Result<()> {
    sqlx::query(
        "UPDATE appointment_slots SET booked = booked - 1 \
         WHERE service_code = $1 AND zone = $2 AND day = $3 AND booked > 0",
    )
    .bind(&a.service_code)
    .bind(&a.zone)
    .bind(a.day.format(DAY).to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// For intake: the schedules of the batch's bookable services, by service code.
async fn intake_schedules(
    conn: &mut Conn,
    filings: &[&crate::intake::Filing],
) -> Result<std::collections::HashMap<String, AppointmentSchedule>> {
    let codes: Vec<&str> = filings.iter().map(|f| f.new.service_code.as_str()).collect();
    Ok(schedules_in(conn, &codes)
        .await?
        .into_iter()
        .map(|s| (s.service.to_string(), s))
        .collect())
}

// For intake: books the day a new request asks for (its `appointment_date` answer) and records
// the booking as one of its events; the (zone, day) to save once the request has its key.
async fn book_at_intake(
    conn: &mut Conn,
    schedule: &AppointmentSchedule,
    opened: &mut (ServiceRequest, Vec<RequestEvent>),
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(String, NaiveDate)> {
    let (request, events) = opened;
    let day = civic311_domain::appointments::requested_day(request)?.ok_or_else(|| {
        DomainError::MissingAttribute(civic311_domain::appointments::APPOINTMENT_ATTRIBUTE.into())
    })?;
    let zone = schedule.zone_of(request).ok_or_else(|| DomainError::NotBookable {
        day,
        reason: "the location is outside every service zone".into(),
    })?;
    let capacity = schedule.bookable(&zone, day, now)?;
    take_place(conn, schedule.service.as_str(), &zone, day, capacity).await?;
    events.push(request.appointment_booked(day, &zone, actor.clone(), now));
    Ok((zone, day))
}

async fn save_appointment(conn: &mut Conn, key: i64, a: &Appointment, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO appointments (request_key, service_code, zone, day, state, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (request_key) DO UPDATE SET \
         zone = excluded.zone, day = excluded.day, state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(&a.service_code)
    .bind(&a.zone)
    .bind(a.day.format(DAY).to_string())
    .bind(&a.state)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn appointment_in(conn: &mut Conn, request: &str) -> Result<Option<Appointment>> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT a.service_code, a.zone, a.day, a.state FROM appointments a \
         JOIN service_requests r ON r.key = a.request_key WHERE r.id = $1",
    )
    .bind(request)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(service_code, zone, day, state)| {
        Ok(Appointment { request_id: request.to_owned(), service_code, zone, day: parse_day(&day)?, state })
    })
    .transpose()
}

pub(crate) async fn appointment(pool: &Pool, request: &str) -> Result<Option<Appointment>> {
    let mut conn = pool.acquire().await?;
    appointment_in(&mut conn, request).await
}

pub(crate) async fn reschedule_appointment(
    pool: &Pool,
    request: &str,
    day: NaiveDate,
    reason: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(Appointment, ServiceRequest)> {
    let mut tx = begin_write(pool).await?;
    let (key, mut r) = load_in(&mut tx, request).await?;
    let schedule = schedules_in(&mut tx, &[r.service_code.as_str()])
        .await?
        .pop()
        .ok_or_else(|| DomainError::NotBookable { day, reason: format!("{} is not a bookable service", r.service_code) })?;
    let zone = schedule.zone_of(&r).ok_or_else(|| DomainError::NotBookable {
        day,
        reason: "the location is outside every service zone".into(),
    })?;
    let capacity = schedule.bookable(&zone, day, now)?;
    let old = appointment_in(&mut tx, request).await?.filter(|a| a.state == "booked");
    if old.as_ref().is_some_and(|a| a.day == day && a.zone == zone) {
        return Err(DomainError::NoChange(r.status).into());
    }
    // The new place first: when the day is full, nothing changes.
    take_place(&mut tx, schedule.service.as_str(), &zone, day, capacity).await?;
    let event = match &old {
        Some(a) => {
            give_back(&mut tx, a).await?;
            r.appointment_moved(a.day, day, reason, actor, now)?
        }
        None if r.status.is_closed() => return Err(DomainError::Closed.into()),
        None => r.appointment_booked(day, &zone, actor, now),
    };
    let booked = Appointment {
        request_id: request.to_owned(),
        service_code: schedule.service.to_string(),
        zone,
        day,
        state: "booked".into(),
    };
    save_appointment(&mut tx, key, &booked, now).await?;
    save_in(&mut tx, key, &mut r, &[event]).await?;
    tx.commit().await?;
    Ok((booked, r))
}

pub(crate) async fn cancel_appointment(
    pool: &Pool,
    request: &str,
    reason: &str,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<(Appointment, ServiceRequest)> {
    let mut tx = begin_write(pool).await?;
    let (key, mut r) = load_in(&mut tx, request).await?;
    let mut a = appointment_in(&mut tx, request)
        .await?
        .filter(|a| a.state == "booked")
        .ok_or(DomainError::NoAppointment)?;
    let event = r.appointment_cancelled(a.day, reason, actor, now)?;
    give_back(&mut tx, &a).await?;
    a.state = "cancelled".into();
    save_appointment(&mut tx, key, &a, now).await?;
    save_in(&mut tx, key, &mut r, &[event]).await?;
    tx.commit().await?;
    Ok((a, r))
}
