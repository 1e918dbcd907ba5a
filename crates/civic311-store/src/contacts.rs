//! Informational contacts: calls and messages answered without a service request.

use civic311_domain::InformationalContact;

use crate::pool::dispatch;
use crate::{Result, Store};

impl Store {
    /// Logs a contact and returns its id.
    pub async fn record_contact(&self, contact: &InformationalContact) -> Result<i64> {
        dispatch!(self, write, record_contact(contact))
    }

    /// How many contacts each topic had, most asked first.
    pub async fn contact_counts(&self) -> Result<Vec<(String, i64)>> {
        dispatch!(self, read, contact_counts())
    }
}
