//! The service catalog: departments, services and the routing table.

use chrono::{DateTime, NaiveDate, Utc};
use civic311_domain::{
    CatalogChanges, CatalogDocument, Department, RoutingTable, Service, ServiceCode,
};
use serde::Serialize;

use crate::pool::dispatch;
use crate::{Result, Store};

/// One saved version of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogVersion {
    pub version: i64,
    pub summary: String,
    pub saved_at: DateTime<Utc>,
    pub saved_by: String,
}

/// A version of the budget table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetVersion {
    /// The local date it takes effect: the first day of its fiscal year (1900-01-01 for a table
    /// saved without one, in force since always).
    pub effective_from: NaiveDate,
    pub services: u64,
    pub saved_at: DateTime<Utc>,
    pub saved_by: String,
}

/// The date of a budget saved without one: in force since always, until a later version.
pub const BUDGET_SINCE_ALWAYS: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

impl Store {
    /// Saves the budget version that takes effect on `effective_from` (a local date, the first
    /// day of a fiscal year; docs/METRICS.md, "Cost per request"), replacing that version whole
    /// in one transaction. Other versions stay as they are.
    pub async fn save_costs(
        &self,
        effective_from: NaiveDate,
        costs: &[civic311_domain::ServiceCost],
        by: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        dispatch!(self, write, save_costs(effective_from, costs, by, now))
    }

    /// The budget version in force on `on` (the latest that took effect on or before it): its
    /// date and its costs by service code; `None` before the first.
    pub async fn costs(
        &self,
        on: NaiveDate,
    ) -> Result<Option<(NaiveDate, Vec<civic311_domain::ServiceCost>)>> {
        dispatch!(self, read, costs(on))
    }

    /// Every budget version, oldest first.
    pub async fn budget_versions(&self) -> Result<Vec<BudgetVersion>> {
        dispatch!(self, read, budget_versions())
    }

    /// The whole catalog as a document (departments and services by code).
    pub async fn catalog(&self) -> Result<CatalogDocument> {
        let mut departments = self.departments().await?;
        departments.sort_by(|a, b| a.code.cmp(&b.code));
        let mut services = self.services().await?;
        services.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(CatalogDocument {
            departments,
            services,
        })
    }

    /// Checks `doc` and saves it as the next catalog version; what it changed. Nothing is saved
    /// (and no version made) when it changes nothing. Requests already filed keep their due
    /// dates: a new SLA target applies to new requests.
    pub async fn save_catalog(
        &self,
        doc: &CatalogDocument,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<(Option<i64>, CatalogChanges)> {
        let current = self.catalog().await?;
        let known: Vec<_> = current.departments.iter().map(|d| d.code.clone()).collect();
        doc.check(&known)?;
        let changes = doc.changes(&current);
        if changes.is_empty() {
            return Ok((None, changes));
        }
        let version = dispatch!(self, write, save_catalog(doc, &changes.summary(), by, now))?;
        Ok((Some(version), changes))
    }

    /// Every saved catalog version, newest first.
    pub async fn catalog_versions(&self) -> Result<Vec<CatalogVersion>> {
        let rows = dispatch!(self, read, catalog_versions())?;
        Ok(rows
            .into_iter()
            .map(|(version, summary, saved_at, saved_by)| CatalogVersion {
                version,
                summary,
                saved_at,
                saved_by,
            })
            .collect())
    }

    /// The whole catalog as it stood after `version` was saved.
    pub async fn catalog_version(&self, version: i64) -> Result<Option<CatalogDocument>> {
        dispatch!(self, read, catalog_version(version))
    }

    pub async fn upsert_department(&self, department: &Department) -> Result<()> {
        dispatch!(self, write, upsert_department(department))
    }

    pub async fn departments(&self) -> Result<Vec<Department>> {
        dispatch!(self, read, departments())
    }

    pub async fn upsert_service(&self, service: &Service) -> Result<()> {
        dispatch!(self, write, upsert_service(service))
    }

    pub async fn services(&self) -> Result<Vec<Service>> {
        dispatch!(self, read, services())
    }

    /// The `limit` services with the most requests: (code, name, requests).
    pub async fn service_counts(&self, limit: u32) -> Result<Vec<(String, String, i64)>> {
        dispatch!(self, read, service_counts(limit))
    }

    pub async fn service(&self, code: &ServiceCode) -> Result<Option<Service>> {
        dispatch!(self, read, service(code.as_str()))
    }

    /// Saves `table` as the newest routing table (version n + 1) and returns its version. New
    /// requests are routed by it from then on; routed requests keep their history.
    pub async fn save_routing(
        &self,
        table: &RoutingTable,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<i64> {
        table.check()?;
        dispatch!(self, write, save_routing(table, by, now))
    }

    /// The routing table in force and its version (0: none saved, the empty table).
    pub async fn routing(&self) -> Result<(i64, RoutingTable)> {
        dispatch!(self, read, routing())
    }
}
