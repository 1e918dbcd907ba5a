//! The staff web pages (`/staff`): a dashboard of a cohort's metrics where every number links to
//! the requests behind it. A browser signs in with a staff key (`civic311 apikey create NAME
//! --staff`), kept in an HttpOnly, SameSite=Strict cookie scoped to `/staff`: the pages only
//! read, and the JSON API still takes the key only as a bearer header, so a cookie never
//! authorizes a change.

mod dashboard;
mod requests;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::cohort::CohortQuery;
use crate::error::ApiError;

pub use dashboard::dashboard;
pub use requests::{request, requests};

const COOKIE: &str = "civic311_staff";
/// How long a sign-in lasts: a working day and a half.
const SESSION_SECONDS: u32 = 12 * 3600;

/// Why a page is not shown: sign in first, or an error page.
pub enum PageError {
    SignIn { next: String },
    Shown(StatusCode, String),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let (status, message) = e.parts();
        PageError::Shown(status, message.to_owned())
    }
}

impl From<civic311_store::StoreError> for PageError {
    fn from(e: civic311_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

#[derive(Template)]
#[template(path = "staff/error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", &next)
                    .finish();
                Redirect::to(&format!("/staff/login?{query}")).into_response()
            }
            PageError::Shown(status, message) => {
                let page = ErrorPage {
                    status: status.as_u16(),
                    message: &message,
                };
                (status, render(&page)).into_response()
            }
        }
    }
}

/// A page as HTML; a template that fails is a fault of ours, logged.
fn render(page: &impl Template) -> Html<String> {
    Html(page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "template");
        "<!doctype html><title>error</title><p>The page could not be rendered; it has been logged."
            .to_owned()
    }))
}

/// The staff key of the browser's session cookie, if any.
fn session_key(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// The signed-in staff member, or a redirect to the sign-in page that comes back to `here`.
async fn signed_in(state: &AppState, headers: &HeaderMap, here: &str) -> Result<String, PageError> {
    let sign_in = || PageError::SignIn {
        next: here.to_owned(),
    };
    let key = session_key(headers).ok_or_else(sign_in)?;
    match state.store.api_key(key).await? {
        Some((name, civic311_store::KeyRole::Staff)) => Ok(name),
        _ => Err(sign_in()),
    }
}

/// Where to go after signing in: a staff page of ours, never another site, and nothing that
/// could not stand in a `Location` header (a URL's visible ASCII only).
fn safe_next(next: Option<&str>) -> &str {
    next.filter(|n| {
        (*n == "/staff" || n.starts_with("/staff/") || n.starts_with("/staff?"))
            && !n.starts_with("/staff//")
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    })
    .unwrap_or("/staff")
}

#[derive(Template)]
#[template(path = "staff/login.html")]
struct Login<'a> {
    next: &'a str,
    message: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /staff/login`
pub async fn login_form(Query(q): Query<LoginQuery>) -> Html<String> {
    render(&Login {
        next: safe_next(q.next.as_deref()),
        message: None,
    })
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    key: String,
    next: Option<String>,
}

/// `POST /staff/login`: a staff key signs the browser in; anything else is refused with the
/// form again (401), saying why.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let key = form.key.trim();
    let refused = |message: &str| {
        let page = Login {
            next,
            message: Some(message),
        };
        (StatusCode::UNAUTHORIZED, render(&page)).into_response()
    };
    // A key is letters, digits and a few marks: nothing that could break out of the cookie.
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Ok(refused("That is not a staff key."));
    }
    match state.store.api_key(key).await? {
        Some((_, civic311_store::KeyRole::Staff)) => {}
        Some(_) => return Ok(refused("That key is not a staff key.")),
        None => return Ok(refused("That key is not valid.")),
    }
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let cookie = format!(
        "{COOKIE}={key}; Path=/staff; Max-Age={SESSION_SECONDS}; HttpOnly; SameSite=Strict{}",
        if https { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /staff/logout`
pub async fn logout() -> Response {
    let mut response = Redirect::to("/staff/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "civic311_staff=; Path=/staff; Max-Age=0; HttpOnly; SameSite=Strict",
        ),
    );
    response
}

/// The cohort of a page's query: its filters, with the checkbox as a browser sends it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    from: Option<String>,
    to: Option<String>,
    service_code: Option<String>,
    department: Option<String>,
    area: Option<String>,
    now: Option<String>,
    include_self_generated: Option<String>,
    /// The requests list: which number, and which page of it.
    facet: Option<String>,
    page: Option<String>,
}

impl PageQuery {
    fn cohort(&self) -> CohortQuery {
        CohortQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            service_code: self.service_code.clone(),
            department: self.department.clone(),
            area: self.area.clone(),
            now: self.now.clone(),
            include_self_generated: matches!(
                self.include_self_generated.as_deref(),
                Some("true" | "on" | "1")
            ),
        }
    }
}

/// The path and query a page was asked at, to come back to after signing in.
fn here(path: &str, cohort: &CohortQuery, extra: &[(&str, &str)]) -> String {
    let mut q = cohort.to_query();
    for (name, value) in extra.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(name, value);
    }
    let q = q.finish();
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{q}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_in_only_comes_back_to_a_staff_page() {
        for ok in [
            "/staff",
            "/staff?now=2023-03-01",
            "/staff/requests?facet=sla%3Amet",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "https://elsewhere.example/staff",
            "//elsewhere.example",
            "/staff//elsewhere.example",
            "/staffing",
            "/staff/\r\nSet-Cookie: x=1",
            "/staff/\\elsewhere",
            "/",
        ] {
            assert_eq!(safe_next(Some(bad)), "/staff", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/staff");
    }

    #[test]
    fn the_session_key_is_read_from_the_cookies() {
        let mut headers = HeaderMap::new();
        assert_eq!(session_key(&headers), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; civic311_staff=ab12; other=1"),
        );
        assert_eq!(session_key(&headers), Some("ab12"));
        headers.insert(header::COOKIE, HeaderValue::from_static("civic311_staff="));
        assert_eq!(session_key(&headers), None);
    }
}
