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
use crate::store::{ChangeError, Edit, FieldError, Saved};

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
        let saved = store.change(&kf, |e| out = Some(f(e)))?;
        Ok((saved, out.expect("the edit ran")))
    })
    .await
    .unwrap_or_else(|e| Err(ChangeError::File(e.to_string())));
    match r {
        Ok((Some(saved), out)) => {
            log::info!("{}", audit_line(what, ctx, &saved));
            Ok((true, out))
        }
        Ok((None, out)) => Ok((false, out)),
        Err(e) => {
            if let ChangeError::File(m) = &e {
                log::error!("{what}: {m}");
            }
            Err(e)
        }
    }
}

/// The log line of an accepted change: the panel, the new serial number,
/// who, from where, and which keys and blocks.
fn audit_line(panel: &str, ctx: &Ctx, saved: &Saved) -> String {
    format!(
        "{panel}: lvs.cf changed to serial_no {} by {} from {}: {}",
        saved.serial,
        ctx.user.as_deref().unwrap_or("-"),
        ctx.peer,
        saved.what
    )
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
