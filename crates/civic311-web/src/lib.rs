//! HTTP for civic311: the JSON API and the web UI, served by one axum router (`router.rs`).
//! Handlers translate between HTTP and the store; rules live in the domain crate.

mod api;
pub mod catalog;
mod cohort;
mod error;
mod media;
pub mod open311;
pub mod outbound;
mod pages;
mod public;
mod router;
mod staff_ui;

pub use api::OPENAPI;
pub use router::{AppState, router, serve};
