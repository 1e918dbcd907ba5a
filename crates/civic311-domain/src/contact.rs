//! Informational contacts: a call or message answered without a service request ("when is my
//! trash day?"). Most 311 contacts are of this kind; they are logged so call volume, staffing and
//! the knowledge base can be judged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AreaRef, Channel, DomainError, ServiceRequestId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InformationalContact {
    pub topic: String,
    pub channel: Channel,
    pub started_at: DateTime<Utc>,
    /// Handling time, for staffing models.
    pub duration_secs: Option<u32>,
    /// The knowledge-base article the answer came from.
    pub article: Option<String>,
    /// The agent who answered.
    pub answered_by: Option<String>,
    pub area: Option<AreaRef>,
    /// A request this contact was about (e.g. a status call), if any.
    pub request_id: Option<ServiceRequestId>,
}

impl InformationalContact {
    /// Logs a contact; the topic is what reports group by, so it may not be blank.
    pub fn new(
        topic: &str,
        channel: Channel,
        started_at: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        let topic = topic.trim();
        if topic.is_empty() {
            return Err(DomainError::Empty { field: "topic" });
        }
        Ok(Self {
            topic: topic.to_owned(),
            channel,
            started_at,
            duration_secs: None,
            article: None,
            answered_by: None,
            area: None,
            request_id: None,
        })
    }
}
