//! The application's state ([`App`]: settings, sessions, login throttle,
//! the lvs.cf store) and what the gate hands the handlers ([`Ctx`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::forms::Form;
use crate::session::{Sessions, Throttle};
use crate::store::Store;
use crate::Settings;
use piranha_auth as auth;

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
    pub(super) store: Arc<Store>,
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

    pub(super) fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
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
    pub(super) async fn check_login(&self, peer: IpAddr, user: &str, password: &str) -> bool {
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

pub(super) type Shared = Arc<App>;

/// What the gate learnt about a request, for the handlers.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The client.
    pub peer: IpAddr,
    /// Who is logged in (a session's user, or HTTP Basic's), if anyone.
    pub user: Option<String>,
    /// The session id, if the request has a live session.
    pub session: Option<String>,
    /// The session's CSRF token ("" for Basic-auth requests).
    pub csrf: String,
    /// The POSTed form (empty for other methods).
    pub form: Form,
}
