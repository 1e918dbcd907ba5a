//! The service catalog: departments and services.

use civic311_domain::{Department, Service, ServiceCode};

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
}
