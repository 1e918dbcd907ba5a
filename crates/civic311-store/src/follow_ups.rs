//! The customer service officers' call-back queue, and attachments added by staff.

use chrono::{DateTime, Utc};
use civic311_domain::follow_ups::FollowUp;
use civic311_domain::{Actor, ServiceRequest, ServiceRequestId};

use crate::intake::random_hex;
use crate::pool::dispatch;
use crate::{Result, Store};

/// A file staff attach to a request.
#[derive(Debug, Clone)]
pub struct Attachment<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    /// Shown to residents (Open311 history, `/media/{id}`); internal otherwise.
    pub public: bool,
}

impl Store {
    /// Opens a follow-up by hand, with why; an event on the request.
    pub async fn open_follow_up(
        &self,
        request: &ServiceRequestId,
        note: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(FollowUp, ServiceRequest)> {
        dispatch!(
            self,
            write,
            open_follow_up(request.as_str(), note, actor, now)
        )
    }

    /// The queue: open tasks oldest first, or (`open` false) the latest done ones.
    pub async fn follow_ups(&self, open: bool, limit: u32) -> Result<Vec<FollowUp>> {
        dispatch!(self, read, follow_ups(open, i64::from(limit)))
    }

    pub async fn follow_ups_of(&self, request: &ServiceRequestId) -> Result<Vec<FollowUp>> {
        dispatch!(self, read, follow_ups_of(request.as_str()))
    }

    /// Closes a task with what was done; an event on the request. Refused for a task already
    /// done.
    pub async fn finish_follow_up(
        &self,
        task: i64,
        outcome: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(FollowUp, ServiceRequest)> {
        dispatch!(self, write, finish_follow_up(task, outcome, actor, now))
    }

    /// Stores a file and records it on the request, in one transaction; the file's id.
    pub async fn attach(
        &self,
        request: &ServiceRequestId,
        file: &Attachment<'_>,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(String, ServiceRequest)> {
        let id = random_hex(16)?;
        let r = dispatch!(self, write, attach(request.as_str(), &id, file, actor, now))?;
        Ok((id, r))
    }

    /// Any stored file, public or internal (for staff): (content type, bytes).
    pub async fn staff_media(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        dispatch!(self, read, staff_media(id))
    }
}
