//! The [`Summary`] from the store's roll-ups (civic311-store's rollup.rs): counts read by group,
//! the open requests read for their age and lateness, and the median and p90 found by close-time
//! bin, so its cost grows with the groups, not with the requests. It gives the very numbers of
//! the summary computed from every request ([`crate::summary::summarize_rows`], the reference it
//! is tested against).

use chrono::{DateTime, Duration, Utc};
use civic311_domain::Channel;
use civic311_domain::outcome::{Ending, Outcome, Target, bin_range};
use civic311_store::{RequestFilter, Rolled, RollupQuery, Store, StoreError};

use crate::facet::{bucket, judge};
use crate::monthly::Month;
use crate::quantile::Position;
use crate::summary::{AGE_BUCKETS, CLOSE_BUCKETS, DAY, Options, Summary, Tally, buckets};

/// The roll-up query of a filter the roll-ups can answer: creation times, services, a department
/// and an area (from the area's own roll-ups). `None` for the others (states, ids, update
/// times); an open end of the period becomes the end of the stored requests.
pub(crate) async fn rollup_query(
    store: &Store,
    f: &RequestFilter,
) -> civic311_store::Result<Option<RollupQuery>> {
    if !f.ids.is_empty()
        || !f.states.is_empty()
        || f.updated_after.is_some()
        || f.updated_before.is_some()
    {
        return Ok(None);
    }
    let (from, before) = match (f.created_from, f.created_before) {
        (Some(from), Some(before)) => (from, before),
        (from, before) => match store.rollup_span().await? {
            Some((first, end)) => (
                from.unwrap_or(first).max(first),
                before.unwrap_or(end).min(end),
            ),
            None => (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MIN_UTC),
        },
    };
    Ok(Some(RollupQuery {
        from,
        before,
        service_codes: f.service_codes.clone(),
        department: f.department.clone(),
        area: f.area.clone(),
    }))
}

pub(crate) async fn summarize_rolled(
    store: &Store,
    options: &Options,
    q: &RollupQuery,
) -> civic311_store::Result<Summary> {
    let mut summary = Tally::new(options).finish();
    if q.from >= q.before {
        return Ok(summary);
    }
    let rolled = store.rolled_up(q).await?;
    let closed_seconds = count_groups(&mut summary, &rolled, options)?;
    count_open(store, &mut summary, q, options).await?;
    time_to_close(store, &mut summary, &rolled, q, closed_seconds).await?;
    by_month(store, &mut summary, q, options).await?;
    Ok(summary)
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn outcome(code: i16) -> civic311_store::Result<(Ending, Target)> {
    Outcome::from_code(code).ok_or_else(|| corrupt(format!("outcome code {code}")))
}

/// Volume, the time-to-close counts and the SLA classes that do not depend on the moment of
/// judging. Returns the sum of the close times.
fn count_groups(
    summary: &mut Summary,
    rolled: &Rolled,
    options: &Options,
) -> civic311_store::Result<i64> {
    let mut closed_seconds = 0;
    for g in &rolled.groups {
        let n = g.requests;
        let v = &mut summary.volume;
        v.requests += n;
        *v.by_channel.entry(g.channel.clone()).or_default() += n;
        *v.by_service.entry(g.service_code.clone()).or_default() += n;
        let department = match g.department_code.as_str() {
            "" => "none",
            d => d,
        };
        *v.by_department.entry(department.to_owned()).or_default() += n;
        *v.by_status.entry(g.status.clone()).or_default() += n;

        let (ending, target) = outcome(g.outcome)?;
        let t = &mut summary.time_to_close;
        match ending {
            Ending::Open => t.open += n,
            Ending::Duplicate => t.duplicates += n,
            Ending::WithoutTime => t.closed_without_time += n,
            Ending::Closed => {
                t.closed += n;
                closed_seconds += g.close_seconds;
            }
        }
        if ending == Ending::Open {
            summary.backlog.open += n;
        }
        // Open requests with a due date are judged in `count_open`.
        if target != Target::Pending {
            let class = judge(
                target,
                g.channel == Channel::SelfGenerated.as_str(),
                false,
                options,
            );
            if let Some(count) = summary.sla.count_mut(class) {
                *count += n;
            }
        }
    }
    for (layer, area, n) in &rolled.areas {
        *summary
            .volume
            .by_area
            .entry(layer.clone())
            .or_default()
            .entry(area.clone())
            .or_default() += n;
    }
    Ok(closed_seconds)
}

/// The backlog's ages, and the open requests with a due date judged at `options.now`.
async fn count_open(
    store: &Store,
    summary: &mut Summary,
    q: &RollupQuery,
    options: &Options,
) -> civic311_store::Result<()> {
    let now = options.now;
    let born_after: Vec<DateTime<Utc>> = AGE_BUCKETS[..AGE_BUCKETS.len() - 1]
        .iter()
        .map(|(days, _)| now - Duration::seconds(days * DAY))
        .collect();
    let mut ages = vec![0; AGE_BUCKETS.len()];
    for g in store.open_groups(q, now, &born_after).await? {
        let n = g.requests;
        if let Some(age) = ages.get_mut(g.age) {
            *age += n;
        }
        let (_, target) = outcome(g.outcome)?;
        if target == Target::Pending {
            let class = judge(
                target,
                g.channel == Channel::SelfGenerated.as_str(),
                g.overdue,
                options,
            );
            if let Some(count) = summary.sla.count_mut(class) {
                *count += n;
            }
        }
    }
    summary.backlog.aging = buckets(AGE_BUCKETS, &ages);
    summary.sla.attain();
    Ok(())
}

/// The distribution, mean, median and p90 of the close times, from their bins; a quantile that
/// falls in a bin of several times reads that one value from the requests.
async fn time_to_close(
    store: &Store,
    summary: &mut Summary,
    rolled: &Rolled,
    q: &RollupQuery,
    closed_seconds: i64,
) -> civic311_store::Result<()> {
    let mut counts = vec![0; CLOSE_BUCKETS.len()];
    let mut total: u64 = 0;
    for &(bin, n) in &rolled.bins {
        counts[bucket(CLOSE_BUCKETS, bin)] += n;
        total += n;
    }
    let t = &mut summary.time_to_close;
    t.distribution = buckets(CLOSE_BUCKETS, &counts);
    if total == 0 {
        return Ok(());
    }
    t.mean_seconds = Some(closed_seconds as f64 / total as f64);
    // The bin a rank (from 0) falls in, and its rank within the bin.
    let locate = |rank: usize| -> civic311_store::Result<(i64, usize)> {
        let mut before = 0;
        for &(bin, n) in &rolled.bins {
            let n = usize::try_from(n).map_err(|_| corrupt("a close-time bin count"))?;
            if rank < before + n {
                return Ok((bin, rank - before));
            }
            before += n;
        }
        Err(corrupt("a rank past the close times"))
    };
    let shared = |bin: i64| {
        let (low, high) = bin_range(bin);
        high - low > 1
    };
    let n = usize::try_from(total).map_err(|_| corrupt("the count of close times"))?;
    let quantiles: Vec<(usize, Position)> = [0.5, 0.9]
        .into_iter()
        .enumerate()
        .filter_map(|(slot, quantile)| Position::of(n, quantile).map(|p| (slot, p)))
        .collect();
    // The ranks whose times the bins do not tell (a bin shared by several times), read from the
    // requests in one go: by bin, the ranks within it from the first to the last wanted.
    let mut wanted: std::collections::BTreeMap<i64, (usize, usize)> = Default::default();
    for (_, p) in &quantiles {
        for rank in [p.below, p.above] {
            let (bin, within) = locate(rank)?;
            if shared(bin) {
                let span = wanted.entry(bin).or_insert((within, within));
                span.0 = span.0.min(within);
                span.1 = span.1.max(within);
            }
        }
    }
    let rank = |i: usize| i64::try_from(i).map_err(|_| corrupt("a rank"));
    let wanted = wanted
        .into_iter()
        .map(|(bin, (first, last))| Ok((bin, rank(first)?, rank(last + 1)?)))
        .collect::<civic311_store::Result<Vec<_>>>()?;
    let times: std::collections::HashMap<(i64, i64), i64> = store
        .close_times_in(q, &wanted)
        .await?
        .into_iter()
        .map(|(bin, rank, seconds)| ((bin, rank), seconds))
        .collect();
    let time_at = |at: usize| -> civic311_store::Result<i64> {
        let (bin, within) = locate(at)?;
        if !shared(bin) {
            return Ok(bin);
        }
        times
            .get(&(bin, rank(within)?))
            .copied()
            .ok_or_else(|| corrupt("a close-time bin holds fewer requests than its roll-up"))
    };
    for (slot, p) in quantiles {
        let value = Some(p.between(time_at(p.below)?, time_at(p.above)?));
        let t = &mut summary.time_to_close;
        if slot == 0 {
            t.median_seconds = value;
        } else {
            t.p90_seconds = value;
        }
    }
    Ok(())
}

/// Requests by local month of creation. A whole local month is its UTC namesake from the
/// month roll-up, less the hours between their starts and plus those between their ends (a few
/// hours of requests, counted from an index); a partial one at the ends of the period is counted
/// as any range.
async fn by_month(
    store: &Store,
    summary: &mut Summary,
    q: &RollupQuery,
    options: &Options,
) -> civic311_store::Result<()> {
    let tz = options.timezone;
    let first = Month::containing(q.from, tz);
    let mut months = vec![first];
    while let Some(&last) = months.last() {
        let next = last.next();
        if next.start(tz) >= q.before {
            break;
        }
        months.push(next);
    }
    let utc = |m: Month| m.start(chrono_tz::UTC);
    let whole = store
        .counts_by_utc_month(&RollupQuery {
            from: utc(first),
            before: utc(months[months.len() - 1].next()),
            ..q.clone()
        })
        .await?;
    let whole: std::collections::HashMap<String, u64> = whole.into_iter().collect();
    let count = async |from: DateTime<Utc>, before: DateTime<Utc>| {
        store
            .rolled_count(&RollupQuery {
                from,
                before,
                ..q.clone()
            })
            .await
    };
    // Requests in `[a, b)`, negative when b comes first.
    let signed = async |a: DateTime<Utc>, b: DateTime<Utc>| -> civic311_store::Result<i128> {
        Ok(if a <= b {
            i128::from(count(a, b).await?)
        } else {
            -i128::from(count(b, a).await?)
        })
    };
    for month in months {
        let (start, end) = month.window(tz);
        let n = if start >= q.from && end <= q.before {
            let utc_whole = i128::from(whole.get(&month.to_string()).copied().unwrap_or(0));
            let n = utc_whole - signed(utc(month), start).await?
                + signed(utc(month.next()), end).await?;
            u64::try_from(n).map_err(|_| corrupt(format!("{n} requests in {month}")))?
        } else {
            count(start.max(q.from), end.min(q.before)).await?
        };
        if n > 0 {
            summary.volume.by_month.insert(month.to_string(), n);
        }
    }
    Ok(())
}
