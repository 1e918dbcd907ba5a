//! The [`Summary`] from the store's roll-ups (civic311-store's rollup.rs): counts read by group,
//! the open requests read for their age and lateness, and the median and p90 found by close-time
//! bin, so its cost grows with the groups, not with the requests. It gives the very numbers of
//! the summary computed from every request ([`crate::summary::summarize_rows`], the reference it
//! is tested against).

use chrono::{DateTime, Duration, Utc};
use civic311_domain::Channel;
use civic311_domain::outcome::{Ending, Outcome, Target, bin_range};
use std::collections::{BTreeMap, HashMap};

use civic311_store::{
    OpenGroup, RequestFilter, Rolled, RollupQuery, Split, SplitKey, Store, StoreError,
};

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
    let open = store
        .open_groups(q, options.now, &born_after(options.now))
        .await?;
    judge_open(&mut summary, &open, options)?;
    let close = CloseTimes::of(&mut summary, &rolled.bins, closed_seconds, &[0.5, 0.9])?;
    let times: HashMap<(i64, i64), i64> = store
        .close_times_in(q, &close.wanted()?)
        .await?
        .into_iter()
        .map(|(bin, rank, seconds)| ((bin, rank), seconds))
        .collect();
    close.fill(&mut summary, |bin, rank| times.get(&(bin, rank)).copied())?;
    by_month(store, &mut summary, q, options).await?;
    Ok(summary)
}

/// A summary of each part of a split of `q`'s requests (the city's: `q` has no area), from the
/// roll-ups: the parts' groups and bins, their open requests judged at `options.now`, and the
/// close times of the bins their medians fall in, read in one go for all parts. Volume by
/// area and by month, and the p90, are not kept for a part. `areas` lists the parts of a split
/// by area.
pub(crate) async fn summarize_split(
    store: &Store,
    options: &Options,
    q: &RollupQuery,
    split: Split,
    areas: &[SplitKey],
) -> civic311_store::Result<Vec<(SplitKey, Rolled, Summary)>> {
    if q.from >= q.before {
        return Ok(Vec::new());
    }
    let parts: Vec<(SplitKey, Rolled)> = match split {
        Split::Area => store.rolled_up_by_area(q.from, q.before, areas).await?,
        Split::Service | Split::Department => {
            // Each pair of service and department, added into its service or its department.
            let mut parts: BTreeMap<SplitKey, (Rolled, BTreeMap<i64, u64>)> = BTreeMap::new();
            for ((service, department), rolled) in store.rolled_up_by_group(q).await? {
                let key = match split {
                    Split::Service => service,
                    _ => department,
                };
                let (part, bins) = parts.entry((key, String::new())).or_default();
                part.groups.extend(rolled.groups);
                for (bin, n) in rolled.bins {
                    *bins.entry(bin).or_default() += n;
                }
            }
            parts
                .into_iter()
                .map(|(key, (mut part, bins))| {
                    part.bins = bins.into_iter().collect();
                    (key, part)
                })
                .collect()
        }
    };
    let mut open: HashMap<SplitKey, Vec<OpenGroup>> = HashMap::new();
    for (key, g) in store
        .open_groups_split(q, options.now, &born_after(options.now), split)
        .await?
    {
        open.entry(key).or_default().push(g);
    }
    let mut done = Vec::with_capacity(parts.len());
    let mut wanted = Vec::new();
    for (key, rolled) in parts {
        let mut summary = Tally::new(options).finish();
        let closed_seconds = count_groups(&mut summary, &rolled, options)?;
        judge_open(&mut summary, open.get(&key).into_iter().flatten(), options)?;
        let close = CloseTimes::of(&mut summary, &rolled.bins, closed_seconds, &[0.5])?;
        wanted.extend(
            close
                .wanted()?
                .into_iter()
                .map(|(bin, from, before)| (key.clone(), bin, from, before)),
        );
        done.push((key, rolled, summary, close));
    }
    let times: HashMap<(SplitKey, i64, i64), i64> = store
        .close_times_split(q, split, &wanted)
        .await?
        .into_iter()
        .map(|(key, bin, rank, seconds)| ((key, bin, rank), seconds))
        .collect();
    done.into_iter()
        .map(|(key, rolled, mut summary, close)| {
            close.fill(&mut summary, |bin, rank| {
                times.get(&(key.clone(), bin, rank)).copied()
            })?;
            Ok((key, rolled, summary))
        })
        .collect()
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

/// The moments the backlog's age buckets start at, judged at `now`.
fn born_after(now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    AGE_BUCKETS[..AGE_BUCKETS.len() - 1]
        .iter()
        .map(|(days, _)| now - Duration::seconds(days * DAY))
        .collect()
}

/// The backlog's ages, and the open requests with a due date judged at `options.now`, from
/// the open groups read at that moment.
fn judge_open<'g>(
    summary: &mut Summary,
    groups: impl IntoIterator<Item = &'g OpenGroup>,
    options: &Options,
) -> civic311_store::Result<()> {
    let mut ages = vec![0; AGE_BUCKETS.len()];
    for g in groups {
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

/// The distribution, mean, median and p90 of close times from their bins: a quantile that
/// falls in a bin of several times needs that one value read from the requests
/// ([`CloseTimes::wanted`], then [`CloseTimes::fill`]).
struct CloseTimes {
    /// Requests closed with a usable time by bin, ascending.
    bins: Vec<(i64, u64)>,
    /// Median and p90 (slots 0 and 1), where there are close times.
    quantiles: Vec<(usize, Position)>,
}

impl CloseTimes {
    /// Sets the distribution and the mean, and finds where the quantiles fall: the median,
    /// and the p90 when `quantiles` has it too.
    fn of(
        summary: &mut Summary,
        bins: &[(i64, u64)],
        closed_seconds: i64,
        quantiles: &[f64],
    ) -> civic311_store::Result<CloseTimes> {
        let mut counts = vec![0; CLOSE_BUCKETS.len()];
        let mut total: u64 = 0;
        for &(bin, n) in bins {
            counts[bucket(CLOSE_BUCKETS, bin)] += n;
            total += n;
        }
        let t = &mut summary.time_to_close;
        t.distribution = buckets(CLOSE_BUCKETS, &counts);
        if total > 0 {
            t.mean_seconds = Some(closed_seconds as f64 / total as f64);
        }
        let n = usize::try_from(total).map_err(|_| corrupt("the count of close times"))?;
        let quantiles = quantiles
            .iter()
            .copied()
            .enumerate()
            .filter_map(|(slot, quantile)| Position::of(n, quantile).map(|p| (slot, p)))
            .collect();
        Ok(CloseTimes {
            bins: bins.to_vec(),
            quantiles,
        })
    }

    /// The bin a rank (from 0) falls in, and its rank within the bin.
    fn locate(&self, rank: usize) -> civic311_store::Result<(i64, usize)> {
        let mut before = 0;
        for &(bin, n) in &self.bins {
            let n = usize::try_from(n).map_err(|_| corrupt("a close-time bin count"))?;
            if rank < before + n {
                return Ok((bin, rank - before));
            }
            before += n;
        }
        Err(corrupt("a rank past the close times"))
    }

    /// The ranks whose times the bins do not tell (a bin shared by several times), to read from
    /// the requests in one go: by bin, the ranks within it from the first to the last wanted,
    /// `(bin, from, before)`.
    fn wanted(&self) -> civic311_store::Result<Vec<(i64, i64, i64)>> {
        let mut wanted: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
        for (_, p) in &self.quantiles {
            for rank in [p.below, p.above] {
                let (bin, within) = self.locate(rank)?;
                if shared(bin) {
                    let span = wanted.entry(bin).or_insert((within, within));
                    span.0 = span.0.min(within);
                    span.1 = span.1.max(within);
                }
            }
        }
        wanted
            .into_iter()
            .map(|(bin, (first, last))| Ok((bin, rank(first)?, rank(last + 1)?)))
            .collect()
    }

    /// Sets the median and p90, `read(bin, rank)` giving the times [`CloseTimes::wanted`]
    /// asked for.
    fn fill(
        &self,
        summary: &mut Summary,
        read: impl Fn(i64, i64) -> Option<i64>,
    ) -> civic311_store::Result<()> {
        let time_at = |at: usize| -> civic311_store::Result<i64> {
            let (bin, within) = self.locate(at)?;
            if !shared(bin) {
                return Ok(bin);
            }
            read(bin, rank(within)?)
                .ok_or_else(|| corrupt("a close-time bin holds fewer requests than its roll-up"))
        };
        for &(slot, p) in &self.quantiles {
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
}

/// A bin of several close times (its exact times are not in the roll-ups).
fn shared(bin: i64) -> bool {
    let (low, high) = bin_range(bin);
    high - low > 1
}

fn rank(i: usize) -> civic311_store::Result<i64> {
    i64::try_from(i).map_err(|_| corrupt("a rank"))
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
