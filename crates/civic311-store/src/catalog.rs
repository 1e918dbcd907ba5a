//! The service catalog: departments, services and the routing table.

use chrono::{DateTime, Utc};
use civic311_domain::{Department, RoutingTable, Service, ServiceCode};

use crate::pool::dispatch;
use crate::{Result, Store};

impl Store {
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
