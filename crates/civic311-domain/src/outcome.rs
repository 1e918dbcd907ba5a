//! What a request's record says of how it ended, whenever it is judged: whether and how long it
//! took to close, and what its due date says of that. docs/METRICS.md defines time to close and
//! SLA attainment on these. The store keeps each request's [`Outcome::code`] and close time
//! beside it, so that roll-ups count requests by them without reading the requests.

use crate::ServiceRequest;

/// How a request ended, for time to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    Open,
    /// Closed as a duplicate of another request: not the work done.
    Duplicate,
    /// Closed without a usable close time (none in the source, a placeholder, a close before
    /// the creation).
    WithoutTime,
    /// Closed with a usable close time.
    Closed,
}

/// What the due date says of a request, as far as that does not depend on the moment it is
/// judged at. Whether the city's own requests count is decided when judging, by channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Merged as a duplicate: not judged.
    Duplicate,
    /// No due date.
    WithoutTarget,
    /// Closed without a usable close time: cannot be judged.
    ClosedWithoutTime,
    Met,
    ClosedLate,
    /// Open with a due date: overdue or on time depends on when it is judged.
    Pending,
}

/// A request's [`Ending`] and [`Target`], and its close time in seconds when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub ending: Ending,
    pub target: Target,
    /// From creation to closing, whole seconds (truncated), for [`Ending::Closed`] only.
    pub close_seconds: Option<i64>,
}

const ENDINGS: [Ending; 4] = [
    Ending::Open,
    Ending::Duplicate,
    Ending::WithoutTime,
    Ending::Closed,
];
const TARGETS: [Target; 6] = [
    Target::Duplicate,
    Target::WithoutTarget,
    Target::ClosedWithoutTime,
    Target::Met,
    Target::ClosedLate,
    Target::Pending,
];

impl Outcome {
    pub fn of(r: &ServiceRequest) -> Outcome {
        let closed = r.status.is_closed();
        let duplicate = r.status.reason() == Some("duplicate");
        let closed_at = r.closed_at.filter(|_| closed);
        let ending = match (closed, duplicate, closed_at) {
            (false, _, _) => Ending::Open,
            (true, true, _) => Ending::Duplicate,
            (true, false, None) => Ending::WithoutTime,
            (true, false, Some(_)) => Ending::Closed,
        };
        let target = match (duplicate, r.due_at, closed, closed_at) {
            (true, _, _, _) => Target::Duplicate,
            (false, None, _, _) => Target::WithoutTarget,
            (false, Some(_), true, None) => Target::ClosedWithoutTime,
            (false, Some(due), true, Some(at)) if at <= due => Target::Met,
            (false, Some(_), true, Some(_)) => Target::ClosedLate,
            (false, Some(_), false, _) => Target::Pending,
        };
        let close_seconds = closed_at
            .filter(|_| ending == Ending::Closed)
            .map(|at| (at - r.created_at).num_seconds());
        Outcome {
            ending,
            target,
            close_seconds,
        }
    }

    /// The ending and the target in one small number, as stored: ending × 10 + target.
    pub fn code(&self) -> i16 {
        let e = ENDINGS.iter().position(|e| *e == self.ending).unwrap_or(0);
        let t = TARGETS.iter().position(|t| *t == self.target).unwrap_or(0);
        (e * 10 + t) as i16
    }

    /// The ending and the target of a stored [`Outcome::code`].
    pub fn from_code(code: i16) -> Option<(Ending, Target)> {
        let code = usize::try_from(code).ok()?;
        Some((*ENDINGS.get(code / 10)?, *TARGETS.get(code % 10)?))
    }

    /// The [`close_bin`] of the close time, if there is one.
    pub fn close_bin(&self) -> Option<i64> {
        self.close_seconds.map(close_bin)
    }
}

const HOUR: i64 = 3_600;

/// The bin of close times that `seconds` falls in, named by its lowest value. Times under an hour
/// and whole hours are bins of their own (exact: every time of a city that records dates only is a
/// whole number of hours); the other times of an hour share a bin. Counting requests by bin keeps
/// the roll-ups small and finds the bin a quantile falls in; only a shared bin then needs its
/// requests read to find the exact value.
pub fn close_bin(seconds: i64) -> i64 {
    if seconds < HOUR || seconds % HOUR == 0 {
        seconds
    } else {
        seconds - seconds % HOUR + 1
    }
}

/// The close times of a [`close_bin`], `[low, high)`.
pub fn bin_range(bin: i64) -> (i64, i64) {
    if bin < HOUR || bin % HOUR == 0 {
        (bin, bin + 1)
    } else {
        (bin, bin - 1 + HOUR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_falls_in_the_bin_named_by_it() {
        for s in [
            -7_200, -5, 0, 1, 59, 3_599, 3_600, 3_601, 7_199, 7_200, 86_400, 90_061,
        ] {
            let (low, high) = bin_range(close_bin(s));
            assert!(low <= s && s < high, "{s} not in [{low}, {high})");
            assert_eq!(close_bin(low), close_bin(s));
            assert_eq!(close_bin(high - 1), close_bin(s));
        }
        assert_eq!(bin_range(close_bin(86_400)), (86_400, 86_401));
        assert_eq!(bin_range(close_bin(90_061)), (90_001, 93_600));
        assert_eq!(bin_range(close_bin(89_999)), (86_401, 90_000));
    }

    #[test]
    fn codes_read_back() {
        for e in ENDINGS {
            for t in TARGETS {
                let o = Outcome {
                    ending: e,
                    target: t,
                    close_seconds: None,
                };
                assert_eq!(Outcome::from_code(o.code()), Some((e, t)));
            }
        }
        assert_eq!(Outcome::from_code(-1), None);
        assert_eq!(Outcome::from_code(46), None);
    }
}
