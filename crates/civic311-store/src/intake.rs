//! What public intake needs besides requests: API keys for the clients that file them, Open311
//! tokens (a receipt to look a request up by) and uploaded photos.

use chrono::{DateTime, Utc};
use civic311_domain::{Actor, NewServiceRequest, ServiceRequest, ServiceRequestId};
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

use crate::pool::dispatch;
use crate::{Result, Store, StoreError};

/// Most requests written in one filing transaction.
const MAX_FILING_BATCH: usize = 128;

/// A request waiting to be filed with its token.
pub(crate) struct Filing {
    pub new: NewServiceRequest,
    pub actor: Actor,
    pub now: DateTime<Utc>,
    /// The Open311 token to record with it, if any.
    pub token: Option<String>,
}

pub(crate) type FilingQueue =
    mpsc::UnboundedSender<(Filing, oneshot::Sender<Result<ServiceRequest>>)>;

/// Longest accepted upload.
pub const MAX_MEDIA_BYTES: usize = 5 * 1024 * 1024;

/// `n` random bytes from the operating system, as lowercase hex.
pub fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::corrupt(format!("no randomness from the OS: {e}")))?;
    Ok(hex::encode(bytes))
}

fn sha256_hex(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// An app or partner filing requests through Open311.
    Client,
    /// City staff (or a city system): the staff API, and requesters' personal data.
    Staff,
}

impl KeyRole {
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyRole::Client => "client",
            KeyRole::Staff => "staff",
        }
    }
}

/// What a token says about its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// No such token.
    Unknown,
    /// The request is not filed yet.
    Pending,
    Filed(ServiceRequestId),
}

/// A resident's comment relayed by another system (e.g. FixMyStreet's servicerequestupdates).
#[derive(Debug, Clone)]
pub struct Comment {
    /// The API client that relays it.
    pub client: String,
    /// The relaying system's own id for the comment, if it sends one: a second delivery with the
    /// same id is recognised and not stored again.
    pub external_id: Option<String>,
    pub text: String,
    /// The resident says the problem is back: reopen a closed request.
    pub reopen: bool,
}

#[derive(Debug, Clone)]
pub struct CommentSaved {
    /// The comment's event `seq` (its update id).
    pub seq: i64,
    /// This delivery repeated one already stored; nothing was written.
    pub duplicate: bool,
    pub request: ServiceRequest,
}

impl Store {
    /// Adds a public comment (and a reopen when asked) to a request, at most once per
    /// `external_id`, in one transaction.
    pub async fn add_comment(
        &self,
        id: &ServiceRequestId,
        comment: &Comment,
        now: DateTime<Utc>,
    ) -> Result<CommentSaved> {
        dispatch!(self, write, add_comment(id.as_str(), comment, now))
    }

    /// Issues a client API key to `name` and returns it; see [`Store::issue_api_key_with_role`].
    pub async fn issue_api_key(&self, name: &str, now: DateTime<Utc>) -> Result<String> {
        self.issue_api_key_with_role(name, KeyRole::Client, now)
            .await
    }

    /// Issues an API key to `name` and returns it; it is shown once, only its SHA-256 is kept.
    /// The key is 32 random bytes, so a fast hash is enough (no password stretching needed).
    pub async fn issue_api_key_with_role(
        &self,
        name: &str,
        role: KeyRole,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let key = random_hex(32)?;
        let hash = sha256_hex(&key);
        dispatch!(self, write, insert_api_key(name, &hash, role.as_str(), now))?;
        Ok(key)
    }

    /// The name a valid, unrevoked key was issued to.
    pub async fn api_key_owner(&self, key: &str) -> Result<Option<String>> {
        Ok(self.api_key(key).await?.map(|(name, _)| name))
    }

    /// The name and role of a valid, unrevoked key.
    pub async fn api_key(&self, key: &str) -> Result<Option<(String, KeyRole)>> {
        let hash = sha256_hex(key);
        let found: Option<(String, String)> = dispatch!(self, read, api_key(&hash))?;
        Ok(found.map(|(name, role)| {
            let role = if role == "staff" {
                KeyRole::Staff
            } else {
                KeyRole::Client
            };
            (name, role)
        }))
    }

    /// Revokes every key issued to `name`; returns how many.
    pub async fn revoke_api_keys(&self, name: &str, now: DateTime<Utc>) -> Result<u64> {
        dispatch!(self, write, revoke_api_keys(name, now))
    }

    /// Files a request as [`Store::create_request`] does and records a fresh token for it in the
    /// same transaction. Requests filed concurrently are written together, in one transaction
    /// per batch (group commit): the single SQLite writer then takes a handful of statements
    /// per batch instead of per request (docs/BENCHMARKS.md §2).
    pub async fn create_request_with_token(
        &self,
        new: NewServiceRequest,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(ServiceRequest, String)> {
        let token = random_hex(16)?;
        let filing = Filing {
            new,
            actor,
            now,
            token: Some(token.clone()),
        };
        let (reply, filed) = oneshot::channel();
        let queue = self.filings.get_or_init(|| self.start_filing());
        if queue.send((filing, reply)).is_err() {
            return Err(StoreError::corrupt("the filing task has stopped"));
        }
        let request = filed
            .await
            .map_err(|_| StoreError::corrupt("the filing task dropped a request"))??;
        Ok((request, token))
    }

    // Starts the task that writes queued filings in batches. It holds a clone of the store
    // without the queue, so it ends when the last store handle is dropped.
    fn start_filing(&self) -> FilingQueue {
        let (queue, mut rx) =
            mpsc::unbounded_channel::<(Filing, oneshot::Sender<Result<ServiceRequest>>)>();
        let store = Store {
            filings: Arc::new(OnceLock::new()),
            ..self.clone()
        };
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_FILING_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let filings: Vec<&Filing> = batch.iter().map(|(f, _)| f).collect();
                let results = match dispatch!(store, write, file_requests(&filings)) {
                    Ok(results) => results,
                    // One filing can fail a whole batch (say, a constraint its service broke):
                    // file them one by one so only that one fails.
                    Err(e) if batch.len() > 1 => {
                        tracing::warn!(error = %e, filings = batch.len(), "batch filing failed; filing one by one");
                        let mut results = Vec::with_capacity(batch.len());
                        for f in filings {
                            let one = dispatch!(store, write, file_requests(&[f]));
                            results.push(one.and_then(|mut r| {
                                r.pop()
                                    .unwrap_or_else(|| Err(StoreError::corrupt("no result")))
                            }));
                        }
                        results
                    }
                    Err(e) => vec![Err(e)],
                };
                for ((_, reply), result) in batch.into_iter().zip(results) {
                    // The caller may have gone (client disconnected): the request stays filed.
                    let _ = reply.send(result);
                }
            }
        });
        queue
    }

    pub async fn token(&self, token: &str) -> Result<TokenState> {
        let found: Option<Option<String>> = dispatch!(self, read, token(token))?;
        Ok(match found {
            None => TokenState::Unknown,
            Some(None) => TokenState::Pending,
            Some(Some(id)) => TokenState::Filed(ServiceRequestId::parse(id)?),
        })
    }

    /// Stores an uploaded file and returns its id. The caller checks type and size.
    pub async fn insert_media(
        &self,
        content_type: &str,
        bytes: &[u8],
        now: DateTime<Utc>,
    ) -> Result<String> {
        let id = random_hex(16)?;
        dispatch!(self, write, insert_media(&id, content_type, bytes, now))?;
        Ok(id)
    }

    /// Where the last pull from `source` stopped (the importer's own JSON).
    pub async fn sync_cursor(&self, source: &str) -> Result<Option<String>> {
        dispatch!(self, read, sync_cursor(source))
    }

    pub async fn set_sync_cursor(
        &self,
        source: &str,
        cursor: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, write, set_sync_cursor(source, cursor, now))
    }

    /// An uploaded file: (content type, bytes).
    pub async fn media(&self, id: &str) -> Result<Option<(String, Vec<u8>)>> {
        dispatch!(self, read, media(id))
    }
}
