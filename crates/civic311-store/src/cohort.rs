//! Every request a filter selects, a page at a time, for exports and metrics: the next pages are
//! read (each on a connection of its own) while the caller works on this one.

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use civic311_domain::ServiceRequest;
use tokio::task::JoinHandle;

use crate::{RequestFilter, Result, Store};

/// Pages read ahead of the one being worked on.
const PAGES_AHEAD: usize = 2;

type Fetch = JoinHandle<Result<Vec<(i64, ServiceRequest)>>>;

/// Where a page's requests are.
enum PageOf {
    /// A range of store keys, the filter applied to it.
    Keys(Range<i64>),
    /// These of the keys found (the filter was applied when they were found).
    Listed(Range<usize>),
}

/// The requests a filter selects, in key order, a page at a time: see [`Store::read_cohort`].
pub struct Cohort {
    store: Store,
    filter: RequestFilter,
    /// The keys the filter selects, when they were listed first.
    keys: Arc<Vec<i64>>,
    pages: std::vec::IntoIter<PageOf>,
    reading: VecDeque<Fetch>,
}

impl Store {
    /// Reads the requests `filter` selects, `page` at a time, without requesters. A filter that
    /// restricts anything (a period, services, an area) finds its requests through the indexes
    /// first, so a month costs the month's rows whatever the store holds; an unrestricted one
    /// walks the store's keys in ranges.
    pub async fn read_cohort(&self, filter: &RequestFilter, page: u32) -> Result<Cohort> {
        let unrestricted = filter.ids.is_empty()
            && filter.service_codes.is_empty()
            && filter.states.is_empty()
            && filter.department.is_none()
            && filter.created_from.is_none()
            && filter.created_before.is_none()
            && filter.updated_after.is_none()
            && filter.updated_before.is_none()
            && filter.area.is_none();
        let (keys, pages): (Vec<i64>, Vec<PageOf>) = if unrestricted {
            let pages = self.key_pages(page).await?.map(PageOf::Keys).collect();
            (Vec::new(), pages)
        } else {
            // In key order: pages read neighbouring rows, and a listing's pages are the same
            // whichever index the database chose.
            let mut keys = self.cohort_keys(filter).await?;
            keys.sort_unstable();
            let size = page as usize;
            let pages = (0..keys.len())
                .step_by(size.max(1))
                .map(|start| PageOf::Listed(start..keys.len().min(start + size)))
                .collect();
            (keys, pages)
        };
        let mut cohort = Cohort {
            store: self.clone(),
            filter: filter.clone(),
            keys: Arc::new(keys),
            pages: pages.into_iter(),
            reading: VecDeque::with_capacity(PAGES_AHEAD),
        };
        for _ in 0..PAGES_AHEAD {
            cohort.read_one_more();
        }
        Ok(cohort)
    }
}

impl Cohort {
    /// The next page, in key order; `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Vec<(i64, ServiceRequest)>>> {
        let Some(next) = self.reading.pop_front() else {
            return Ok(None);
        };
        self.read_one_more();
        match next.await {
            Ok(page) => page.map(Some),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    fn read_one_more(&mut self) {
        let Some(page) = self.pages.next() else {
            return;
        };
        let (store, filter, keys) = (self.store.clone(), self.filter.clone(), self.keys.clone());
        self.reading.push_back(tokio::spawn(async move {
            match page {
                PageOf::Keys(range) => store.export_page(&filter, range).await,
                PageOf::Listed(at) => store.export_keys(&keys[at]).await,
            }
        }));
    }
}
