//! The REDUNDANCY panel.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::app::{Ctx, Shared};
use super::helpers::{change, chrome, done, file_problem, merged, read, refused, Q};
use crate::forms;
use crate::pages;
use crate::store::ChangeError;

pub(super) async fn redundancy_get(
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

pub(super) async fn redundancy_post(
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
