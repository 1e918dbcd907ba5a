//! The ceiling for HTTP benchmarks: a trivial axum endpoint (a fixed JSON array) served the
//! way civic311 serves, so wrk numbers for civic311 can be read as a fraction of it.
use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".into());
    let app = Router::new().route(
        "/",
        get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                r#"[{"service_request_id":"1","status":"open"}]"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("ceiling on http://{addr}/");
    axum::serve(listener, app).await?;
    Ok(())
}
