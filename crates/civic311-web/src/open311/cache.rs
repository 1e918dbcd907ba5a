//! A micro-cache for Open311 reads. Many clients poll the same URLs (the default request list,
//! the catalog); a reply rendered once is served to everyone asking the same URL until the store
//! changes or `ttl` passes, whichever comes first. Concurrent misses on one URL render it once.
//!
//! A write made by this server invalidates everything at once (the store's generation moves);
//! `ttl` bounds how stale a reply can be after a write by another server sharing the database.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Bytes, HttpBody, to_bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::OnceCell;

/// Replies larger than this are not kept (a page of 500 requests is about 300 KB).
const MAX_BODY: u64 = 1024 * 1024;
/// URLs kept at most; past it, expired entries go, then everything if still full.
const MAX_ENTRIES: usize = 128;

#[derive(Clone)]
struct Cached {
    content_type: Option<HeaderValue>,
    body: Bytes,
}

struct Slot {
    generation: u64,
    born: Instant,
    reply: Arc<OnceCell<Cached>>,
}

pub struct ReplyCache {
    ttl: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl ReplyCache {
    /// A cache keeping replies for `ttl`; zero turns it off.
    pub fn new(ttl: Duration) -> ReplyCache {
        ReplyCache {
            ttl,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The reply to `key` at store `generation`: kept, or rendered by `render` and kept when it
    /// is a 200 that fits. Errors are never kept.
    pub async fn reply<F>(&self, key: String, generation: u64, render: F) -> Response
    where
        F: Future<Output = Response>,
    {
        if self.ttl.is_zero() {
            return render.await;
        }
        let cell = self.slot(key, generation);
        let rendered = cell
            .get_or_try_init(|| async {
                let response = render.await;
                let size = response.body().size_hint().exact();
                if response.status() != StatusCode::OK || size.is_none_or(|n| n > MAX_BODY) {
                    return Err(response);
                }
                let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
                match to_bytes(response.into_body(), usize::MAX).await {
                    Ok(body) => Ok(Cached { content_type, body }),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read a rendered Open311 reply");
                        Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
                    }
                }
            })
            .await;
        match rendered {
            Ok(cached) => {
                let mut response = cached.body.clone().into_response();
                if let Some(ct) = &cached.content_type {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_TYPE, ct.clone());
                }
                response
            }
            Err(response) => response,
        }
    }

    fn slot(&self, key: String, generation: u64) -> Arc<OnceCell<Cached>> {
        let now = Instant::now();
        let fresh = |s: &Slot| s.generation == generation && now.duration_since(s.born) < self.ttl;
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(slot) = slots.get(&key).filter(|s| fresh(s)) {
            return slot.reply.clone();
        }
        if slots.len() >= MAX_ENTRIES {
            slots.retain(|_, s| fresh(s));
            if slots.len() >= MAX_ENTRIES {
                slots.clear();
            }
        }
        let reply = Arc::new(OnceCell::new());
        slots.insert(
            key,
            Slot {
                generation,
                born: now,
                reply: reply.clone(),
            },
        );
        reply
    }
}
