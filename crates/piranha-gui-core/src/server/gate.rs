//! The gate every request passes before any handler: allow-list,
//! authentication (session or HTTP Basic), CSRF and form limits; and where
//! a login may send the browser afterwards.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::headers::authorization::Basic;
use axum_extra::headers::{Authorization, HeaderMapExt};

use super::app::{Ctx, Shared};
use super::helpers::plain;
use crate::forms::Form;
use crate::pages::urlenc;
use crate::session::{self, COOKIE};

/// Largest form body accepted.
const MAX_BODY: usize = 64 * 1024;
/// Most fields a form may have.
const MAX_FIELDS: usize = 64;
/// Longest field name or value accepted, in bytes (lvs.cf values are short;
/// a send string of a few hundred bytes is already unusual).
pub const MAX_FIELD_LEN: usize = 2048;
/// Where a login goes when it has no usable `next`.
pub(super) const HOME: &str = "/control";

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn harden(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
}

/// Allow-list, authentication, CSRF; in that order, before any handler.
pub(super) async fn gate(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let mut resp = gate_inner(app, req, next).await;
    harden(resp.headers_mut());
    resp
}

async fn gate_inner(app: Shared, req: Request, next: Next) -> Response {
    let Some(peer) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| canonical(c.0.ip()))
    else {
        return plain(StatusCode::FORBIDDEN, "client address unknown");
    };
    if !app.settings.allow.iter().any(|n| n.contains(&peer)) {
        log::warn!("refused a request from {peer}: not in the allow-list");
        return plain(
            StatusCode::FORBIDDEN,
            "your address may not use this service",
        );
    }
    let method = req.method().clone();
    let safe = method == Method::GET || method == Method::HEAD;
    let is_login = req.uri().path() == "/login";
    let jar = CookieJar::from_headers(req.headers());
    let now = Instant::now();
    let session = jar.get(COOKIE).and_then(|c| {
        let id = c.value().to_string();
        app.sessions().get(&id, now).map(|s| (id, s))
    });
    let authed = session.as_ref().is_some_and(|(_, s)| s.authed);
    // Only `piranha` can log in (App::check_login).
    let mut user = authed.then(|| piranha_auth::GUI_USER.to_string());
    if !authed && !is_login {
        let basic = req.headers().typed_get::<Authorization<Basic>>();
        match basic {
            Some(b) if safe => {
                if !app.check_login(peer, b.username(), b.password()).await {
                    return plain(StatusCode::UNAUTHORIZED, "wrong user name or password");
                }
                user = Some(b.username().to_string());
            }
            _ if safe => return Redirect::to(&login_url(req.uri())).into_response(),
            _ => return plain(StatusCode::UNAUTHORIZED, "log in first"),
        }
    }
    let mut req = req;
    let mut form = Form::new();
    if method == Method::POST {
        let Some((_, s)) = &session else {
            return plain(
                StatusCode::FORBIDDEN,
                "missing CSRF token: POST from a login session",
            );
        };
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "form too large");
        };
        for (n, (k, v)) in form_urlencoded::parse(&bytes).enumerate() {
            if n >= MAX_FIELDS || k.len() > MAX_FIELD_LEN || v.len() > MAX_FIELD_LEN {
                return plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!(
                        "form too large: at most {MAX_FIELDS} fields of {MAX_FIELD_LEN} bytes"
                    ),
                );
            }
            form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        let ok = form
            .get("csrf")
            .is_some_and(|t| session::token_eq(t, &s.csrf));
        if !ok {
            log::warn!(
                "refused a POST to {} from {peer}: bad CSRF token",
                parts.uri.path()
            );
            return plain(
                StatusCode::FORBIDDEN,
                "missing or wrong CSRF token; reload the page and try again",
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    } else if !safe {
        if session.is_none() {
            return plain(StatusCode::FORBIDDEN, "missing CSRF token");
        }
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    let (sid, csrf) = match session {
        Some((id, s)) => (Some(id), s.csrf),
        None => (None, String::new()),
    };
    req.extensions_mut().insert(Ctx {
        peer,
        user,
        session: sid,
        csrf,
        form,
    });
    next.run(req).await
}

/// The login page's address for a request to `uri`: `/login`, with
/// `next=` naming the page asked for when it is one to come back to.
fn login_url(uri: &axum::http::Uri) -> String {
    let want = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    match safe_next(want) {
        Some(n) if n != "/" && n != HOME => format!("/login?next={}", urlenc(n)),
        _ => "/login".to_string(),
    }
}

/// `next` when it is a path on this server that a login may redirect to:
/// it starts with one `/` (not `//` or `/\`, which browsers take for
/// another host), holds only printable ASCII without blanks or
/// backslashes, and is not the login or logout page. Anything else (an
/// absolute URL, a scheme, a header-breaking byte) gives `None`.
pub fn safe_next(next: &str) -> Option<&str> {
    let path = next.split(['?', '#']).next().unwrap_or("");
    let ok = next.len() <= MAX_FIELD_LEN
        && next.starts_with('/')
        && !next.starts_with("//")
        && next
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b'\\')
        && !matches!(path, "/login" | "/logout");
    ok.then_some(next)
}
