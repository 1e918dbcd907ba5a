//! Bulk loads: a first import of a city's history writes millions of requests into empty tables.
//! Keeping every secondary index up to date row by row touches random index pages on each insert
//! (SQLite imported 2.7× slower with them, docs/BENCHMARKS.md §6); building an index once at the
//! end is a sort. So a bulk load drops the request tables' non-unique indexes and builds them
//! again when it ends. Unique indexes stay (they keep ids unique and make upserts work), and so
//! does the per-request event index, which a repeated id in the file reads through.
//!
//! The triggers that keep the roll-ups (rollup.rs) are dropped with them, and the roll-ups are
//! counted again in one pass when they come back. On PostgreSQL so are the request tables'
//! foreign keys: checking them row by row was most of a bulk load's time there, and adding
//! them back checks every row at once. The load writes only keys it was just given; a dangling
//! one would make that restore fail, and leave the keys off, until it is mended.
//!
//! The definitions of the dropped indexes and triggers go into `suspended_indexes` in the same transaction as
//! the drops. [`Store::restore_indexes`] builds them from there, and [`Store::open`] calls it:
//! a load that died half-way loses no index.

use crate::pool::dispatch;
use crate::{Result, Store};

impl Store {
    /// Drops the non-unique indexes of the request tables, keeping their definitions for
    /// [`Store::restore_indexes`]. Returns how many were dropped.
    pub async fn suspend_indexes(&self) -> Result<usize> {
        dispatch!(self, write, suspend_indexes())
    }

    /// Builds again every index [`Store::suspend_indexes`] dropped. Returns how many.
    pub async fn restore_indexes(&self) -> Result<usize> {
        dispatch!(self, write, restore_indexes())
    }
}
