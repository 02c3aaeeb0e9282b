//! The login page, logging in and out.

use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

use super::app::{Ctx, Shared};
use super::gate::{safe_next, HOME};
use super::helpers::Q;
use crate::forms;
use crate::pages;
use crate::session::COOKIE;

fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict"))
        .expect("hex id is a valid header value")
}

pub(super) async fn login_page(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let next = q.get("next").and_then(|n| safe_next(n));
    if let Some(id) = &ctx.session {
        if app
            .sessions()
            .get(id, Instant::now())
            .is_some_and(|s| s.authed)
        {
            return Redirect::to(next.unwrap_or(HOME)).into_response();
        }
        return pages::login(&ctx.csrf, None, next).into_response();
    }
    let (id, s) = app.sessions().create(false, Instant::now());
    let mut r = pages::login(&s.csrf, None, next).into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&id));
    r
}

pub(super) async fn login_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let user = forms::field(&ctx.form, "username").to_string();
    let pw = ctx.form.get("password").cloned().unwrap_or_default();
    let next = ctx.form.get("next").and_then(|n| safe_next(n));
    if app.check_login(ctx.peer, &user, &pw).await {
        let mut s = app.sessions();
        if let Some(old) = &ctx.session {
            s.remove(old);
        }
        let (id, _) = s.create(true, Instant::now());
        drop(s);
        log::info!("login as {user} from {}", ctx.peer);
        let mut r = Redirect::to(next.unwrap_or(HOME)).into_response();
        r.headers_mut()
            .insert(header::SET_COOKIE, session_cookie(&id));
        return r;
    }
    (
        StatusCode::UNAUTHORIZED,
        pages::login(
            &ctx.csrf,
            Some("Login failed: wrong user name or password."),
            next,
        ),
    )
        .into_response()
}

pub(super) async fn logout(State(app): State<Shared>, Extension(ctx): Extension<Ctx>) -> Response {
    if let Some(id) = &ctx.session {
        app.sessions().remove(id);
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("piranha_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    r
}
