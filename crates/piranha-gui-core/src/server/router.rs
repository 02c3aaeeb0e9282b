//! The routes of every page behind the gate, and serving them.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use super::app::App;
use super::control::{control, control_post, passwd_help};
use super::gate::gate;
use super::global::{global_get, global_post};
use super::login::{login_page, login_post, logout};
use super::redundancy::{redundancy_get, redundancy_post};
use super::virtual_servers::{
    redit_get, redit_post, rlist_get, rlist_post, services_get, services_post, vedit_get,
    vedit_post, vmain_get, vmain_post,
};

/// The whole application.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/control") }))
        .route("/login", get(login_page).post(login_post))
        .route("/logout", post(logout))
        .route("/control", get(control).post(control_post))
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
