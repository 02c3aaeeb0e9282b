//! The gate every request passes, and the handlers of every page.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use axum_extra::extract::CookieJar;
use axum_extra::headers::authorization::Basic;
use axum_extra::headers::{Authorization, HeaderMapExt};
use lvs_config::VirtualServer;
use maud::Markup;

use crate::forms::{self, Form, Vals};
use crate::pages::{self, urlenc, Chrome};
use crate::session::{self, Sessions, Throttle, COOKIE};
use crate::store::{ChangeError, Edit, FieldError, Store};
use crate::Settings;
use piranha_auth as auth;

/// Largest form body accepted.
const MAX_BODY: usize = 64 * 1024;
/// Most fields a form may have.
const MAX_FIELDS: usize = 64;
/// Longest field name or value accepted, in bytes (lvs.cf values are short;
/// a send string of a few hundred bytes is already unusual).
pub const MAX_FIELD_LEN: usize = 2048;
/// Where a login goes when it has no usable `next`.
const HOME: &str = "/control";

/// The application's state.
#[derive(Debug)]
pub struct App {
    /// How it runs.
    pub settings: Settings,
    sessions: Mutex<Sessions>,
    throttle: Mutex<Throttle>,
    /// One lock per client address: a client's password checks run one at
    /// a time, so a burst of parallel guesses cannot all be checked before
    /// the first failure is recorded.
    checking: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>,
    store: Arc<Store>,
}

impl App {
    /// The application for `settings`.
    pub fn new(settings: Settings) -> Arc<App> {
        Arc::new(App {
            sessions: Mutex::new(Sessions::new(settings.session_timeout)),
            throttle: Mutex::new(Throttle::new(
                settings.login_delay,
                settings.login_delay_max,
            )),
            checking: Mutex::new(HashMap::new()),
            store: Arc::new(Store::new(settings.configfile.clone())),
            settings,
        })
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, Throttle> {
        self.throttle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of live sessions (for tests).
    pub fn session_count(&self) -> usize {
        self.sessions().len()
    }

    /// Check a login (the form's or HTTP Basic credentials), slowing down
    /// clients that failed before. A client's checks are serialised and
    /// each waits out the delay earned by the failures before it; the wait
    /// is async, so other clients are served meanwhile.
    async fn check_login(&self, peer: IpAddr, user: &str, password: &str) -> bool {
        let lock = {
            let mut m = self.checking.lock().unwrap_or_else(|p| p.into_inner());
            m.entry(peer).or_default().clone()
        };
        let ok = {
            let _one_at_a_time = lock.lock().await;
            self.check_login_serialised(peer, user, password).await
        };
        let mut m = self.checking.lock().unwrap_or_else(|p| p.into_inner());
        drop(lock);
        if m.get(&peer).is_some_and(|l| Arc::strong_count(l) == 1) {
            m.remove(&peer);
        }
        ok
    }

    async fn check_login_serialised(&self, peer: IpAddr, user: &str, password: &str) -> bool {
        let slot = self.throttle().slot(peer, Instant::now());
        tokio::time::sleep_until(slot.into()).await;
        let ok = if user == auth::GUI_USER {
            let path = self.settings.passwd_file.clone();
            let pw = password.to_string();
            tokio::task::spawn_blocking(move || {
                auth::PasswdFile::load(&path).is_ok_and(|f| f.check(auth::GUI_USER, &pw))
            })
            .await
            .unwrap_or(false)
        } else {
            false
        };
        if ok {
            self.throttle().succeeded(peer);
        } else {
            let d = self.throttle().failed(peer, Instant::now());
            log::warn!(
                "failed login as `{}` from {peer}; next answer in {d:?}",
                user.escape_debug()
            );
            tokio::time::sleep(d).await;
        }
        ok
    }
}

type Shared = Arc<App>;

/// What the gate learnt about a request, for the handlers.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The client.
    pub peer: IpAddr,
    /// The session id, if the request has a live session.
    pub session: Option<String>,
    /// The session's CSRF token ("" for Basic-auth requests).
    pub csrf: String,
    /// The POSTed form (empty for other methods).
    pub form: Form,
}

/// The whole application.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/control") }))
        .route("/login", get(login_page).post(login_post))
        .route("/logout", post(logout))
        .route("/control", get(control))
        .route("/passwd", get(passwd_help))
        .route("/global_settings", get(global_get).post(global_post))
        .route("/redundancy", get(redundancy_get).post(redundancy_post))
        .route("/virtual_main", get(vmain_get).post(vmain_post))
        .route("/virtual_edit_virt", get(vedit_get).post(vedit_post))
        .route("/virtual_edit_real", get(rlist_get).post(rlist_post))
        .route("/virtual_edit_real_server", get(redit_get).post(redit_post))
        .route(
            "/virtual_edit_services",
            get(services_get).post(services_post),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page\n") })
        .layer(middleware::from_fn_with_state(app.clone(), gate))
        .with_state(app)
}

/// Serve `router(app)` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn plain(code: StatusCode, msg: &str) -> Response {
    (code, format!("{msg}\n")).into_response()
}

fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict"))
        .expect("hex id is a valid header value")
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
async fn gate(State(app): State<Shared>, req: Request, next: Next) -> Response {
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
    if !authed && !is_login {
        let basic = req.headers().typed_get::<Authorization<Basic>>();
        match basic {
            Some(b) if safe => {
                if !app.check_login(peer, b.username(), b.password()).await {
                    return plain(StatusCode::UNAUTHORIZED, "wrong user name or password");
                }
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
        session: sid,
        csrf,
        form,
    });
    next.run(req).await
}

// ------------------------------------------------------------------ login

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

async fn login_page(
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

async fn login_post(State(app): State<Shared>, Extension(ctx): Extension<Ctx>) -> Response {
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

async fn logout(State(app): State<Shared>, Extension(ctx): Extension<Ctx>) -> Response {
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

// ----------------------------------------------------------------- helpers

type Q = Query<HashMap<String, String>>;

fn note(q: &HashMap<String, String>) -> Option<&'static str> {
    if q.contains_key("saved") {
        Some(pages::SAVED)
    } else if q.contains_key("unchanged") {
        Some("Nothing was changed.")
    } else {
        None
    }
}

fn chrome<'a>(ctx: &'a Ctx, q: &HashMap<String, String>) -> Chrome<'a> {
    Chrome {
        csrf: &ctx.csrf,
        note: note(q),
        refresh: None,
    }
}

/// Why a page could not read the configuration file.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    File(#[from] lvs_config::EditError),
    #[error("reading the file failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

async fn read(app: &Shared) -> Result<lvs_config::Editor, ReadError> {
    let store = app.store.clone();
    Ok(tokio::task::spawn_blocking(move || store.read()).await??)
}

fn file_problem(ctx: &Ctx, tab: &str, msg: &str) -> Response {
    let c = Chrome {
        csrf: &ctx.csrf,
        note: None,
        refresh: None,
    };
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::file_problem(&c, tab, msg),
    )
        .into_response()
}

async fn change<R: Send + 'static>(
    app: &Shared,
    ctx: &Ctx,
    what: &str,
    kf: fn(&str) -> Option<&'static str>,
    f: impl FnOnce(&mut Edit<'_>) -> R + Send + 'static,
) -> Result<(bool, R), ChangeError> {
    let store = app.store.clone();
    let r = tokio::task::spawn_blocking(move || {
        let mut out = None;
        let changed = store.change(&kf, |e| out = Some(f(e)))?;
        Ok((changed, out.expect("the edit ran")))
    })
    .await
    .unwrap_or_else(|e| Err(ChangeError::File(e.to_string())));
    match &r {
        Ok((true, _)) => log::info!("{what}: lvs.cf changed from {}", ctx.peer),
        Err(ChangeError::File(m)) => log::error!("{what}: {m}"),
        _ => {}
    }
    r
}

fn done(path: &str, changed: bool) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let flag = if changed { "saved=1" } else { "unchanged=1" };
    Redirect::to(&format!("{path}{sep}{flag}")).into_response()
}

fn refused(m: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, m).into_response()
}

/// Current values with the submitted ones on top, to re-show a refused form.
/// After a refusal because the file changed under the page, the file's
/// values alone (re-showing the old ones would write them back).
fn merged(mut cur: Vals, form: &Form, checkboxes: &[&str], errs: &[FieldError]) -> Vals {
    if errs.iter().any(|e| e.field == forms::SHOWN) {
        return cur;
    }
    for (k, v) in form {
        if cur.contains_key(k) && k != forms::SHOWN {
            cur.insert(k.clone(), v.clone());
        }
    }
    for c in checkboxes {
        cur.insert(
            c.to_string(),
            if form.contains_key(*c) { "1" } else { "0" }.into(),
        );
    }
    cur
}

// ---------------------------------------------------------------- control

async fn control(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let auto = q.get("auto").is_some_and(|v| v == "1" || v == "on");
    let rate = q
        .get("rate")
        .and_then(|r| r.trim().parse::<u32>().ok())
        .unwrap_or(10)
        .clamp(2, 3600);
    let s = app.settings.clone();
    let (status, table, procs) = tokio::task::spawn_blocking(move || {
        let ipvsadm = vec![
            s.ipvsadm.display().to_string(),
            "-L".to_string(),
            "-n".to_string(),
        ];
        (
            crate::control::run_fixed(&s.pulse_status, s.command_timeout),
            crate::control::run_fixed(&ipvsadm, s.command_timeout),
            crate::control::processes(),
        )
    })
    .await
    .unwrap_or_default();
    let c = Chrome {
        csrf: &ctx.csrf,
        note: None,
        refresh: auto.then_some(rate),
    };
    pages::control(&c, &status, &table, &procs, auto, rate).into_response()
}

async fn passwd_help(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    pages::passwd_help(
        &chrome(&ctx, &q),
        &app.settings.passwd_file.display().to_string(),
    )
    .into_response()
}

// ----------------------------------------------------------------- global

async fn global_get(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    match read(&app).await {
        Ok(ed) => pages::global(
            &chrome(&ctx, &q),
            &forms::with_digest(forms::global_values(ed.config())),
            &[],
        )
        .into_response(),
        Err(m) => file_problem(&ctx, "global", &m.to_string()),
    }
}

async fn global_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let form = ctx.form.clone();
    let r = change(
        &app,
        &ctx,
        "GLOBAL SETTINGS",
        forms::global_field,
        move |e| {
            let cur = forms::global_values(e.config());
            forms::apply_global(e, &cur, &form);
            cur
        },
    )
    .await;
    match r {
        Ok((c, _)) => done("/global_settings", c),
        Err(ChangeError::Fields(errs)) => {
            let cur = read(&app)
                .await
                .map(|e| forms::with_digest(forms::global_values(e.config())))
                .unwrap_or_default();
            refused(pages::global(
                &chrome(&ctx, &q),
                &merged(cur, &ctx.form, &[], &errs),
                &errs,
            ))
        }
        Err(ChangeError::File(m)) => file_problem(&ctx, "global", &m),
    }
}

// ------------------------------------------------------------- redundancy

async fn redundancy_get(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    match read(&app).await {
        Ok(ed) => {
            let cfg = ed.config();
            pages::redundancy(
                &chrome(&ctx, &q),
                &forms::with_digest(forms::redundancy_values(cfg)),
                &[],
                cfg.primary_private.is_some(),
            )
            .into_response()
        }
        Err(m) => file_problem(&ctx, "redundancy", &m.to_string()),
    }
}

async fn redundancy_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let form = ctx.form.clone();
    let r = change(
        &app,
        &ctx,
        "REDUNDANCY",
        forms::redundancy_field,
        move |e| {
            let cur = forms::redundancy_values(e.config());
            forms::apply_redundancy(e, &cur, &form);
        },
    )
    .await;
    match r {
        Ok((c, _)) => done("/redundancy", c),
        Err(ChangeError::Fields(errs)) => {
            let (cur, private) = read(&app)
                .await
                .map(|e| {
                    (
                        forms::with_digest(forms::redundancy_values(e.config())),
                        e.config().primary_private.is_some(),
                    )
                })
                .unwrap_or_default();
            let vals = merged(
                cur,
                &ctx.form,
                &["monitor_links", "syncdaemon", "hot_standby"],
                &errs,
            );
            refused(pages::redundancy(&chrome(&ctx, &q), &vals, &errs, private))
        }
        Err(ChangeError::File(m)) => file_problem(&ctx, "redundancy", &m),
    }
}

// ---------------------------------------------------------------- virtual

async fn vmain_get(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    match read(&app).await {
        Ok(ed) => pages::virtual_main(
            &chrome(&ctx, &q),
            ed.config(),
            q.get("vs").map(String::as_str),
            &[],
        )
        .into_response(),
        Err(m) => file_problem(&ctx, "virtual", &m.to_string()),
    }
}

async fn vmain_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let action = forms::field(&ctx.form, "action").to_string();
    let vs = forms::field(&ctx.form, "vs").to_string();
    if action == "edit" {
        if vs.is_empty() {
            return Redirect::to("/virtual_main").into_response();
        }
        return Redirect::to(&format!("/virtual_edit_virt?vs={}", urlenc(&vs))).into_response();
    }
    let vs2 = vs.clone();
    let act = action.clone();
    let r = change(
        &app,
        &ctx,
        "VIRTUAL SERVERS",
        |_| None,
        move |e| {
            let t = lvs_config::Target::Virtual(&vs2);
            match act.as_str() {
                "add" => Some(forms::add_virtual(e)),
                "delete" => {
                    e.with("", |ed| ed.remove_block(t));
                    None
                }
                "toggle" => {
                    match e.config().virtual_server(&vs2).map(|v| v.active()) {
                        Some(a) => {
                            e.with("", |ed| ed.set_active(t, !a));
                        }
                        None => e.error("", format!("no virtual server `{vs2}`; select one first")),
                    }
                    Some(vs2.clone())
                }
                other => {
                    e.error("", format!("unknown action `{other}`"));
                    None
                }
            }
        },
    )
    .await;
    match r {
        Ok((c, sel)) => {
            let path = match sel {
                Some(n) => format!("/virtual_main?vs={}", urlenc(&n)),
                None => "/virtual_main".to_string(),
            };
            done(&path, c)
        }
        Err(ChangeError::Fields(errs)) => match read(&app).await {
            Ok(ed) => refused(pages::virtual_main(
                &chrome(&ctx, &q),
                ed.config(),
                Some(&vs),
                &errs,
            )),
            Err(m) => file_problem(&ctx, "virtual", &m.to_string()),
        },
        Err(ChangeError::File(m)) => file_problem(&ctx, "virtual", &m),
    }
}

fn vs_param(q: &HashMap<String, String>) -> String {
    q.get("vs").cloned().unwrap_or_default()
}

fn no_such(what: &str) -> Response {
    plain(StatusCode::NOT_FOUND, &format!("no such {what}"))
}

/// A page about virtual server `vs` of the file as it is now; `render`
/// returns None when what it shows (`what`) is missing.
async fn vs_page(
    app: &Shared,
    ctx: &Ctx,
    vs: &str,
    what: &str,
    render: impl FnOnce(&VirtualServer) -> Option<Response>,
) -> Response {
    match read(app).await {
        Ok(ed) => ed
            .config()
            .virtual_server(vs)
            .and_then(render)
            .unwrap_or_else(|| no_such(what)),
        Err(m) => file_problem(ctx, "virtual", &m.to_string()),
    }
}

/// A sub-panel form refused with `errs`: the values of the file as it is
/// now (`values` of virtual server `vs`) with what was posted on top,
/// rendered by `page`.
async fn refused_form(
    app: &Shared,
    ctx: &Ctx,
    vs: &str,
    checkboxes: &[&str],
    errs: &[FieldError],
    values: impl FnOnce(&VirtualServer) -> Vals,
    page: impl FnOnce(&Vals) -> Markup,
) -> Response {
    match read(app).await {
        Ok(ed) => {
            let cur = ed
                .config()
                .virtual_server(vs)
                .map(|v| forms::with_digest(values(v)))
                .unwrap_or_default();
            refused(page(&merged(cur, &ctx.form, checkboxes, errs)))
        }
        Err(m) => file_problem(ctx, "virtual", &m.to_string()),
    }
}

async fn vedit_get(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    vs_page(&app, &ctx, &vs, "virtual server", |v| {
        let vals = forms::with_digest(forms::virtual_values(v));
        Some(pages::virtual_edit(&chrome(&ctx, &q), &vs, &vals, &[]).into_response())
    })
    .await
}

async fn vedit_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    let form = ctx.form.clone();
    let name = vs.clone();
    let r = change(
        &app,
        &ctx,
        "VIRTUAL SERVER",
        forms::virtual_field,
        move |e| {
            let Some(v) = e.config().virtual_server(&name) else {
                e.error("", format!("no virtual server `{name}`"));
                return name;
            };
            let cur = forms::virtual_values(v);
            forms::apply_virtual(e, &name, &cur, &form)
        },
    )
    .await;
    match r {
        Ok((c, n)) => done(&format!("/virtual_edit_virt?vs={}", urlenc(&n)), c),
        Err(ChangeError::Fields(errs)) => {
            refused_form(&app, &ctx, &vs, &[], &errs, forms::virtual_values, |vals| {
                pages::virtual_edit(&chrome(&ctx, &q), &vs, vals, &errs)
            })
            .await
        }
        Err(ChangeError::File(m)) => file_problem(&ctx, "virtual", &m),
    }
}

// ------------------------------------------------------------ real server

async fn rlist_get(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    vs_page(&app, &ctx, &vs, "virtual server", |v| {
        let sel = q.get("rs").map(String::as_str);
        Some(pages::real_list(&chrome(&ctx, &q), v, sel, &[]).into_response())
    })
    .await
}

async fn rlist_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    let action = forms::field(&ctx.form, "action").to_string();
    let rs = forms::field(&ctx.form, "rs").to_string();
    let base = format!("/virtual_edit_real?vs={}", urlenc(&vs));
    if action == "edit" {
        if rs.is_empty() {
            return Redirect::to(&base).into_response();
        }
        return Redirect::to(&format!(
            "/virtual_edit_real_server?vs={}&rs={}",
            urlenc(&vs),
            urlenc(&rs)
        ))
        .into_response();
    }
    let (vs2, rs2) = (vs.clone(), rs.clone());
    let r = change(
        &app,
        &ctx,
        "REAL SERVER",
        |_| None,
        move |e| {
            let t = lvs_config::Target::Server(&vs2, &rs2);
            match action.as_str() {
                "add" => Some(forms::add_real(e, &vs2)),
                "delete" => {
                    e.with("", |ed| ed.remove_block(t));
                    None
                }
                "toggle" => {
                    let a = e
                        .config()
                        .virtual_server(&vs2)
                        .and_then(|v| v.server(&rs2))
                        .map(|s| s.active());
                    match a {
                        Some(a) => {
                            e.with("", |ed| ed.set_active(t, !a));
                        }
                        None => e.error("", format!("no real server `{rs2}`; select one first")),
                    }
                    Some(rs2.clone())
                }
                other => {
                    e.error("", format!("unknown action `{other}`"));
                    None
                }
            }
        },
    )
    .await;
    match r {
        Ok((c, sel)) => {
            let path = match sel {
                Some(n) => format!("{base}&rs={}", urlenc(&n)),
                None => base,
            };
            done(&path, c)
        }
        Err(ChangeError::Fields(errs)) => {
            vs_page(&app, &ctx, &vs, "virtual server", |v| {
                Some(refused(pages::real_list(
                    &chrome(&ctx, &q),
                    v,
                    Some(&rs),
                    &errs,
                )))
            })
            .await
        }
        Err(ChangeError::File(m)) => file_problem(&ctx, "virtual", &m),
    }
}

async fn redit_get(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    let rs = q.get("rs").cloned().unwrap_or_default();
    vs_page(&app, &ctx, &vs, "real server", |v| {
        v.server(&rs)?;
        let vals = forms::with_digest(forms::real_values(v, &rs));
        Some(pages::real_edit(&chrome(&ctx, &q), &vs, &rs, &vals, &[]).into_response())
    })
    .await
}

async fn redit_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    let rs = q.get("rs").cloned().unwrap_or_default();
    let form = ctx.form.clone();
    let (vs2, rs2) = (vs.clone(), rs.clone());
    let r = change(&app, &ctx, "REAL SERVER", forms::real_field, move |e| {
        let Some(v) = e
            .config()
            .virtual_server(&vs2)
            .filter(|v| v.server(&rs2).is_some())
        else {
            e.error("", format!("no real server `{rs2}` in `{vs2}`"));
            return rs2;
        };
        let cur = forms::real_values(v, &rs2);
        forms::apply_real(e, &vs2, &rs2, &cur, &form)
    })
    .await;
    match r {
        Ok((c, n)) => done(
            &format!(
                "/virtual_edit_real_server?vs={}&rs={}",
                urlenc(&vs),
                urlenc(&n)
            ),
            c,
        ),
        Err(ChangeError::Fields(errs)) => {
            let values = |v: &VirtualServer| forms::real_values(v, &rs);
            refused_form(&app, &ctx, &vs, &[], &errs, values, |vals| {
                pages::real_edit(&chrome(&ctx, &q), &vs, &rs, vals, &errs)
            })
            .await
        }
        Err(ChangeError::File(m)) => file_problem(&ctx, "virtual", &m),
    }
}

// ----------------------------------------------------- monitoring scripts

async fn services_get(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    vs_page(&app, &ctx, &vs, "virtual server", |v| {
        let vals = forms::with_digest(forms::services_values(v));
        Some(pages::services(&chrome(&ctx, &q), &vs, &vals, &[]).into_response())
    })
    .await
}

async fn services_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let vs = vs_param(&q);
    let form = ctx.form.clone();
    let name = vs.clone();
    let r = change(
        &app,
        &ctx,
        "MONITORING SCRIPTS",
        forms::services_field,
        move |e| {
            let Some(v) = e.config().virtual_server(&name) else {
                e.error("", format!("no virtual server `{name}`"));
                return;
            };
            let cur = forms::services_values(v);
            forms::apply_services(e, &name, &cur, &form);
        },
    )
    .await;
    match r {
        Ok((c, _)) => done(&format!("/virtual_edit_services?vs={}", urlenc(&vs)), c),
        Err(ChangeError::Fields(errs)) => {
            let checkboxes = ["use_regex"];
            refused_form(
                &app,
                &ctx,
                &vs,
                &checkboxes,
                &errs,
                forms::services_values,
                |vals| pages::services(&chrome(&ctx, &q), &vs, vals, &errs),
            )
            .await
        }
        Err(ChangeError::File(m)) => file_problem(&ctx, "virtual", &m),
    }
}
