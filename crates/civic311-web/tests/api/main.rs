//! The HTTP API through the front door: a real server on a random port, over a store holding
//! the real Kansas City sample, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod appointments;
mod browser;
mod clients;
mod open311;
mod openapi;
mod outbound;
mod privacy;
mod requests;
mod staff;

use std::path::PathBuf;

use civic311_domain::ServiceRequest;
use civic311_store::{KeyRole, Page, RequestFilter, Store};
use civic311_testkit::TestDb;
use civic311_web::AppState;
use civic311_web::open311::Open311Config;
use serde_json::Value;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestApp {
    /// Serves `db` with the real Kansas City sample loaded.
    pub async fn with_sample(db: &TestDb) -> TestApp {
        let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/kansas-city/kc311_sample.csv");
        let report = civic311_import::kansas_city::import_file(&db.store, &sample)
            .await
            .unwrap();
        assert!(report.rejected.is_empty());
        TestApp::serve(db.store.clone()).await
    }

    /// Serves `db` with the real New York City samples of 2013, 2018, 2022 and 2023 loaded
    /// through their mappings: their rows carry the agencies' due dates, so every SLA verdict
    /// occurs.
    pub async fn with_new_york(db: &TestDb) -> TestApp {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        for (mapping, file) in [
            ("nyc-2010s.toml", "nyc311_2013-12-25_52col_sample.csv"),
            ("nyc-2010s.toml", "nyc311_2018-01_53col_sample.csv"),
            ("nyc-current.toml", "nyc311_2022-05_41col_sample.csv"),
            ("nyc-current.toml", "nyc311_2023-02-28_46col_sample.csv"),
        ] {
            let mapping = std::fs::read_to_string(root.join("mappings").join(mapping)).unwrap();
            let mapping = civic311_import::mapping::Mapping::from_toml(&mapping).unwrap();
            let sample = root.join("testdata/new-york").join(file);
            let report = civic311_import::csv_import::import_file(&db.store, &sample, mapping)
                .await
                .unwrap();
            assert!(report.imported > 100, "{file}: {report}");
        }
        TestApp::serve(db.store.clone()).await
    }

    pub async fn serve(store: Store) -> TestApp {
        TestApp::serve_with(store, Open311Config::default()).await
    }

    pub async fn serve_with(store: Store, open311: Open311Config) -> TestApp {
        TestApp::serve_state(AppState::new(store, open311)).await
    }

    pub async fn serve_state(state: AppState) -> TestApp {
        let store = state.store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(civic311_web::serve(listener, state, async {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            client: reqwest::Client::new(),
            store,
            _stop: stop,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// GETs a path and returns (status, JSON body).
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("application/json"), "{path}: {ct}");
        (status, resp.json().await.unwrap())
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).await;
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// A new staff key for `name`.
    pub async fn staff_key(&self, name: &str) -> String {
        self.store
            .issue_api_key_with_role(name, KeyRole::Staff, chrono::Utc::now())
            .await
            .unwrap()
    }

    /// The first `n` open requests of the store, as the public list orders them.
    pub async fn open_requests(&self, n: u32) -> Vec<ServiceRequest> {
        let filter = RequestFilter {
            states: vec!["open"],
            ..Default::default()
        };
        let page = Page {
            limit: n,
            offset: 0,
        };
        self.store.public_requests(&filter, page).await.unwrap()
    }

    /// Sends `body` (JSON) to `path` with `key` as bearer when given: (status, JSON answer).
    pub async fn send_as(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// POSTs JSON to `path` as the holder of `key`.
    pub async fn post_as(&self, key: &str, path: &str, body: Value) -> (u16, Value) {
        self.send_as(reqwest::Method::POST, path, Some(key), Some(&body))
            .await
    }
}
