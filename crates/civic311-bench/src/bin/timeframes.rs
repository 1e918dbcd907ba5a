//! Kansas City's own SLA verdict against ours. The city's file says for every request whether it
//! EXCEEDED EST TIMEFRAME (Y/N), without saying the timeframe. Per request type, this fits the
//! timeframe (in calendar days, and in business days on a Kansas City calendar) that best
//! reproduces the city's verdicts on the requests created before 2018, then runs the SLA engine
//! (`BusinessCalendar::due`) with it over the requests of 2018-2020 and counts how often its
//! verdict agrees with the city's. Open requests are judged at the extract's last date.
//!
//! The file's closing dates have no time of day, so a request is late when it closed on a later
//! local date than its due date.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use civic311_domain::{BusinessCalendar, SlaTarget, SlaUnit};
use clap::Parser;

const KC: Tz = chrono_tz::America::Chicago;
/// Requests created before this fit the timeframes; the others test them.
const SPLIT: (i32, u32, u32) = (2018, 1, 1);
const MAX_CALENDAR_DAYS: u32 = 400;
const MAX_BUSINESS_DAYS: u32 = 280;
/// Types with fewer judged requests in either period are left out of the per-type fit.
const MIN_ROWS: usize = 20;

#[derive(Parser)]
struct Args {
    /// The Kansas City 311 file (../shared/data/kansas-city/kc311_2007_2020.csv).
    #[arg(long)]
    csv: PathBuf,
    /// Request types shown one by one, busiest first.
    #[arg(long, default_value_t = 12)]
    show: usize,
}

struct Judged {
    kind: String,
    received: DateTime<Utc>,
    /// The local date it closed on, or the extract's last date for open requests.
    until: NaiveDate,
    open: bool,
    late: bool,
    train: bool,
}

/// The nth `weekday` of a month (n from 1), or the last one when n is 0.
fn nth(year: i32, month: u32, weekday: Weekday, n: u32) -> Option<NaiveDate> {
    if n == 0 {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }?;
        let mut d = next.pred_opt()?;
        while d.weekday() != weekday {
            d = d.pred_opt()?;
        }
        return Some(d);
    }
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, u8::try_from(n).ok()?)
}

/// Kansas City's observed holidays: the federal set and the day after Thanksgiving; a fixed
/// date falling on a weekend is observed on the Friday before or the Monday after.
fn holidays(years: std::ops::RangeInclusive<i32>) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    for y in years {
        let observed = |m, d| {
            let date = NaiveDate::from_ymd_opt(y, m, d)?;
            Some(match date.weekday() {
                Weekday::Sat => date.pred_opt()?,
                Weekday::Sun => date.succ_opt()?,
                _ => date,
            })
        };
        let thanksgiving = nth(y, 11, Weekday::Thu, 4);
        out.extend(
            [
                observed(1, 1),
                nth(y, 1, Weekday::Mon, 3),
                nth(y, 2, Weekday::Mon, 3),
                nth(y, 5, Weekday::Mon, 0),
                observed(7, 4),
                nth(y, 9, Weekday::Mon, 1),
                observed(11, 11),
                thanksgiving,
                thanksgiving.and_then(|d| d.succ_opt()),
                observed(12, 25),
            ]
            .into_iter()
            .flatten(),
        );
    }
    out
}

fn read(path: &PathBuf) -> Result<Vec<Judged>> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| path.display().to_string())?;
    let header = rdr.headers()?.clone();
    let col = |n: &str| header.iter().position(|h| h == n).context(n.to_owned());
    let (kind, date, time, closed, flag, status) = (
        col("REQUEST TYPE")?,
        col("CREATION DATE")?,
        col("CREATION TIME")?,
        col("CLOSED DATE")?,
        col("EXCEEDED EST TIMEFRAME")?,
        col("STATUS")?,
    );
    let split = NaiveDate::from_ymd_opt(SPLIT.0, SPLIT.1, SPLIT.2).context("split date")?;
    let mut raw = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        let late = match &rec[flag] {
            "Y" => true,
            "N" => false,
            _ => continue,
        };
        let local = NaiveDateTime::parse_from_str(
            &format!("{} {}", &rec[date], &rec[time]),
            "%m/%d/%Y %I:%M %p",
        )
        .with_context(|| format!("created {} {}", &rec[date], &rec[time]))?;
        let received = local
            .and_local_timezone(KC)
            .earliest()
            .context("a local time that does not exist")?
            .with_timezone(&Utc);
        let closed = NaiveDate::parse_from_str(&rec[closed], "%m/%d/%Y").ok();
        let open = rec[status] == *"OPEN" || rec[status] == *"ASSIG";
        raw.push((
            rec[kind].to_owned(),
            received,
            local.date(),
            closed,
            open,
            late,
        ));
    }
    // Open requests are judged on the last day the extract saw.
    let extract = raw
        .iter()
        .filter_map(|r| r.3.max(Some(r.2)))
        .max()
        .context("an empty file")?;
    Ok(raw
        .into_iter()
        .filter_map(|(kind, received, created, closed, open, late)| {
            let until = if open { extract } else { closed? };
            Some(Judged {
                kind,
                received,
                until,
                open,
                late,
                train: created < split,
            })
        })
        .collect())
}

/// The least timeframe under which `j` is on time, or `max + 1` when none up to `max` is.
fn needed(j: &Judged, calendar: &BusinessCalendar, unit: SlaUnit, max: u32) -> u32 {
    let on_time = |amount| {
        let due = calendar.due(j.received, SlaTarget { amount, unit });
        j.until <= due.with_timezone(&KC).date_naive()
    };
    let (mut lo, mut hi) = (0, max + 1);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if on_time(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The timeframe with the most agreements over `rows` (given each row's `needed`), and that count.
fn fit(rows: &[(&Judged, u32)], max: u32) -> (u32, usize) {
    // late(T) = needed > T. Agreements at T: late rows with needed > T plus on-time rows with
    // needed <= T.
    let mut late_at = vec![0usize; max as usize + 2];
    let mut on_time_at = vec![0usize; max as usize + 2];
    for (j, n) in rows {
        if j.late {
            late_at[*n as usize] += 1;
        } else {
            on_time_at[*n as usize] += 1;
        }
    }
    let mut late_above: usize = late_at.iter().sum();
    let mut on_time_upto = 0;
    let mut best = (0, 0);
    for t in 0..=max {
        late_above -= late_at[t as usize];
        on_time_upto += on_time_at[t as usize];
        if late_above + on_time_upto > best.1 {
            best = (t, late_above + on_time_upto);
        }
    }
    best
}

fn agree(rows: &[(&Judged, u32)], t: u32) -> usize {
    rows.iter().filter(|(j, n)| (*n > t) == j.late).count()
}

fn pct(a: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        100.0 * a as f64 / n as f64
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.csv.exists() {
        bail!(
            "{} is absent: this benchmark needs ../shared/data (the real Kansas City file)",
            args.csv.display()
        );
    }
    let judged = read(&args.csv)?;
    let calendar = BusinessCalendar::weekdays(
        KC,
        NaiveTime::from_hms_opt(8, 0, 0).context("08:00")?,
        NaiveTime::from_hms_opt(17, 0, 0).context("17:00")?,
        holidays(2006..=2021),
    )?;
    let mut by_kind: HashMap<&str, Vec<&Judged>> = HashMap::new();
    for j in &judged {
        by_kind.entry(j.kind.as_str()).or_default().push(j);
    }
    let mut kinds: Vec<(&str, Vec<&Judged>)> = by_kind.into_iter().collect();
    kinds.sort_by_key(|(k, rows)| (std::cmp::Reverse(rows.len()), *k));

    // Totals: [calendar, business] × (agreements on test, test rows, best possible on test).
    let mut totals = [(0usize, 0usize, 0usize); 2];
    let (mut skipped_rows, mut fitted_kinds) = (0usize, 0usize);
    let mut open_disagree = (0usize, 0usize);
    println!(
        "{:<58} {:>6} {:>6} | {:>9} {:>7} {:>7} | {:>9} {:>7} {:>7}",
        "request type", "train", "test", "cal days", "agree", "best", "bus days", "agree", "best"
    );
    let mut shown = 0;
    for (kind, rows) in &kinds {
        let train = rows.iter().filter(|j| j.train).count();
        let test = rows.len() - train;
        if train < MIN_ROWS || test < MIN_ROWS {
            skipped_rows += test;
            continue;
        }
        fitted_kinds += 1;
        let mut line = format!("{kind:<58.58} {train:>6} {test:>6}");
        for (i, (unit, max)) in [
            (SlaUnit::CalendarDays, MAX_CALENDAR_DAYS),
            (SlaUnit::BusinessDays, MAX_BUSINESS_DAYS),
        ]
        .into_iter()
        .enumerate()
        {
            let with_needed: Vec<(&Judged, u32)> = rows
                .iter()
                .map(|j| (*j, needed(j, &calendar, unit, max)))
                .collect();
            let (train_rows, test_rows): (Vec<_>, Vec<_>) =
                with_needed.iter().partition(|(j, _)| j.train);
            let (t, _) = fit(&train_rows, max);
            let agreed = agree(&test_rows, t);
            let (_, best) = fit(&test_rows, max);
            totals[i].0 += agreed;
            totals[i].1 += test_rows.len();
            totals[i].2 += best;
            if i == 0 {
                for (j, n) in &test_rows {
                    if j.open {
                        open_disagree.0 += usize::from((*n > t) != j.late);
                        open_disagree.1 += 1;
                    }
                }
            }
            line += &format!(
                " | {t:>9} {:>6.1}% {:>6.1}%",
                pct(agreed, test_rows.len()),
                pct(best, test_rows.len())
            );
        }
        if shown < args.show {
            println!("{line}");
            shown += 1;
        }
    }
    println!(
        "\n{fitted_kinds} request types with at least {MIN_ROWS} judged requests before and after {}-{:02}-{:02}; \
         {skipped_rows} test requests of rarer types left out",
        SPLIT.0, SPLIT.1, SPLIT.2
    );
    for (name, (agreed, n, best)) in ["calendar days", "business days"].iter().zip(totals) {
        println!(
            "engine with fitted {name}: agrees with the city on {agreed} of {n} requests of 2018-2020 = {:.1}% \
             (best any single timeframe per type could do on them: {best} = {:.1}%)",
            pct(agreed, n),
            pct(best, n)
        );
    }
    println!(
        "open requests judged at the extract date (calendar days): {} of {} disagree",
        open_disagree.0, open_disagree.1
    );
    Ok(())
}
