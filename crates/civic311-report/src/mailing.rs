//! The monthly report mailed to a distribution list once the month is over: servers ask every
//! few minutes; the first to ask after the day and hour set queues one message per recipient in
//! the outbox (its key names the month and the recipient, so a report goes once to each however
//! many servers ask), and the outbox delivers them like every other message.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use civic311_analytics::cityscore::ScoreCard;
use civic311_analytics::{Month, MonthlyOptions, monthly_report};
use civic311_store::{ReportMail, Store};

use crate::document::{self, Document};

/// Local hour of the set day after which the report goes out.
const HOUR: u32 = 6;

#[derive(Debug, Clone)]
pub struct Mailing {
    pub title: String,
    pub to: Vec<String>,
    /// Day of the month after the reported one (1 to 28).
    pub day: u32,
    pub timezone: Tz,
    pub score_card: ScoreCard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// The last complete month's report is due at this time.
    NotYet { month: Month, at: DateTime<Utc> },
    /// Queued now for `queued` recipients; `before` had it already.
    Queued {
        month: Month,
        queued: usize,
        before: usize,
    },
}

/// When the report of the month before `now`'s is due.
pub fn due_at(mailing: &Mailing, now: DateTime<Utc>) -> DateTime<Utc> {
    let local = now.with_timezone(&mailing.timezone);
    let day = NaiveDate::from_ymd_opt(local.year(), local.month(), mailing.day.clamp(1, 28))
        .unwrap_or_default();
    let hour = NaiveTime::from_hms_opt(HOUR, 0, 0).unwrap_or_default();
    civic311_domain::time::at_local(mailing.timezone, day, hour)
}

/// Queues the last complete month's report for every recipient who has not had it, when due.
pub async fn queue_monthly(
    store: &Store,
    mailing: &Mailing,
    now: DateTime<Utc>,
) -> Result<Due, String> {
    let month = Month::last_complete(now, mailing.timezone);
    let at = due_at(mailing, now);
    if now < at {
        return Ok(Due::NotYet { month, at });
    }
    let key = |to: &str| format!("report:monthly:{month}:{}", to.to_ascii_lowercase());
    let mut waiting = Vec::new();
    for to in &mailing.to {
        if !store
            .outbox_has(&key(to))
            .await
            .map_err(|e| e.to_string())?
        {
            waiting.push(to);
        }
    }
    let before = mailing.to.len() - waiting.len();
    if waiting.is_empty() {
        return Ok(Due::Queued {
            month,
            queued: 0,
            before,
        });
    }
    let options = MonthlyOptions {
        month,
        now,
        timezone: mailing.timezone,
        include_self_generated: false,
        score_card: mailing.score_card.clone(),
    };
    let report = monthly_report(store, &options)
        .await
        .map_err(|e| e.to_string())?;
    let doc = document::build(&report, &mailing.title);
    let html = crate::html::render(&doc).map_err(|e| e.to_string())?;
    let text = plain_text(&doc);
    let mut queued = 0;
    for to in waiting {
        let mail = ReportMail {
            to: to.clone(),
            subject: doc.title.clone(),
            text: text.clone(),
            html: html.clone(),
        };
        if store
            .queue_report_mail(&key(to), &mail, now)
            .await
            .map_err(|e| e.to_string())?
        {
            queued += 1;
        }
    }
    Ok(Due::Queued {
        month,
        queued,
        before,
    })
}

/// The headline numbers as text, for mail readers that show no HTML.
fn plain_text(doc: &Document) -> String {
    let mut out = format!("{}\n{}\n\n", doc.title, doc.subtitle);
    if let Some(table) = doc.sections.first().and_then(|s| s.table.as_ref()) {
        out.push_str(&table.columns.join(" | "));
        out.push('\n');
        for row in &table.rows {
            out.push_str(&row.join(" | "));
            out.push('\n');
        }
    }
    out.push_str("\nThe whole report is the HTML part of this message.\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_due_on_the_set_day_at_six_local_time() {
        let mailing = Mailing {
            title: "KC 311".into(),
            to: vec![],
            day: 3,
            timezone: "America/Chicago".parse().unwrap(),
            score_card: ScoreCard::default(),
        };
        let now = "2019-11-20T12:00:00Z".parse().unwrap();
        // 3 November 2019 06:00 CST (the clocks went back that night).
        assert_eq!(
            due_at(&mailing, now).to_rfc3339(),
            "2019-11-03T12:00:00+00:00"
        );
        assert_eq!(
            Month::last_complete(now, mailing.timezone).to_string(),
            "2019-10"
        );
    }
}
