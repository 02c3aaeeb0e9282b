//! The CONTROL/MONITORING panel (the daemons by their pidfiles, the
//! director's status from their control sockets, lvs.cf's view when they
//! do not answer; drain, undrain and weight sent to lvs) and the page
//! about changing the password.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::app::{Ctx, Shared};
use super::helpers::{chrome, read, Q};
use crate::control::{self, Outcome, View};
use crate::pages::{self, Chrome};

/// Default seconds between automatic updates.
const DEFAULT_RATE: u32 = 10;

fn auto_rate(q: &HashMap<String, String>) -> (bool, u32) {
    let auto = q.get("auto").is_some_and(|v| v == "1" || v == "on");
    let rate = q
        .get("rate")
        .and_then(|r| r.trim().parse::<u32>().ok())
        .unwrap_or(DEFAULT_RATE)
        .clamp(2, 3600);
    (auto, rate)
}

/// The daemons, their status and lvs.cf, read off the async threads.
async fn gather(app: &Shared, outcome: Option<Outcome>) -> View {
    let s = app.settings.clone();
    let (daemons, live) = tokio::task::spawn_blocking(move || {
        (
            control::daemons(&s.pulse_pidfile, &s.lvs_pidfile),
            control::ask_status(&s.pulse_socket, &s.lvs_socket, s.socket_timeout),
        )
    })
    .await
    .unwrap_or_else(|e| {
        (
            Vec::new(),
            control::Live {
                director: None,
                problems: vec![format!("asking the daemons failed: {e}")],
            },
        )
    });
    let config = read(app)
        .await
        .map(|ed| ed.config().clone())
        .map_err(|e| e.to_string());
    View {
        daemons,
        live,
        config,
        outcome,
    }
}

pub(super) async fn control(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Q,
) -> Response {
    let (auto, rate) = auto_rate(&q);
    let view = gather(&app, None).await;
    let c = Chrome {
        csrf: &ctx.csrf,
        note: None,
        refresh: auto.then_some(rate),
    };
    pages::control(&c, &view, auto, rate).into_response()
}

/// A drain, undrain or weight button: the request goes to lvs's control
/// socket, lvs's answer is shown above the refreshed status, and one
/// audit line is logged.
pub(super) async fn control_post(
    State(app): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Response {
    let f = &ctx.form;
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let (auto, rate) = auto_rate(f);
    let who = ctx.user.as_deref().unwrap_or("-");
    let (outcome, code) = match control::change_request(
        field("action"),
        field("service"),
        field("server"),
        f.get("weight").map(String::as_str),
    ) {
        Err(m) => (
            Outcome {
                request: None,
                ok: false,
                text: m,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(req) => {
            let line = req.line();
            // pulse passes a change on to lvs (and its socket may be open
            // to the tool's group: pulse --control-group); lvs's own socket
            // when pulse cannot be asked
            let pulse = app.settings.pulse_socket.clone();
            let path = app.settings.lvs_socket.clone();
            let t = app.settings.socket_timeout;
            let sent = tokio::task::spawn_blocking(move || {
                control::send_change(&pulse, &req, t).or_else(|via_pulse| {
                    control::send_change(&path, &req, t)
                        .map_err(|via_lvs| format!("{via_pulse}; {via_lvs}"))
                })
            })
            .await
            .unwrap_or_else(|e| Err(format!("asking lvs failed: {e}")));
            let said = |text: &str| text.trim_end().escape_debug().to_string();
            match sent {
                Ok(a) if a.ok => {
                    log::info!(
                        "CONTROL/MONITORING: lvs carried out `{line}` for {who} from {}: {}",
                        ctx.peer,
                        said(&a.text)
                    );
                    (
                        Outcome {
                            request: Some(line),
                            ok: true,
                            text: a.text,
                        },
                        StatusCode::OK,
                    )
                }
                Ok(a) => {
                    log::warn!(
                        "CONTROL/MONITORING: lvs refused `{line}` for {who} from {}: {}",
                        ctx.peer,
                        said(&a.text)
                    );
                    (
                        Outcome {
                            request: Some(line),
                            ok: false,
                            text: a.text,
                        },
                        StatusCode::UNPROCESSABLE_ENTITY,
                    )
                }
                Err(m) => {
                    log::warn!(
                        "CONTROL/MONITORING: `{line}` for {who} from {} not sent: {}",
                        ctx.peer,
                        said(&m)
                    );
                    (
                        Outcome {
                            request: Some(line),
                            ok: false,
                            text: m,
                        },
                        StatusCode::SERVICE_UNAVAILABLE,
                    )
                }
            }
        }
    };
    let view = gather(&app, Some(outcome)).await;
    let c = Chrome {
        csrf: &ctx.csrf,
        note: None,
        refresh: None,
    };
    (code, pages::control(&c, &view, auto, rate)).into_response()
}

pub(super) async fn passwd_help(
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
