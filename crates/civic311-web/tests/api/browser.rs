//! The staff pages in a real browser: Debian's Chromium, driven headless through its
//! chromedriver (WebDriver, by fantoccini). Signing in, the dashboard's numbers and their links,
//! the filters, the list behind a number, a request's page, signing out; over the real New York
//! samples (2013 to 2023), whose rows carry due dates.
//!
//! Skipped, loudly, when /usr/bin/chromium or /usr/bin/chromedriver is missing (scripts/test
//! installs them from Debian when it can, and then sets CIVIC311_REQUIRE_BROWSER=1, which makes
//! a missing browser a failure).

use std::path::Path;
use std::time::Duration;

use chrono::Datelike;
use civic311_testkit::{TestDb, both_backends};
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::json;

use crate::TestApp;

struct Browser {
    client: Client,
    _driver: tokio::process::Child,
}

fn program(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

/// A headless Chromium session, or `None` (said loudly) when there is no browser here.
async fn browser() -> Option<Browser> {
    let driver = program("CIVIC311_CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = program("CIVIC311_CHROMIUM", "/usr/bin/chromium");
    if !Path::new(&driver).exists() || !Path::new(&chromium).exists() {
        assert_ne!(
            std::env::var("CIVIC311_REQUIRE_BROWSER").as_deref(),
            Ok("1"),
            "CIVIC311_REQUIRE_BROWSER=1 but {driver} or {chromium} is missing"
        );
        eprintln!(
            "\n*** SKIPPED: no {chromium} and {driver}; install Debian's chromium and \
             chromium-driver (scripts/test does when it runs as root).\n"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut capabilities = fantoccini::wd::Capabilities::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,2400"],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&url)
        .await
        .unwrap();
    Some(Browser {
        client,
        _driver: child,
    })
}

/// Waits until the browser is at `path` (after a click that navigates); its query string.
async fn arrive(c: &Client, path: &str) -> Option<String> {
    for _ in 0..100 {
        let at = c.current_url().await.unwrap();
        if at.path() == path {
            return at.query().map(str::to_owned);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the browser never reached {path}: {}",
        c.current_url().await.unwrap()
    );
}

/// The element `selector` finds, waited for up to 10 s: a click that submits a form returns
/// before the next page has loaded (once, in CI, `#login-error` was looked for on the login
/// form itself).
async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
}

/// Saves what the browser shows as CIVIC311_SCREENSHOTS/NAME.png, when that is set (to look
/// at the pages).
async fn screenshot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("CIVIC311_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
    }
}

/// The count a list page says it lists.
async fn listed(c: &Client) -> u64 {
    let total = css(c, "#total").await.attr("data-total").await.unwrap();
    total.unwrap().parse().unwrap()
}

/// The linked numbers of the page: (href, count, visible text) of every `a[data-n]` that is a
/// count, in `scope`.
async fn numbers(c: &Client, scope: &str) -> Vec<(String, u64, String)> {
    let mut out = Vec::new();
    for a in c.find_all(Locator::Css(scope)).await.unwrap() {
        let n = a.attr("data-n").await.unwrap().unwrap_or_default();
        if n.is_empty() {
            continue;
        }
        let href = a.attr("href").await.unwrap().unwrap();
        out.push((href, n.parse().unwrap(), a.text().await.unwrap()));
    }
    out
}

both_backends!(staff_use_the_dashboard_in_a_browser);

async fn staff_use_the_dashboard_in_a_browser(db: &TestDb) {
    let Some(browser) = browser().await else {
        return;
    };
    let c = &browser.client;
    let app = TestApp::with_new_york(db).await;
    let key = app.staff_key("supervisor-sam").await;
    let now = "2023-03-01T00:00:00Z";

    // Signing in: the dashboard sends a stranger to the form, a wrong key is refused, a staff
    // key comes back to the page asked for.
    c.goto(&format!("{}/staff?now={now}", app.base))
        .await
        .unwrap();
    let query = arrive(c, "/staff/login").await;
    assert_eq!(
        query.as_deref(),
        Some("next=%2Fstaff%3Fnow%3D2023-03-01T00%253A00%253A00Z")
    );
    css(c, "#key").await.send_keys("0123abcd").await.unwrap();
    css(c, "#login button").await.click().await.unwrap();
    let error = css(c, "#login-error").await.text().await.unwrap();
    assert!(error.contains("not valid"), "{error}");
    css(c, "#key").await.send_keys(&key).await.unwrap();
    css(c, "#login button").await.click().await.unwrap();
    let query = arrive(c, "/staff").await;
    assert_eq!(query.as_deref(), Some("now=2023-03-01T00%3A00%3A00Z"));
    assert_eq!(css(c, "#who").await.text().await.unwrap(), "supervisor-sam");

    screenshot(c, "dashboard").await;

    // Every count on the dashboard links to a list of exactly that many requests.
    let (status, metrics) = app
        .send_as(
            Method::GET,
            &format!("/api/v1/staff/metrics?now={now}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let counts = numbers(c, "a[data-n]").await;
    assert!(counts.len() > 40, "{counts:?}");
    let cards = numbers(c, "#cards a").await;
    assert_eq!(cards[0].1, metrics["volume"]["requests"].as_u64().unwrap());
    assert_eq!(cards[1].1, metrics["backlog"]["open"].as_u64().unwrap());
    assert_eq!(
        cards[2].1,
        metrics["volume"]["by_status"]["closed"].as_u64().unwrap()
    );
    for (href, n, text) in &counts {
        assert!(href.starts_with("/staff/requests?"), "{href}");
        let api = href.replacen("/staff/requests?", "/api/v1/staff/metrics/requests?", 1);
        let (status, body) = app
            .send_as(Method::GET, &format!("{api}&limit=1"), Some(&key), None)
            .await;
        assert_eq!(status, 200, "{api}: {body}");
        assert_eq!(body["total"], *n, "{href}");
        let shown = civic311_report::document::count(*n);
        assert!(
            text.contains(&shown),
            "{href}: {text:?} does not show {shown}"
        );
    }

    // Following one in the browser: the open overdue requests, a page of 50 at a time.
    let overdue = c
        .find(Locator::XPath(
            "//table[@id='sla']//tr[td[1]='open overdue']//a",
        ))
        .await
        .unwrap();
    let expected: u64 = overdue
        .attr("data-n")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(expected > 0);
    overdue.click().await.unwrap();
    arrive(c, "/staff/requests").await;
    assert_eq!(listed(c).await, expected);
    screenshot(c, "requests").await;
    let rows = c.find_all(Locator::Css("#requests tr")).await.unwrap();
    assert_eq!(rows.len() as u64 - 1, expected.min(50));
    if expected > 50 {
        css(c, "#next").await.click().await.unwrap();
        arrive(c, "/staff/requests").await;
        let rows = c.find_all(Locator::Css("#requests tr")).await.unwrap();
        assert_eq!(rows.len() as u64 - 1, (expected - 50).min(50));
    }
    // A request's own page, with its history.
    let first = css(c, "#requests tr td a").await;
    let id = first.text().await.unwrap();
    first.click().await.unwrap();
    arrive(c, &format!("/staff/requests/{id}")).await;
    assert!(
        !c.find_all(Locator::Css("#history tr"))
            .await
            .unwrap()
            .is_empty()
    );

    // Filtering by the busiest department through the form.
    c.goto(&format!("{}/staff?now={now}", app.base))
        .await
        .unwrap();
    let busiest = metrics["volume"]["by_department"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(d, _)| *d != "none")
        .max_by_key(|(_, n)| n.as_u64())
        .map(|(d, _)| d.clone())
        .unwrap();
    css(c, "#department")
        .await
        .select_by_value(&busiest)
        .await
        .unwrap();
    css(c, "#apply").await.click().await.unwrap();
    for _ in 0..100 {
        if c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("department=")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, theirs) = app
        .send_as(
            Method::GET,
            &format!("/api/v1/staff/metrics?now={now}&department={busiest}"),
            Some(&key),
            None,
        )
        .await;
    let cards = numbers(c, "#cards a").await;
    assert_eq!(cards[0].1, theirs["volume"]["requests"].as_u64().unwrap());
    assert_eq!(
        theirs["volume"]["by_department"],
        json!({ busiest.clone(): cards[0].1 })
    );
    assert!(cards[0].1 < metrics["volume"]["requests"].as_u64().unwrap());

    // A bar of the backlog's ages is a link too.
    let bars = numbers(c, "#aging a").await;
    let (href, n, _) = bars.iter().find(|b| b.1 > 0).unwrap().clone();
    c.goto(&format!("{}{href}", app.base)).await.unwrap();
    assert_eq!(listed(c).await, n);

    // A wrong filter is an error page naming it, not a crash.
    c.goto(&format!("{}/staff/requests?facet=colour:red", app.base))
        .await
        .unwrap();
    let error = css(c, "#error").await.text().await.unwrap();
    assert!(error.contains("colour:red"), "{error}");

    // Opened without a query, the dashboard shows the twelve months up to the newest request's
    // (the test server's zone is UTC), and says so in its URL.
    let newest = app
        .store
        .newest_request()
        .await
        .unwrap()
        .unwrap()
        .created_at;
    let first = newest.date_naive().with_day(1).unwrap();
    let from = first - chrono::Months::new(11);
    let to = first + chrono::Months::new(1);
    c.goto(&format!("{}/staff", app.base)).await.unwrap();
    let query = arrive(c, "/staff").await;
    assert_eq!(
        query,
        Some(format!("from={from}&to={to}")),
        "newest: {newest}"
    );

    // Signing out: the dashboard asks for the key again.
    css(c, "#logout").await.click().await.unwrap();
    arrive(c, "/staff/login").await;
    c.goto(&format!("{}/staff", app.base)).await.unwrap();
    arrive(c, "/staff/login").await;

    browser.client.close().await.unwrap();
}
