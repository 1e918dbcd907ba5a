//! The service catalog as the web layer reads it on every request: cached for a few seconds,
//! because it changes a few times a year and loading it (hundreds of services with their
//! attribute definitions) costs more than the request being answered. Each server keeps its own
//! copy, so several stateless servers agree within the time-to-live.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use civic311_domain::{AreaIndex, Department, Service};
use civic311_store::{Result, Store};

/// How long a loaded catalog is used before it is read again.
pub const CATALOG_TTL: Duration = Duration::from_secs(10);
/// How long the area index is kept across catalog reloads: rebuilding it parses every polygon
/// of every layer (0.4 s for ten city-sized layers), and layers change even less than services.
pub const AREAS_TTL: Duration = Duration::from_secs(300);

/// Services and departments, with names by code, and the area layers as an index.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Where a point is: its neighborhood, council district... (one area per layer).
    pub areas: Arc<AreaIndex>,
    areas_loaded: Option<Instant>,
    pub services: Vec<Service>,
    pub departments: Vec<Department>,
    pub service_names: HashMap<String, String>,
    pub department_names: HashMap<String, String>,
}

/// One reload at a time: while it runs, other requests keep using the previous catalog (a
/// reload under load by every waiting request at once stalled all of them for 100+ ms).
#[derive(Default)]
pub struct CatalogCache {
    loaded: RwLock<Option<(Instant, Arc<Catalog>)>>,
    reloading: tokio::sync::Mutex<()>,
}

impl CatalogCache {
    fn cached(&self) -> Option<(Instant, Arc<Catalog>)> {
        self.loaded.read().ok().and_then(|g| g.clone())
    }

    /// Makes the next `get` read the catalog again (after a change through this server; other
    /// servers see it within [`CATALOG_TTL`]). The area index is kept.
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.loaded.write()
            && let Some((at, _)) = guard.as_mut()
        {
            *at = Instant::now()
                .checked_sub(CATALOG_TTL)
                .unwrap_or_else(Instant::now);
        }
    }

    pub async fn get(&self, store: &Store) -> Result<Arc<Catalog>> {
        let previous = self.cached();
        let _reload = match previous.clone() {
            Some((at, catalog)) if at.elapsed() < CATALOG_TTL => return Ok(catalog),
            Some((_, stale)) => match self.reloading.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(stale),
            },
            None => {
                let guard = self.reloading.lock().await;
                if let Some((at, catalog)) = self.cached()
                    && at.elapsed() < CATALOG_TTL
                {
                    return Ok(catalog);
                }
                guard
            }
        };
        let services = store.services().await?;
        let departments = store.departments().await?;
        let (areas, areas_loaded) = match previous.map(|(_, c)| c) {
            Some(c) if c.areas_loaded.is_some_and(|at| at.elapsed() < AREAS_TTL) => {
                (c.areas.clone(), c.areas_loaded)
            }
            _ => (Arc::new(store.area_index().await?), Some(Instant::now())),
        };
        let catalog = Arc::new(Catalog {
            areas,
            areas_loaded,
            service_names: services
                .iter()
                .map(|s| (s.code.to_string(), s.name.clone()))
                .collect(),
            department_names: departments
                .iter()
                .map(|d| (d.code.to_string(), d.name.clone()))
                .collect(),
            services,
            departments,
        });
        if let Ok(mut guard) = self.loaded.write() {
            *guard = Some((Instant::now(), catalog.clone()));
        }
        Ok(catalog)
    }
}
