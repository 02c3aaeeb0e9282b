//! End to end in a real browser: Debian's chromium driven headless through
//! chromedriver (WebDriver, fantoccini) against the piranha-gui binary on a
//! throwaway lvs.cf. Logs in, drains a real server from CONTROL/MONITORING
//! (a fake control socket serving `piranha_status::model::example()`
//! stands for pulse and lvs), creates a virtual server with two real
//! servers and a monitoring script, activates it, then an IPv6 virtual
//! server whose real server is edited to an IPv6 address (a bracketed
//! address and an IPv4 one refused on the panel with lvs.cf's reasons),
//! checks the file, and saves a PNG of every panel to target/gui-e2e/
//! (copied to docs/gui/).
//!
//! Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian packages
//! chromium and chromium-driver; `make test` installs them), hence
//! `#[ignore]`: run with `cargo test -p piranha-gui --test e2e -- --ignored`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use fantoccini::{Client, ClientBuilder, Locator};
use piranha_status::model::{example, Admin, Director};
use piranha_status::socket::Listener;
use piranha_status::Answer;

const PASSWORD: &str = "e2e pass";

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// pulse's and lvs's control sockets, served from a thread: the status is
/// the example director with its service `web` named `www` as in
/// etc/nat-web-farm.cf; `drain www/SERVER` drains it there. Every change
/// request is recorded.
struct FakeDirector {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    changes: Arc<Mutex<Vec<String>>>,
}

impl FakeDirector {
    fn serve(pulse: &Path, lvs: &Path) -> FakeDirector {
        let mut d = example();
        d.lvs.as_mut().unwrap().services[0].name = "www".into();
        let d = Arc::new(Mutex::new(d));
        let sockets = [Listener::bind(pulse).unwrap(), Listener::bind(lvs).unwrap()];
        let stop = Arc::new(AtomicBool::new(false));
        let changes = Arc::new(Mutex::new(Vec::new()));
        let (st, ch) = (stop.clone(), changes.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                let mut idle = true;
                for (i, l) in sockets.iter().enumerate() {
                    let Some(inc) = l.accept() else { continue };
                    idle = false;
                    let line = inc.line.clone().unwrap_or_default();
                    let a = if line == "status json" {
                        let mut now = d.lock().unwrap().clone();
                        if i == 1 {
                            now.pulse = None;
                        }
                        Answer::ok(now.to_json())
                    } else {
                        ch.lock().unwrap().push(line.clone());
                        drain(&mut d.lock().unwrap(), &line)
                    };
                    inc.answer(&a);
                }
                if idle {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        FakeDirector {
            stop,
            thread: Some(thread),
            changes,
        }
    }
}

fn drain(d: &mut Director, line: &str) -> Answer {
    let Some(t) = line.strip_prefix("drain ") else {
        return Answer::error(format!("this test lvs only drains, not `{line}`"));
    };
    let (svc, srv) = t.split_once('/').unwrap_or(("", t));
    let now = d.taken_at;
    for s in &mut d.lvs.as_mut().unwrap().services {
        for r in &mut s.servers {
            if s.name == svc && r.name == srv {
                r.state = "drained".into();
                r.kernel_weight = Some(0);
                r.admin = Some(Admin {
                    kind: "drain".into(),
                    weight: None,
                    deadline: None,
                    since: now,
                });
                return Answer::ok(format!("{svc}/{srv}: draining (weight 0 in the kernel)"));
            }
        }
    }
    Answer::error(format!("no real server {t}"))
}

impl Drop for FakeDirector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_port(port: u16, what: &str) {
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{what} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn shot(c: &Client, dir: &Path, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

async fn fill(c: &Client, id: &str, text: &str) {
    let e = c
        .find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"));
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Click something that loads a new page, and wait until it has.
async fn click(c: &Client, css: &str) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
    let t = Instant::now();
    while old.tag_name().await.is_ok() {
        assert!(t.elapsed() < Duration::from_secs(10), "{css}: no new page");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.wait().for_element(Locator::Css("body")).await.unwrap();
}

/// Click a radio button (no page load).
async fn pick(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn select(c: &Client, id: &str, value: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn text_of(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn assert_saved(c: &Client) {
    if c.find_all(Locator::Css("#note")).await.unwrap().is_empty() {
        let src = c.source().await.unwrap();
        let main = src.find("<main>").map(|i| &src[i..]).unwrap_or(&src);
        panic!("no note at {}: {main}", c.current_url().await.unwrap());
    }
    let note = text_of(c, "#note").await;
    assert_eq!(
        note,
        "Changes saved.",
        "at {}",
        c.current_url().await.unwrap()
    );
    assert!(text_of(c, "#reload-hint")
        .await
        .contains("service pulse reload"));
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs chromium and chromedriver; run by make test"]
async fn browser_creates_a_virtual_server() {
    for p in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(p).exists(),
            "{p} missing: apt-get install chromium chromium-driver"
        );
    }
    let shots = repo().join("target/gui-e2e");
    std::fs::create_dir_all(&shots).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cf = dir.path().join("lvs.cf");
    std::fs::copy(repo().join("etc/nat-web-farm.cf"), &cf).unwrap();
    let original = std::fs::read_to_string(&cf).unwrap();
    let pw = dir.path().join("piranha.passwd");
    piranha_auth::set_password(&pw, "piranha", PASSWORD).unwrap();
    let me = nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .unwrap()
        .unwrap()
        .name;

    let (pulse_sock, lvs_sock) = (dir.path().join("pulse.ctl"), dir.path().join("lvs.ctl"));
    let director = FakeDirector::serve(&pulse_sock, &lvs_sock);
    // pulse's pidfile names a live process that is not pulse; lvs's names
    // a process called lvs (a copy of sleep).
    std::fs::write(
        dir.path().join("pulse.pid"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    let lvs_bin = dir.path().join("lvs");
    std::fs::copy("/bin/sleep", &lvs_bin).unwrap();
    let lvs = Kill(Command::new(&lvs_bin).arg("600").spawn().unwrap());
    std::fs::write(dir.path().join("lvs.pid"), format!("{}\n", lvs.0.id())).unwrap();

    let port = free_port();
    let _gui = Kill(
        Command::new(env!("CARGO_BIN_EXE_piranha-gui"))
            .args([
                "-n",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--user",
                &me,
            ])
            .arg("-c")
            .arg(&cf)
            .arg("--passwd-file")
            .arg(&pw)
            .arg("--pidfile")
            .arg(dir.path().join("gui.pid"))
            .arg("--pulse-socket")
            .arg(&pulse_sock)
            .arg("--lvs-socket")
            .arg(&lvs_sock)
            .arg("--pulse-pidfile")
            .arg(dir.path().join("pulse.pid"))
            .arg("--lvs-pidfile")
            .arg(dir.path().join("lvs.pid"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port, "piranha-gui");
    let dport = free_port();
    let _driver = Kill(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={dport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(dport, "chromedriver");
    let profile = dir.path().join("chromium-profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1100,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{dport}"))
        .await
        .expect("chromedriver session");
    let base = format!("http://127.0.0.1:{port}");
    scenario(&c, &base, &shots).await;
    let _ = c.close().await;
    assert_eq!(*director.changes.lock().unwrap(), vec!["drain www/web1"]);

    let text = std::fs::read_to_string(&cf).unwrap();
    let cfg = lvs_config::parse_file(&cf)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .config;
    assert_eq!(cfg.tcp_timeout(), 900);
    let vs = cfg
        .virtual_server("e2e_web")
        .expect("the new virtual server");
    assert!(vs.active());
    assert_eq!(vs.vip().to_string(), "192.0.2.90");
    assert_eq!(vs.address.as_ref().unwrap().value.dev, "eth0:3");
    assert_eq!(vs.port(), 8080);
    assert_eq!(vs.scheduler().as_str(), "rr");
    assert_eq!(
        vs.send.as_ref().unwrap().value.text,
        "GET /ok HTTP/1.0\\r\\n\\r\\n"
    );
    assert_eq!(vs.expect.as_ref().unwrap().value.text, "HTTP/1.1 200");
    assert_eq!(vs.servers.len(), 2);
    for (s, (n, a, w)) in vs
        .servers
        .iter()
        .zip([("rs1", "10.11.12.41", 3), ("rs2", "10.11.12.42", 7)])
    {
        assert_eq!(
            (
                s.name.value.as_str(),
                s.addr().to_string(),
                s.weight(),
                s.active()
            ),
            (n, a.to_string(), w, true)
        );
    }
    // The IPv6 virtual server, as written by the panels.
    let v6 = cfg
        .virtual_server("e2e_v6")
        .expect("the IPv6 virtual server");
    assert!(v6.active());
    assert_eq!(v6.vip().to_string(), "2001:db8::90");
    assert_eq!(v6.vip_nmask(), Some(lvs_config::Mask::Prefix(64)));
    assert_eq!(v6.servers.len(), 1);
    let rs6 = &v6.servers[0];
    assert_eq!(
        (
            rs6.name.value.as_str(),
            rs6.addr().to_string(),
            rs6.active()
        ),
        ("rs6", "2001:db8::41".to_string(), true)
    );
    let block = &text[text.find("virtual e2e_v6 {").expect("its block")..];
    let block = &block[..block.find("\n}\n").expect("its end") + 3];
    for line in [
        "    address = 2001:db8::90 eth0\n",
        "    vip_nmask = /64\n",
        "    server rs6 {\n        address = 2001:db8::41\n        active = 1\n",
    ] {
        assert!(block.contains(line), "no {line:?} in\n{block}");
    }
    // The sample's own virtual server and comments are untouched.
    let www = &original[original.find("virtual www").unwrap()..];
    assert!(text.contains(www), "{text}");
    assert!(text.starts_with("# NAT web farm"));
    assert!(std::fs::read_to_string(dir.path().join("lvs.cf.bak")).is_ok());
}

async fn scenario(c: &Client, base: &str, shots: &Path) {
    c.goto(&format!("{base}/control")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    shot(c, shots, "login").await;
    fill(c, "password", "wrong").await;
    click(c, "#login").await;
    assert!(text_of(c, "#login-error").await.contains("Login failed"));
    fill(c, "password", PASSWORD).await;
    click(c, "#login").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/control"));
    // The director's status from the control sockets; the daemons by
    // their pidfiles.
    assert_eq!(text_of(c, "#role").await, "active");
    assert!(text_of(c, "#channels").await.contains("0.4 s ago"));
    assert!(text_of(c, "#daemon-pulse").await.contains("stale pidfile"));
    let lvs = text_of(c, "#daemon-lvs").await;
    assert!(lvs.ends_with(" running"), "{lvs}");
    let web2 = text_of(c, "tr[data-server='www/web2']").await;
    assert!(web2.contains("drained"), "{web2}");
    assert!(text_of(c, "#service-dns").await.contains("LOST"));
    // DRAIN web1: lvs's answer is shown, and the status after it.
    click(c, "form[data-target='www/web1'] button[value=drain]").await;
    let answer = text_of(c, "#answer").await;
    assert!(answer.contains("drain www/web1"), "{answer}");
    assert!(
        answer.contains("www/web1: draining (weight 0 in the kernel)"),
        "{answer}"
    );
    let web1 = text_of(c, "tr[data-server='www/web1']").await;
    assert!(
        web1.contains("drained") && web1.contains("UNDRAIN"),
        "{web1}"
    );
    // Tall enough for the whole panel.
    c.set_window_size(1280, 1700).await.unwrap();
    shot(c, shots, "control").await;
    c.set_window_size(1100, 1000).await.unwrap();

    c.goto(&format!("{base}/global_settings")).await.unwrap();
    fill(c, "tcp_timeout", "900").await;
    click(c, "#accept").await;
    assert_saved(c).await;
    shot(c, shots, "global_settings").await;

    c.goto(&format!("{base}/redundancy")).await.unwrap();
    shot(c, shots, "redundancy").await;

    // VIRTUAL SERVERS → ADD → EDIT.
    c.goto(&format!("{base}/virtual_main")).await.unwrap();
    click(c, "#add").await;
    assert_saved(c).await;
    pick(c, "input[name=vs][value='[server_name]']").await;
    click(c, "#edit").await;
    fill(c, "name", "e2e web").await;
    fill(c, "vip", "192.0.2.90").await;
    fill(c, "device", "eth0:3").await;
    fill(c, "port", "8080").await;
    select(c, "scheduler", "rr").await;
    select(c, "vip_nmask", "255.255.255.0").await;
    // A wrong value first: the error shows next to the field.
    fill(c, "reentry", "soon").await;
    click(c, "#accept").await;
    assert!(text_of(c, "#err-reentry").await.contains("soon"));
    fill(c, "reentry", "20").await;
    click(c, "#accept").await;
    assert_saved(c).await;
    shot(c, shots, "virtual_server").await;

    // REAL SERVER: two servers, activated.
    for (name, addr, weight) in [("rs1", "10.11.12.41", "3"), ("rs2", "10.11.12.42", "7")] {
        click(c, "#sub-real").await;
        click(c, "#add").await;
        assert_saved(c).await;
        pick(c, "input[name=rs][value='[unnamed]']").await;
        click(c, "#edit").await;
        fill(c, "name", name).await;
        fill(c, "address", addr).await;
        fill(c, "weight", weight).await;
        click(c, "#accept").await;
        assert_saved(c).await;
        if name == "rs2" {
            shot(c, shots, "real_server_edit").await;
        }
        click(c, "#sub-real").await;
        pick(c, &format!("input[name=rs][value='{name}']")).await;
        click(c, "#toggle").await;
        assert_saved(c).await;
    }
    shot(c, shots, "real_server").await;

    // MONITORING SCRIPTS.
    click(c, "#sub-services").await;
    fill(c, "send", "GET /ok HTTP/1.0\\r\\n\\r\\n").await;
    fill(c, "expect", "HTTP/1.1 200").await;
    click(c, "#accept").await;
    assert_saved(c).await;
    shot(c, shots, "monitoring_scripts").await;

    // Activate it.
    c.goto(&format!("{base}/virtual_main")).await.unwrap();
    pick(c, "input[name=vs][value='e2e_web']").await;
    click(c, "#toggle").await;
    assert_saved(c).await;
    let table = text_of(c, "#virtual-servers").await;
    assert!(table.contains("e2e_web"), "{table}");
    shot(c, shots, "virtual_servers").await;

    ipv6_virtual_server(c, base, shots).await;

    click(c, "input[name=logout]").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
}

/// An IPv6 virtual server (VIP 2001:db8::90/64) with one real server,
/// edited to an IPv6 address. Brackets, and an IPv4 address in an IPv6
/// service outside a tunnel, are refused next to the field.
async fn ipv6_virtual_server(c: &Client, base: &str, shots: &Path) {
    // The sample is a NAT director with an IPv4 NAT router: its one router
    // cannot serve IPv6 real servers (lvs.cf refuses the mix), so the
    // director goes to direct routing first.
    c.goto(&format!("{base}/global_settings")).await.unwrap();
    pick(c, "#network-direct").await;
    click(c, "#accept").await;
    assert_saved(c).await;
    c.goto(&format!("{base}/virtual_main")).await.unwrap();
    click(c, "#add").await;
    assert_saved(c).await;
    pick(c, "input[name=vs][value='[server_name]']").await;
    click(c, "#edit").await;
    fill(c, "name", "e2e v6").await;
    fill(c, "vip", "2001:db8::90").await;
    fill(c, "device", "eth0").await;
    select(c, "vip_nmask", "/64").await;
    click(c, "#accept").await;
    assert_saved(c).await;

    click(c, "#sub-real").await;
    click(c, "#add").await;
    assert_saved(c).await;
    pick(c, "input[name=rs][value='[unnamed]']").await;
    click(c, "#edit").await;
    assert_eq!(
        c.find(Locator::Id("address"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("::"),
        "a new real server of an IPv6 service is at ::"
    );
    fill(c, "name", "rs6").await;
    fill(c, "address", "[2001:db8::41]").await;
    click(c, "#accept").await;
    let e = text_of(c, "#err-address").await;
    assert!(
        e.contains("lvs.cf takes an IPv6 address without brackets")
            && e.contains("write `2001:db8::41`"),
        "{e}"
    );
    fill(c, "address", "2001:db8::41").await;
    click(c, "#accept").await;
    assert_saved(c).await;
    click(c, "#sub-real").await;
    pick(c, "input[name=rs][value='rs6']").await;
    click(c, "#toggle").await;
    assert_saved(c).await;
    let list = text_of(c, "#real-servers").await;
    assert!(list.contains("2001:db8::41"), "{list}");

    c.goto(&format!("{base}/virtual_main")).await.unwrap();
    pick(c, "input[name=vs][value='e2e_v6']").await;
    click(c, "#toggle").await;
    assert_saved(c).await;
    let row = text_of(c, "#virtual-servers").await;
    assert!(row.contains("e2e_v6 2001:db8::90 /64 80 tcp eth0"), "{row}");

    // An IPv4 address in the active IPv6 service (network = direct): lvs.cf's
    // family rule, on the REAL SERVER panel.
    c.goto(&format!("{base}/virtual_edit_real_server?vs=e2e_v6&rs=rs6"))
        .await
        .unwrap();
    fill(c, "address", "10.11.12.43").await;
    click(c, "#accept").await;
    let e = text_of(c, "#err-address").await;
    assert!(
        e.contains("is IPv4 but virtual server `e2e_v6` is IPv6")
            && e.contains("only through a tunnel"),
        "{e}"
    );
    shot(c, shots, "real_server_ipv6_refused").await;
}
