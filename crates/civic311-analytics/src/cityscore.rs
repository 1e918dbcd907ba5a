//! A composite city score like Boston's CityScore (docs/METRICS.md, "City score"): each metric
//! against the city's own target (actual / target, or target / actual where lower is better),
//! capped so that one excellent metric cannot hide a poor one, and the average of the scores
//! that have data. Above 1: better than target.

use serde::{Deserialize, Serialize};

use crate::monthly::Period;

/// The metrics a score can be made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMetric {
    /// SLA attainment, 0 to 1 (higher is better).
    SlaAttainment,
    /// Median time to close, in days (lower is better).
    MedianDaysToClose,
    /// 90th percentile time to close, in days (lower is better).
    P90DaysToClose,
    /// Share of surveys scored 3 to 5 (higher is better).
    Satisfaction,
    /// Open overdue requests of the month's cohort (lower is better).
    OpenOverdue,
    /// Escalations in the month (lower is better).
    Escalations,
}

impl ScoreMetric {
    pub fn label(self) -> &'static str {
        match self {
            ScoreMetric::SlaAttainment => "SLA attainment",
            ScoreMetric::MedianDaysToClose => "Median days to close",
            ScoreMetric::P90DaysToClose => "90th percentile days to close",
            ScoreMetric::Satisfaction => "Satisfied residents (surveys)",
            ScoreMetric::OpenOverdue => "Open overdue requests",
            ScoreMetric::Escalations => "Escalations",
        }
    }

    fn lower_is_better(self) -> bool {
        !matches!(self, ScoreMetric::SlaAttainment | ScoreMetric::Satisfaction)
    }

    /// Its value for a month; `None` without data (no SLA judged, no survey, nothing closed).
    pub fn of(self, p: &Period) -> Option<f64> {
        let s = &p.summary;
        let day = 86_400.0;
        match self {
            ScoreMetric::SlaAttainment => s.sla.attainment,
            ScoreMetric::MedianDaysToClose => s.time_to_close.median_seconds.map(|v| v / day),
            ScoreMetric::P90DaysToClose => s.time_to_close.p90_seconds.map(|v| v / day),
            ScoreMetric::Satisfaction => (p.activity.surveys_answered > 0)
                .then(|| 1.0 - p.activity.dissatisfied as f64 / p.activity.surveys_answered as f64),
            ScoreMetric::OpenOverdue => Some(s.sla.open_overdue as f64),
            ScoreMetric::Escalations => Some(p.activity.escalations as f64),
        }
    }
}

/// One metric's target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub metric: ScoreMetric,
    pub target: f64,
}

/// The score's definition: the city's targets and the cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreCard {
    pub targets: Vec<Target>,
    /// The most one metric's score can be.
    pub cap: f64,
}

impl Default for ScoreCard {
    /// Targets a city starts from: 90% of requests within their SLA, half closed within three
    /// days, 80% of surveyed residents satisfied.
    fn default() -> Self {
        ScoreCard {
            targets: vec![
                Target {
                    metric: ScoreMetric::SlaAttainment,
                    target: 0.9,
                },
                Target {
                    metric: ScoreMetric::MedianDaysToClose,
                    target: 3.0,
                },
                Target {
                    metric: ScoreMetric::Satisfaction,
                    target: 0.8,
                },
            ],
            cap: 1.5,
        }
    }
}

impl ScoreCard {
    /// Refuses a target that cannot be divided by or compared with.
    pub fn check(&self) -> Result<(), String> {
        if !(self.cap.is_finite() && self.cap >= 1.0) {
            return Err(format!("cap {} must be a number of at least 1", self.cap));
        }
        for t in &self.targets {
            if !(t.target.is_finite() && t.target > 0.0) {
                return Err(format!(
                    "the target of {} must be a number above 0, not {}",
                    t.metric.label(),
                    t.target
                ));
            }
        }
        Ok(())
    }

    /// The score of a month.
    pub fn score(&self, p: &Period) -> CityScore {
        let metrics: Vec<MetricScore> = self
            .targets
            .iter()
            .map(|t| {
                let actual = t.metric.of(p);
                let score = actual.map(|a| {
                    let ratio = if t.metric.lower_is_better() {
                        // Zero overdue against a target of some: as good as it gets.
                        if a <= 0.0 { self.cap } else { t.target / a }
                    } else {
                        a / t.target
                    };
                    ratio.clamp(0.0, self.cap)
                });
                MetricScore {
                    metric: t.metric,
                    label: t.metric.label(),
                    actual,
                    target: t.target,
                    score,
                }
            })
            .collect();
        let scored: Vec<f64> = metrics.iter().filter_map(|m| m.score).collect();
        CityScore {
            score: (!scored.is_empty()).then(|| scored.iter().sum::<f64>() / scored.len() as f64),
            metrics,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricScore {
    pub metric: ScoreMetric,
    pub label: &'static str,
    pub actual: Option<f64>,
    pub target: f64,
    /// `None` without data: left out of the average.
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CityScore {
    /// The average of the metrics' scores that have data.
    pub score: Option<f64>,
    pub metrics: Vec<MetricScore>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Summary;
    use crate::monthly::Month;

    fn period(attainment: Option<f64>, median_days: Option<f64>, surveys: (i64, i64)) -> Period {
        let mut summary = Summary::default();
        summary.sla.attainment = attainment;
        summary.time_to_close.median_seconds = median_days.map(|d| d * 86_400.0);
        let month = Month::new(2019, 10).unwrap();
        Period {
            month,
            from: chrono::DateTime::default(),
            to: chrono::DateTime::default(),
            summary,
            activity: civic311_store::Activity {
                surveys_answered: surveys.0,
                dissatisfied: surveys.1,
                ..Default::default()
            },
        }
    }

    #[test]
    fn each_metric_against_its_target_capped_then_averaged() {
        let card = ScoreCard::default();
        // 81% against 90%: 0.9; 1.5 days against 3: 2, capped at 1.5; 7 of 10 satisfied: 0.875.
        let s = card.score(&period(Some(0.81), Some(1.5), (10, 3)));
        let scores: Vec<Option<f64>> = s.metrics.iter().map(|m| m.score).collect();
        assert_eq!(scores.len(), 3);
        assert!((scores[0].unwrap() - 0.9).abs() < 1e-12);
        assert_eq!(scores[1], Some(1.5));
        assert!((scores[2].unwrap() - 0.875).abs() < 1e-12);
        assert!((s.score.unwrap() - (0.9 + 1.5 + 0.875) / 3.0).abs() < 1e-12);
        // Without surveys or SLA data, only what has data counts.
        let s = card.score(&period(None, Some(6.0), (0, 0)));
        assert_eq!(s.score, Some(0.5));
        assert!(card.score(&period(None, None, (0, 0))).score.is_none());
    }

    #[test]
    fn a_target_must_be_positive() {
        let mut card = ScoreCard::default();
        card.targets[1].target = 0.0;
        assert!(card.check().unwrap_err().contains("Median days to close"));
        card.targets[1].target = 3.0;
        card.cap = 0.5;
        assert!(card.check().is_err());
    }
}
