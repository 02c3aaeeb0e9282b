//! The CONTROL/MONITORING panel (pulse status, the IPVS table, the
//! processes) and the page about changing the password.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::app::{Ctx, Shared};
use super::helpers::{chrome, Q};
use crate::pages::{self, Chrome};

pub(super) async fn control(
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
