//! Real third-party Open311 clients from PyPI (`georeport`, `civicbot`, pinned in
//! tests/python/requirements.txt) against a live server over the real sample: discovery of
//! services, definitions, lists with filters, fetch by id, POST with attributes, tokens, and
//! the error cases, in JSON and XML.
//!
//! The Python environment is `.venv-clients` at the workspace root (scripts/test creates it), or
//! `CIVIC311_CLIENTS_PYTHON`. Without it the test is skipped loudly, unless
//! `CIVIC311_REQUIRE_CLIENTS=1`, which scripts/test sets once the clients are installed.

use std::path::PathBuf;

use civic311_testkit::{TestDb, both_backends};

use crate::open311::Open311App;

both_backends!(georeport_and_civicbot_use_the_server);

pub use civic311_testkit::clients_python as python;

async fn georeport_and_civicbot_use_the_server(db: &TestDb) {
    let Some(python) = python() else { return };
    let o = Open311App::start(db).await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/open311_clients.py");
    let args = [
        script.display().to_string(),
        format!("{}/open311/v2", o.app.base),
        o.key.clone(),
        crate::open311::CLOSED_ID.to_owned(),
        crate::open311::OPEN_ID.to_owned(),
    ];
    let output = tokio::process::Command::new(&python)
        .args(&args)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.trim_end().ends_with("ALL OK"),
        "the Open311 clients failed:\n{stdout}\n{stderr}"
    );
    // Every check ran.
    assert!(stdout.matches("ok: ").count() >= 29, "{stdout}");
}
