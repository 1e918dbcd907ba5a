//! Counting the roll-ups (rollup.rs) again from the requests, by UTC month of creation: after
//! a bulk load, and on SQLite. Each `GROUP BY` of the roll-ups' statements makes
//! SQLite sort every request it counts (about 2 µs a row whatever the sorter's memory), and the
//! area roll-ups joined and sorted the areas three times: 31 s of a 1M-row import
//! (docs/BENCHMARKS.md §6g). Here the requests, read a day at a time in creation order through
//! the creation-time index, and their areas, read through the areas' own creation-time index,
//! are counted in hash maps, and each roll-up's rows of a month come out sorted by its key, so
//! the tables grow at their ends.
//!
//! What is counted is what the roll-ups' triggers count: [`MonthCounts`] is checked against
//! them on every store by the roll-up tests (`every_shape`).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use serde::Deserialize;

/// A request of a day's read, as the roll-ups count it.
#[derive(Debug, Deserialize)]
pub(crate) struct CountedRequest {
    pub key: i64,
    /// The UTC day of creation, `YYYY-MM-DD`.
    pub day: String,
    pub service: String,
    /// Empty for none.
    pub department: String,
    pub channel: String,
    pub status: String,
    pub outcome: Option<i16>,
    pub close_bin: Option<i64>,
    pub close_seconds: Option<i64>,
}

/// One area of a day's requests: the request's key, the layer, the area.
pub(crate) type PlacedArea = (i64, String, String);

// The words the keys are made of, numbered (services, departments, days, areas...), so that a
// key is a few integers: hashed cheaply, and no text copied per request. Shared, not copied, by
// the rows written (sqlx binds an `Arc<str>` as it is).
#[derive(Default)]
struct Words {
    ids: HashMap<Arc<str>, u32>,
    words: Vec<Arc<str>>,
}

impl Words {
    fn id(&mut self, w: &str) -> u32 {
        if let Some(id) = self.ids.get(w) {
            return *id;
        }
        let id = u32::try_from(self.words.len()).unwrap_or(u32::MAX);
        let word: Arc<str> = Arc::from(w);
        self.ids.insert(word.clone(), id);
        self.words.push(word);
        id
    }

    fn word(&self, id: u32) -> S {
        self.words[id as usize].clone()
    }
}

type W = u32;
type S = Arc<str>;
// Day, service, department, channel, status, outcome.
type DayGroup = (W, W, W, W, W, i16);
// Layer, area, service, department, channel, status, outcome.
type AreaGroup = (W, W, W, W, W, W, i16);

/// The roll-ups' counts of one UTC month's requests at a time.
#[derive(Default)]
pub(crate) struct MonthCounts {
    words: Words,
    // By day: service, department, channel, status, outcome -> requests, close seconds.
    groups: HashMap<DayGroup, Pair>,
    // By day: service, department, bin -> requests.
    bins: HashMap<(W, W, W, i64), i64>,
    // By day: layer, area, service, department -> requests (whatever the outcome).
    areas: HashMap<(W, W, W, W, W), i64>,
    // By area, the month: service, department, channel, status, outcome -> requests, seconds.
    area_groups: HashMap<AreaGroup, Pair>,
    // By area, the month: service, department, bin -> requests.
    area_bins: HashMap<(W, W, W, W, i64), i64>,
    // By area, the month: service, department, the other layer's area -> requests.
    pairs: HashMap<(W, W, W, W, W, W), i64>,
}

/// A `request_rollup` row: grain, period, service, department, channel, status, outcome,
/// requests, sum of close seconds.
pub(crate) type GroupRow = (i16, S, S, S, S, S, i16, i64, i64);
/// A `close_rollup` row: grain, period, service, department, bin, requests.
pub(crate) type BinRow = (i16, S, S, S, i64, i64);
/// A `close_bin_rollup` row: grain, period, bin, requests.
pub(crate) type CityBinRow = (i16, S, i64, i64);
/// An `area_rollup` row: grain, period, layer, area, service, department, requests.
pub(crate) type AreaRow = (i16, S, S, S, S, S, i64);
/// An `area_request_rollup` row: layer, area, month, service, department, channel, status,
/// outcome, requests, sum of close seconds.
pub(crate) type AreaGroupRow = (S, S, S, S, S, S, S, i16, i64, i64);
/// An `area_close_rollup` row: layer, area, month, service, department, bin, requests.
pub(crate) type AreaBinRow = (S, S, S, S, S, i64, i64);
/// An `area_pair_rollup` row: layer, area, month, service, department, paired layer, paired
/// area, requests.
pub(crate) type PairRow = (S, S, S, S, S, S, S, i64);

/// Every roll-up's rows of a month, each sorted by its table's key.
#[derive(Default)]
pub(crate) struct MonthRows {
    pub groups: Vec<GroupRow>,
    pub bins: Vec<BinRow>,
    pub city_bins: Vec<CityBinRow>,
    pub areas: Vec<AreaRow>,
    pub area_groups: Vec<AreaGroupRow>,
    pub area_bins: Vec<AreaBinRow>,
    pub pairs: Vec<PairRow>,
}

impl MonthRows {
    /// Appends `other`'s rows to this one's, table by table.
    pub(crate) fn append(&mut self, mut other: MonthRows) {
        self.groups.append(&mut other.groups);
        self.bins.append(&mut other.bins);
        self.city_bins.append(&mut other.city_bins);
        self.areas.append(&mut other.areas);
        self.area_groups.append(&mut other.area_groups);
        self.area_bins.append(&mut other.area_bins);
        self.pairs.append(&mut other.pairs);
    }
}

fn add<K: Hash + Eq>(map: &mut HashMap<K, i64>, key: K, n: i64) {
    *map.entry(key).or_insert(0) += n;
}

fn add2<K: Hash + Eq>(map: &mut HashMap<K, Pair>, key: K, seconds: i64) {
    *map.entry(key).or_default() += Pair(1, seconds);
}

// The entries of a map of counts, their keys turned by `row`, sorted.
fn sorted<K, V: Copy, R: Ord>(map: &HashMap<K, V>, row: impl Fn(&K, V) -> R) -> Vec<R> {
    let mut rows: Vec<R> = map.iter().map(|(k, v)| row(k, *v)).collect();
    rows.sort_unstable();
    rows
}

// Counts summed over the day (the first part of their key): the month's.
fn by_month<K: Copy + Hash + Eq, V: Copy + Default + std::ops::AddAssign>(
    map: &HashMap<K, V>,
    without_day: impl Fn(K) -> K,
) -> HashMap<K, V> {
    let mut months: HashMap<K, V> = HashMap::new();
    for (k, v) in map {
        *months.entry(without_day(*k)).or_default() += *v;
    }
    months
}

// Requests and the sum of their close seconds.
#[derive(Clone, Copy, Default)]
struct Pair(i64, i64);

impl std::ops::AddAssign for Pair {
    fn add_assign(&mut self, o: Pair) {
        self.0 += o.0;
        self.1 += o.1;
    }
}

impl MonthCounts {
    /// Counts one request, `areas` the areas it is placed in.
    pub(crate) fn add(&mut self, r: &CountedRequest, areas: &[PlacedArea]) {
        let w = &mut self.words;
        let (day, service, department) = (w.id(&r.day), w.id(&r.service), w.id(&r.department));
        let (channel, status) = (w.id(&r.channel), w.id(&r.status));
        let placed: Vec<(W, W)> = areas.iter().map(|(_, l, a)| (w.id(l), w.id(a))).collect();
        let seconds = r.close_seconds.unwrap_or(0);
        if let Some(outcome) = r.outcome {
            add2(
                &mut self.groups,
                (day, service, department, channel, status, outcome),
                seconds,
            );
            if let Some(bin) = r.close_bin {
                add(&mut self.bins, (day, service, department, bin), 1);
            }
            for &(layer, area) in &placed {
                add2(
                    &mut self.area_groups,
                    (layer, area, service, department, channel, status, outcome),
                    seconds,
                );
                if let Some(bin) = r.close_bin {
                    add(
                        &mut self.area_bins,
                        (layer, area, service, department, bin),
                        1,
                    );
                }
            }
        }
        for &(layer, area) in &placed {
            add(&mut self.areas, (day, layer, area, service, department), 1);
            for &(other, its) in placed.iter().filter(|(l, _)| *l != layer) {
                add(
                    &mut self.pairs,
                    (layer, area, service, department, other, its),
                    1,
                );
            }
        }
    }

    /// The rows of every roll-up for the month counted, `month` (`YYYY-MM`) its period; the
    /// counts start again from nothing.
    pub(crate) fn take_rows(&mut self, month: &str) -> MonthRows {
        let month = self.words.id(month);
        let rows = self.rows(month);
        let words = std::mem::take(&mut self.words);
        *self = MonthCounts {
            words,
            ..MonthCounts::default()
        };
        rows
    }

    fn rows(&self, month: W) -> MonthRows {
        let w = |id: W| self.words.word(id);
        // The month's groups have the day's place in their key set to the month.
        let months = |grain: i16| move |day: W| if grain == 1 { day } else { month };
        let mut out = MonthRows::default();
        for grain in [1, 2] {
            let at = months(grain);
            let groups = by_month(&self.groups, |(d, s, dp, c, st, o)| {
                (at(d), s, dp, c, st, o)
            });
            out.groups
                .extend(sorted(&groups, |&(d, s, dp, c, st, o), v: Pair| {
                    (grain, w(d), w(s), w(dp), w(c), w(st), o, v.0, v.1)
                }));
            let bins = by_month(&self.bins, |(d, s, dp, b)| (at(d), s, dp, b));
            out.bins.extend(sorted(&bins, |&(d, s, dp, b), n| {
                (grain, w(d), w(s), w(dp), b, n)
            }));
            let city = by_month(&self.bins, |(d, _, _, b)| (at(d), 0, 0, b));
            out.city_bins
                .extend(sorted(&city, |&(d, _, _, b), n| (grain, w(d), b, n)));
            let areas = by_month(&self.areas, |(d, l, a, s, dp)| (at(d), l, a, s, dp));
            out.areas.extend(sorted(&areas, |&(d, l, a, s, dp), n| {
                (grain, w(d), w(l), w(a), w(s), w(dp), n)
            }));
        }
        let m = w(month);
        out.area_groups = sorted(
            &self.area_groups,
            |&(l, a, s, dp, c, st, o), Pair(n, secs)| {
                (w(l), w(a), m.clone(), w(s), w(dp), w(c), w(st), o, n, secs)
            },
        );
        out.area_bins = sorted(&self.area_bins, |&(l, a, s, dp, b), n| {
            (w(l), w(a), m.clone(), w(s), w(dp), b, n)
        });
        // An area paired with itself counts all its requests of the month, as its month's
        // `area_rollup` rows do.
        let own = by_month(&self.areas, |(_, l, a, s, dp)| (month, l, a, s, dp));
        let mut pairs: Vec<PairRow> = own
            .iter()
            .map(|(&(_, l, a, s, dp), &n)| (w(l), w(a), m.clone(), w(s), w(dp), w(l), w(a), n))
            .chain(self.pairs.iter().map(|(&(l, a, s, dp, ol, oa), &n)| {
                (w(l), w(a), m.clone(), w(s), w(dp), w(ol), w(oa), n)
            }))
            .collect();
        pairs.sort_unstable();
        out.pairs = pairs;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(day: &str, outcome: Option<i16>, bin: Option<i64>) -> CountedRequest {
        CountedRequest {
            key: 0,
            day: day.to_owned(),
            service: "pothole".to_owned(),
            department: String::new(),
            channel: "phone".to_owned(),
            status: "closed".to_owned(),
            outcome,
            close_bin: bin,
            close_seconds: bin.map(|b| b * 10),
        }
    }

    fn placed(areas: &[(&str, &str)]) -> Vec<PlacedArea> {
        areas
            .iter()
            .map(|(l, a)| (0, l.to_string(), a.to_string()))
            .collect()
    }

    #[test]
    fn days_sum_into_the_month_and_areas_pair_across_layers_only() {
        let mut counts = MonthCounts::default();
        counts.add(
            &request("2020-03-02", Some(1), Some(7)),
            &placed(&[("council", "2"), ("nbhd", "midtown")]),
        );
        counts.add(
            &request("2020-03-01", Some(1), Some(7)),
            &placed(&[("council", "2")]),
        );
        // No outcome: counted by area only; no area: by the city only.
        counts.add(
            &request("2020-03-01", None, None),
            &placed(&[("nbhd", "midtown")]),
        );
        counts.add(&request("2020-03-02", Some(1), None), &[]);
        let rows = counts.take_rows("2020-03");
        assert_eq!(
            rows.groups
                .iter()
                .map(|r| (r.0, &*r.1, &*r.2, &*r.3, &*r.4, &*r.5, r.6, r.7, r.8))
                .collect::<Vec<_>>(),
            vec![
                (1, "2020-03-01", "pothole", "", "phone", "closed", 1, 1, 70),
                (1, "2020-03-02", "pothole", "", "phone", "closed", 1, 2, 70),
                (2, "2020-03", "pothole", "", "phone", "closed", 1, 3, 140),
            ]
        );
        assert_eq!(
            rows.city_bins
                .iter()
                .map(|r| (r.0, &*r.1, r.2, r.3))
                .collect::<Vec<_>>(),
            vec![
                (1, "2020-03-01", 7, 1),
                (1, "2020-03-02", 7, 1),
                (2, "2020-03", 7, 2)
            ]
        );
        assert_eq!(
            rows.areas
                .iter()
                .filter(|r| r.0 == 2)
                .map(|r| (&*r.2, &*r.3, r.6))
                .collect::<Vec<_>>(),
            vec![("council", "2", 2), ("nbhd", "midtown", 2)]
        );
        assert_eq!(
            rows.area_groups
                .iter()
                .map(|r| (&*r.0, &*r.1, r.8))
                .collect::<Vec<_>>(),
            vec![("council", "2", 2), ("nbhd", "midtown", 1)]
        );
        assert_eq!(
            rows.pairs
                .iter()
                .map(|r| (&*r.0, &*r.1, &*r.5, &*r.6, r.7))
                .collect::<Vec<_>>(),
            vec![
                ("council", "2", "council", "2", 2),
                ("council", "2", "nbhd", "midtown", 1),
                ("nbhd", "midtown", "council", "2", 1),
                ("nbhd", "midtown", "nbhd", "midtown", 2),
            ]
        );
    }
}
