//! Test harness: a temp lvs.cf and password file, the router driven
//! in-process (`tower::ServiceExt::oneshot`) with a chosen client address.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::ConnectInfo;
use axum::http::{header, Request, Response, StatusCode};
use piranha_auth as auth;
use piranha_gui_core::{App, Settings};
use tower::ServiceExt;

pub const PASSWORD: &str = "s3cret pass";

pub const SAMPLE: &str = "\
# lvs.cf written by hand; comments must survive the GUI
serial_no = 7
primary = 192.0.2.10
service = lvs
# the backup director
backup_active = 0
backup = 192.0.2.11
heartbeat = 1
heartbeat_port = 539
keepalive = 2
deadtime = 6
network = nat
nat_router = 10.11.12.1 eth1:1
nat_nmask = 255.255.255.0
# not shown by any panel
hard_shutdown = 0

virtual www {
    active = 1
    address = 192.0.2.80 eth0:1
    port = 80
    # health check
    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"
    expect = \"HTTP\"
    scheduler = wlc
    protocol = tcp
    timeout = 6
    reentry = 15
    server web1 {
        address = 10.11.12.21
        active = 1
        weight = 10
    }
}
";

pub struct H {
    pub dir: tempfile::TempDir,
    pub cf: PathBuf,
    pub app: Arc<App>,
    pub peer: SocketAddr,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
    pub fn cookie(&self) -> Option<String> {
        self.headers
            .get(header::SET_COOKIE)
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
    }
}

pub fn csrf_of(body: &str) -> String {
    let i = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[i..i + 64].to_string()
}

pub fn enc(fields: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish()
}

impl H {
    pub fn new(text: &str) -> H {
        H::with(text, |_| {})
    }

    pub fn with(text: &str, f: impl FnOnce(&mut Settings)) -> H {
        let dir = tempfile::tempdir().unwrap();
        let cf = dir.path().join("lvs.cf");
        std::fs::write(&cf, text).unwrap();
        let pw = dir.path().join("piranha.passwd");
        auth::set_password(&pw, auth::GUI_USER, PASSWORD).unwrap();
        let mut s = Settings::new(cf.clone(), pw);
        s.login_delay = Duration::from_millis(50);
        s.login_delay_max = Duration::from_millis(400);
        // No daemon answers unless a test serves these sockets.
        s.pulse_socket = dir.path().join("pulse.ctl");
        s.lvs_socket = dir.path().join("lvs.ctl");
        s.pulse_pidfile = dir.path().join("pulse.pid");
        s.lvs_pidfile = dir.path().join("lvs.pid");
        s.socket_timeout = Duration::from_secs(2);
        f(&mut s);
        H {
            dir,
            cf,
            app: App::new(s),
            peer: "127.0.0.1:40000".parse().unwrap(),
        }
    }

    pub fn file(&self) -> String {
        std::fs::read_to_string(&self.cf).unwrap()
    }

    pub async fn send_from(&self, peer: SocketAddr, mut req: Request<Body>) -> Resp {
        req.extensions_mut().insert(ConnectInfo(peer));
        let r: Response<Body> = piranha_gui_core::router(self.app.clone())
            .oneshot(req)
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = to_bytes(r.into_body(), 1 << 22).await.unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        self.send_from(self.peer, req).await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        let mut b = Request::get(path);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn post(&self, path: &str, cookie: Option<&str>, body: String) -> Resp {
        let mut b =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    /// Log in; returns (cookie, csrf).
    pub async fn login(&self) -> (String, String) {
        self.login_from(self.peer).await
    }

    pub async fn login_from(&self, peer: SocketAddr) -> (String, String) {
        let r = self
            .send_from(peer, Request::get("/login").body(Body::empty()).unwrap())
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let anon = r.cookie().expect("login page sets a cookie");
        let csrf = csrf_of(&r.body);
        let body = enc(&[
            ("csrf", &csrf),
            ("username", "piranha"),
            ("password", PASSWORD),
        ]);
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &anon)
            .body(Body::from(body))
            .unwrap();
        let r = self.send_from(peer, req).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/control");
        let cookie = r.cookie().expect("login sets the session cookie");
        assert_ne!(cookie, anon, "a new session id after login");
        let r = self
            .send_from(
                peer,
                Request::get("/control")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        (cookie.clone(), csrf_of(&r.body))
    }

    /// GET `path`, then POST its form back with `changes` applied on top
    /// of every field the page showed (what a browser does).
    pub async fn submit(&self, cookie: &str, path: &str, changes: &[(&str, &str)]) -> Resp {
        let page = self.get(path, Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let mut fields = form_fields(&page.body);
        for (k, v) in changes {
            if v.is_empty() && k.starts_with('!') {
                fields.remove(&k[1..]);
            } else {
                fields.insert(k.to_string(), v.to_string());
            }
        }
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let action = form_action(&page.body).unwrap_or_else(|| path.to_string());
        self.post(&action, Some(cookie), enc(&pairs)).await
    }
}

/// The last POST form's action.
pub fn form_action(body: &str) -> Option<String> {
    let i = body.rfind("<form method=\"post\" action=\"")? + 28;
    let j = body[i..].find('"')? + i;
    Some(body[i..j].replace("&amp;", "&"))
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!(" {name}=\"");
    let i = tag.find(&pat)? + pat.len();
    let j = tag[i..].find('"')? + i;
    Some(
        tag[i..j]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Fields of the main (last) POST form as a browser would submit them:
/// text and hidden inputs, checked checkboxes and radios, selected options.
pub fn form_fields(body: &str) -> HashMap<String, String> {
    let start = body.rfind("<form method=\"post\"").unwrap_or(0);
    let end = body[start..]
        .find("</form>")
        .map(|e| e + start)
        .unwrap_or(body.len());
    let form = &body[start..end];
    let mut out = HashMap::new();
    for part in form.split('<').skip(1) {
        let tag = part.split('>').next().unwrap_or("");
        if tag.starts_with("input ") {
            let ty = attr(tag, "type").unwrap_or_default();
            let Some(name) = attr(tag, "name") else {
                continue;
            };
            let val = attr(tag, "value").unwrap_or_default();
            match ty.as_str() {
                "checkbox" | "radio" => {
                    if tag.contains(" checked") {
                        out.insert(name, val);
                    }
                }
                "submit" => {}
                _ => {
                    out.insert(name, val);
                }
            }
        }
    }
    // selects
    let mut rest = form;
    while let Some(i) = rest.find("<select ") {
        let tag_end = rest[i..].find('>').unwrap() + i;
        let name = attr(&rest[i..tag_end], "name").unwrap();
        let close = rest[i..].find("</select>").unwrap() + i;
        let inner = &rest[tag_end..close];
        let mut first = None;
        let mut chosen = None;
        for opt in inner.split("<option").skip(1) {
            let t = opt.split('>').next().unwrap();
            let v = attr(t, "value").unwrap_or_default();
            if first.is_none() {
                first = Some(v.clone());
            }
            if t.contains(" selected") {
                chosen = Some(v);
            }
        }
        out.insert(name, chosen.or(first).unwrap_or_default());
        rest = &rest[close..];
    }
    out
}

/// Lines of `a` and `b` that differ (by position), for exact-change checks.
pub fn changed_lines(a: &str, b: &str) -> Vec<(String, String)> {
    let la: Vec<&str> = a.lines().collect();
    let lb: Vec<&str> = b.lines().collect();
    assert_eq!(la.len(), lb.len(), "line count changed:\n{a}\n----\n{b}");
    la.iter()
        .zip(lb.iter())
        .filter(|(x, y)| x != y)
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect()
}

pub fn parse(text: &str) -> lvs_config::Config {
    let opts = lvs_config::ParseOptions {
        file: "lvs.cf".into(),
        resolver: lvs_config::Resolver::None,
    };
    lvs_config::parse_str(text, &opts)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .config
}

/// Every page of the tool (and one that is not).
pub const ROUTES: [&str; 13] = [
    "/",
    "/control",
    "/control?auto=1&rate=10",
    "/passwd",
    "/global_settings",
    "/redundancy",
    "/virtual_main",
    "/virtual_edit_virt?vs=www",
    "/virtual_edit_real?vs=www",
    "/virtual_edit_real_server?vs=www&rs=web1",
    "/virtual_edit_services?vs=www",
    "/logout",
    "/no/such/page",
];

/// A daemon's control socket served from a thread: it stands for pulse
/// or lvs (whose own side is tested against the kernel elsewhere). Every
/// request line is recorded; `answer` says what to reply.
pub struct FakeDaemon {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeDaemon {
    pub fn serve(
        path: &std::path::Path,
        answer: impl Fn(&str) -> piranha_status::Answer + Send + 'static,
    ) -> FakeDaemon {
        let l = piranha_status::socket::Listener::bind(path).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (st, sn) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(std::sync::atomic::Ordering::Relaxed) {
                match l.accept() {
                    Some(inc) => {
                        let line = inc.line.clone().unwrap_or_else(|e| format!("!{e}"));
                        sn.lock().unwrap().push(line.clone());
                        let a = answer(&line);
                        inc.answer(&a);
                    }
                    None => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeDaemon {
            stop,
            thread: Some(thread),
            seen,
        }
    }

    /// Every request line received so far.
    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests other than `status json`.
    pub fn changes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|l| l != "status json")
            .collect()
    }
}

impl Drop for FakeDaemon {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The status answer of a daemon serving `d`.
pub fn status_of(d: &piranha_status::Director, line: &str) -> piranha_status::Answer {
    if line == "status json" {
        piranha_status::Answer::ok(d.to_json())
    } else {
        piranha_status::Answer::error(format!("unexpected request `{line}`"))
    }
}
