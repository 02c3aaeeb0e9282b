//! The GLOBAL SETTINGS panel.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::app::{Ctx, Shared};
use super::helpers::{change, chrome, done, file_problem, merged, read, refused, Q};
use crate::forms;
use crate::pages;
use crate::store::ChangeError;

pub(super) async fn global_get(
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

pub(super) async fn global_post(
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
