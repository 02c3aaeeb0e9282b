//! What the page handlers share: plain answers, the page chrome, reading
//! and changing lvs.cf off the async threads, and re-showing a refused form.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::Markup;

use super::app::{Ctx, Shared};
use crate::forms::{self, Form, Vals};
use crate::pages::{self, Chrome};
use crate::store::{ChangeError, Edit, FieldError};

pub(super) fn plain(code: StatusCode, msg: &str) -> Response {
    (code, format!("{msg}\n")).into_response()
}

pub(super) type Q = Query<HashMap<String, String>>;

fn note(q: &HashMap<String, String>) -> Option<&'static str> {
    if q.contains_key("saved") {
        Some(pages::SAVED)
    } else if q.contains_key("unchanged") {
        Some("Nothing was changed.")
    } else {
        None
    }
}

pub(super) fn chrome<'a>(ctx: &'a Ctx, q: &HashMap<String, String>) -> Chrome<'a> {
    Chrome {
        csrf: &ctx.csrf,
        note: note(q),
        refresh: None,
    }
}

/// Why a page could not read the configuration file.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReadError {
    #[error(transparent)]
    File(#[from] lvs_config::EditError),
    #[error("reading the file failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub(super) async fn read(app: &Shared) -> Result<lvs_config::Editor, ReadError> {
    let store = app.store.clone();
    Ok(tokio::task::spawn_blocking(move || store.read()).await??)
}

pub(super) fn file_problem(ctx: &Ctx, tab: &str, msg: &str) -> Response {
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

pub(super) async fn change<R: Send + 'static>(
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

pub(super) fn done(path: &str, changed: bool) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    let flag = if changed { "saved=1" } else { "unchanged=1" };
    Redirect::to(&format!("{path}{sep}{flag}")).into_response()
}

pub(super) fn refused(m: Markup) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, m).into_response()
}

/// Current values with the submitted ones on top, to re-show a refused form.
/// After a refusal because the file changed under the page, the file's
/// values alone (re-showing the old ones would write them back).
pub(super) fn merged(mut cur: Vals, form: &Form, checkboxes: &[&str], errs: &[FieldError]) -> Vals {
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
