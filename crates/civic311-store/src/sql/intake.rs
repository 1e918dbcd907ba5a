// Intake support: API keys, Open311 tokens, uploaded media. Included by backend.rs once per backend.

pub(crate) async fn insert_api_key(
    pool: &Pool,
    name: &str,
    sha256: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO api_keys (name, key_sha256, created_at, role) VALUES ($1, $2, $3, $4)")
        .bind(name)
        .bind(sha256)
        .bind(now)
        .bind(role)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn api_key(pool: &Pool, sha256: &str) -> Result<Option<(String, String)>> {
    Ok(sqlx::query_as("SELECT name, role FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL")
        .bind(sha256)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn revoke_api_keys(pool: &Pool, name: &str, now: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL")
        .bind(name)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected())
}

// Files requests, each with its token if it has one, in one transaction: the Open311 POSTs that
// queued while the previous batch was written (group commit, see intake.rs), or one request
// filed by staff. A request the rules refuse gets
// its own error and is not written; the others are. A database error fails the whole batch and
// writes nothing.
pub(crate) async fn file_requests(
    pool: &Pool,
    filings: &[&crate::intake::Filing],
) -> Result<Vec<Result<ServiceRequest>>> {
    let mut tx = begin_write(pool).await?;
    let mut q = QueryBuilder::<Db>::new("SELECT * FROM services WHERE code IN (");
    let mut list = q.separated(", ");
    for f in filings {
        list.push_bind(f.new.service_code.as_str().to_owned());
    }
    q.push(")");
    let services: Vec<ServiceRow> = q.build_query_as().fetch_all(&mut *tx).await?;
    let services = services
        .into_iter()
        .map(|row| {
            let service = row.into_service()?;
            Ok((service.code.to_string(), service))
        })
        .collect::<Result<std::collections::HashMap<String, _>>>()?;
    let (_, routing) = routing_in(&mut tx).await?;
    let schedules = intake_schedules(&mut tx, filings).await?;
    let mut bookings = std::collections::HashMap::new();
    let placeholder = ServiceRequestId::parse("new").map_err(StoreError::corrupt)?;
    let mut results: Vec<Option<Result<ServiceRequest>>> = filings.iter().map(|_| None).collect();
    // The requests (with their events) still to be given a free number and written, and the
    // index of the filing each came from.
    let mut pending = Vec::new();
    let mut origin = Vec::new();
    // Calendars by department, read once per batch.
    let mut calendars = std::collections::HashMap::new();
    for (i, f) in filings.iter().enumerate() {
        let code = f.new.service_code.as_str();
        let Some(service) = services.get(code) else {
            results[i] = Some(Err(DomainError::UnknownService(code.to_owned()).into()));
            continue;
        };
        let route = routing.route(service, &f.new.location.areas, f.now);
        let department = route.department.as_ref().map(|d| d.to_string());
        if !calendars.contains_key(&department) {
            let calendar = calendar_in(&mut tx, department.as_deref()).await?;
            calendars.insert(department.clone(), calendar);
        }
        let calendar = calendars.get(&department).and_then(Option::as_ref);
        let opened = ServiceRequest::open_routed(
            placeholder.clone(),
            f.new.clone(),
            service,
            Some(route),
            calendar,
            f.actor.clone(),
            f.now,
        );
        let mut opened = match opened {
            Ok(r) => r,
            Err(e) => {
                results[i] = Some(Err(e.into()));
                continue;
            }
        };
        // A bookable service: the day asked for is taken in this transaction, or the filing is
        // refused (a full day is the resident's to change, not the batch's).
        if let Some(schedule) = schedules.get(code) {
            match book_at_intake(&mut tx, schedule, &mut opened, &f.actor, f.now).await {
                Ok(booking) => {
                    bookings.insert(i, booking);
                }
                Err(e @ StoreError::Domain(_)) => {
                    results[i] = Some(Err(e));
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        pending.push(opened);
        origin.push(i);
    }
    let mut filed: Vec<(usize, i64)> = Vec::with_capacity(pending.len());
    // Imported requests keep their source's ids, which may collide with our numbers: a request
    // whose number is taken goes round again with the next free one.
    while !pending.is_empty() {
        let numbers = next_numbers(&mut tx, pending.len()).await?;
        for ((r, _), n) in pending.iter_mut().zip(numbers) {
            r.id = ServiceRequestId::parse(n.to_string()).map_err(StoreError::corrupt)?;
        }
        let keys = insert_many(&mut tx, &pending).await?;
        let (mut again, mut again_origin) = (Vec::new(), Vec::new());
        for ((request, i), key) in pending.into_iter().zip(origin).zip(keys) {
            match key {
                Some(key) => {
                    filed.push((i, key));
                    results[i] = Some(Ok(request.0));
                }
                None => {
                    again.push(request);
                    again_origin.push(i);
                }
            }
        }
        (pending, origin) = (again, again_origin);
    }
    for (i, key) in &filed {
        if let Some((zone, day)) = bookings.remove(i) {
            let booked = crate::appointments::Appointment {
                request_id: String::new(),
                service_code: filings[*i].new.service_code.to_string(),
                zone,
                day,
                state: "booked".into(),
            };
            save_appointment(&mut tx, *key, &booked, filings[*i].now).await?;
        }
    }
    let tokens: Vec<(&str, i64, DateTime<Utc>)> = filed
        .iter()
        .filter_map(|(i, key)| Some((filings[*i].token.as_deref()?, *key, filings[*i].now)))
        .collect();
    if !tokens.is_empty() {
        let mut q = QueryBuilder::<Db>::new("INSERT INTO request_tokens (token, request_key, created_at) ");
        q.push_values(&tokens, |mut row, (token, key, now)| {
            row.push_bind(*token).push_bind(*key).push_bind(*now);
        });
        q.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StoreError::corrupt("a filing was neither filed nor refused"))))
        .collect())
}

pub(crate) async fn token(pool: &Pool, token: &str) -> Result<Option<Option<String>>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT r.id FROM request_tokens t LEFT JOIN service_requests r ON r.key = t.request_key \
         WHERE t.token = $1",
    )
    .bind(token)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| id))
}

pub(crate) async fn insert_media(
    pool: &Pool,
    id: &str,
    content_type: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO media (id, content_type, bytes, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(content_type)
        .bind(bytes)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn media(pool: &Pool, id: &str) -> Result<Option<(String, Vec<u8>)>> {
    Ok(sqlx::query_as("SELECT content_type, bytes FROM media WHERE id = $1 AND public = $2")
        .bind(id)
        .bind(true)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn sync_cursor(pool: &Pool, source: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT cursor FROM sync_cursors WHERE source = $1")
        .bind(source)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn set_sync_cursor(pool: &Pool, source: &str, cursor: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO sync_cursors (source, cursor, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
    )
    .bind(source)
    .bind(cursor)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn add_comment(
    pool: &Pool,
    id: &str,
    c: &crate::intake::Comment,
    now: DateTime<Utc>,
) -> Result<crate::intake::CommentSaved> {
    let mut tx = begin_write(pool).await?;
    // Locks the request on PostgreSQL, so two deliveries of one comment are serialized here.
    let (key, mut r) = load_in(&mut tx, id).await?;
    if let Some(external) = &c.external_id {
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT event_seq FROM external_updates WHERE client = $1 AND external_id = $2",
        )
        .bind(&c.client)
        .bind(external)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(seq) = seen {
            return Ok(crate::intake::CommentSaved { seq, duplicate: true, request: r });
        }
    }
    let actor = Actor::ApiClient(c.client.clone());
    let mut events = Vec::new();
    if c.reopen && r.status.is_closed() {
        events.push(r.reopen("the resident reports it is not fixed", actor.clone(), now)?);
    }
    events.push(r.add_note(&c.text, true, actor, now)?);
    save_in(&mut tx, key, &mut r, &events).await?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT MAX(seq) FROM request_events WHERE request_key = $1 AND kind = 'note_added'",
    )
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    if let Some(external) = &c.external_id {
        sqlx::query(
            "INSERT INTO external_updates (client, external_id, request_key, event_seq) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&c.client)
        .bind(external)
        .bind(key)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(crate::intake::CommentSaved { seq, duplicate: false, request: r })
}
