//! The VIRTUAL SERVERS panel and its sub-panels: one virtual server, its
//! real servers, one real server, and its monitoring scripts.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use lvs_config::VirtualServer;
use maud::Markup;

use super::app::{Ctx, Shared};
use super::helpers::{change, chrome, done, file_problem, merged, plain, read, refused, Q};
use crate::forms::{self, Vals};
use crate::pages::{self, urlenc};
use crate::store::{ChangeError, FieldError};

pub(super) async fn vmain_get(
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

pub(super) async fn vmain_post(
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
                    e.with("", t, "removed", |ed| ed.remove_block(t));
                    None
                }
                "toggle" => {
                    match e.config().virtual_server(&vs2).map(|v| v.active()) {
                        Some(a) => {
                            e.with("", t, "active", |ed| ed.set_active(t, !a));
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
pub(super) async fn vs_page(
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
pub(super) async fn refused_form(
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

pub(super) async fn vedit_get(
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

pub(super) async fn vedit_post(
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

pub(super) async fn rlist_get(
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

pub(super) async fn rlist_post(
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
                    e.with("", t, "removed", |ed| ed.remove_block(t));
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
                            e.with("", t, "active", |ed| ed.set_active(t, !a));
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

pub(super) async fn redit_get(
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

pub(super) async fn redit_post(
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

pub(super) async fn services_get(
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

pub(super) async fn services_post(
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
