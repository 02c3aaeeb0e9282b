//! The binary: refuses to start without a password, starts and stops
//! cleanly with one (pidfile written before the starting process exits,
//! removed at SIGTERM).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn gui() -> Command {
    Command::new(env!("CARGO_BIN_EXE_piranha-gui"))
}

fn me() -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .unwrap()
        .unwrap()
        .name
}

#[test]
fn refuses_to_start_without_a_password_for_piranha() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("piranha.passwd");
    for content in [
        None,
        Some(""),
        Some("admin:$2y$10$abcdefghijklmnopqrstuuJ0yJxVtLQbqZ5y5y5y5y5y5y5y5y5y\n"),
    ] {
        if let Some(c) = content {
            std::fs::write(&pw, c).unwrap();
        }
        let out = gui()
            .args(["-n", "--listen", "127.0.0.1:0", "--pidfile"])
            .arg(dir.path().join("pid"))
            .arg("--passwd-file")
            .arg(&pw)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{content:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("piranha-passwd"), "{content:?}: {err}");
        assert!(!dir.path().join("pid").exists());
    }
}

#[test]
fn starts_detached_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("piranha.passwd");
    piranha_auth::set_password(&pw, "piranha", "pw").unwrap();
    let cf = dir.path().join("lvs.cf");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/nat-web-farm.cf"),
        &cf,
    )
    .unwrap();
    let pidfile = dir.path().join("gui.pid");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let st = gui()
        .args(["--listen", &format!("127.0.0.1:{port}"), "--user", &me()])
        .arg("-c")
        .arg(&cf)
        .arg("--passwd-file")
        .arg(&pw)
        .arg("--pidfile")
        .arg(&pidfile)
        .status()
        .unwrap();
    assert!(st.success());
    // Ready when the starter exits: the pidfile is there and the port answers.
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let t = Instant::now();
    while pidfile.exists() || nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
    {
        assert!(t.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read(&cf).unwrap(),
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/nat-web-farm.cf"))
            .unwrap()
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let out = gui().args(["--listen", "nowhere"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = gui().args(["--allow", "10.0.0.0/33"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = gui().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("piranha-gui "));
}

#[test]
fn help_names_the_control_sockets_and_pidfiles_and_ipvsadm_is_only_deprecated() {
    let out = gui().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for f in [
        "--pulse-socket <PATH>",
        "[default: /run/pulse.ctl]",
        "--lvs-socket <PATH>",
        "[default: /run/lvs.ctl]",
        "--pulse-pidfile <FILE>",
        "[default: /var/run/pulse.pid]",
        "--lvs-pidfile <FILE>",
        "[default: /var/run/lvs.pid]",
    ] {
        assert!(help.contains(f), "{f} missing:\n{help}");
    }
    assert!(!help.contains("--ipvsadm"), "{help}");
    // An old unit file's --ipvsadm still starts (here it stops at the
    // missing password, after the warning).
    let dir = tempfile::tempdir().unwrap();
    let out = gui()
        .args([
            "-n",
            "--listen",
            "127.0.0.1:0",
            "--ipvsadm",
            "/sbin/ipvsadm",
        ])
        .arg("--passwd-file")
        .arg(dir.path().join("none"))
        .arg("--pidfile")
        .arg(dir.path().join("pid"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("warning: --ipvsadm /sbin/ipvsadm is deprecated and ignored"),
        "{err}"
    );
    assert!(err.contains("piranha-passwd"), "{err}");
}

#[test]
fn sysv_script_starts_reports_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pw = d.join("piranha.passwd");
    let cf = d.join("lvs.cf");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/nat-web-farm.cf"),
        &cf,
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sysconfig = d.join("sysconfig-piranha-gui");
    std::fs::write(
        &sysconfig,
        format!(
            "OPTIONS=\"--listen 127.0.0.1:{port} --user {} -c {} --passwd-file {}\"\n",
            me(),
            cf.display(),
            pw.display()
        ),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../init/piranha-gui");
    let init = |action: &str| -> (i32, String) {
        let out = Command::new("env")
            .arg(format!("GUI={}", env!("CARGO_BIN_EXE_piranha-gui")))
            .arg(format!("PIDFILE={}", d.join("gui.pid").display()))
            .arg(format!("SYSCONFIG={}", sysconfig.display()))
            .arg(format!("LOCKDIR={}", d.display()))
            .args(["sh", script, action])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    assert_eq!(init("status").0, 3);
    // No password yet: start fails and says what to do.
    let (code, out) = init("start");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("piranha-passwd") && out.contains("FAILED"),
        "{out}"
    );
    piranha_auth::set_password(&pw, "piranha", "pw").unwrap();
    let (code, out) = init("start");
    assert_eq!(code, 0, "{out}");
    let (code, out) = init("status");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("piranha-gui (pid"), "{out}");
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    assert_eq!(init("condrestart").0, 0);
    assert_eq!(init("status").0, 0);
    let (code, out) = init("stop");
    assert_eq!(code, 0, "{out}");
    assert_eq!(init("status").0, 3);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// One HTTP/1.1 exchange on a fresh connection: (status, headers, body).
fn http(port: u16, method: &str, path: &str, cookie: &str, body: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        req.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_string(), body.to_string())
}

fn set_cookie(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

fn csrf(body: &str) -> String {
    let i = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    body[i..i + 64].to_string()
}

/// Log in to the piranha-gui on `port`: (cookie, csrf).
fn log_in(port: u16, password: &str) -> (String, String) {
    let (_, head, body) = http(port, "GET", "/login", "", "");
    let anon = set_cookie(&head);
    let form = format!("csrf={}&username=piranha&password={password}", csrf(&body));
    let (st, head, _) = http(port, "POST", "/login", &anon, &form);
    assert_eq!(st, 303);
    let cookie = set_cookie(&head);
    let (_, _, body) = http(port, "GET", "/control", &cookie, "");
    (cookie, csrf(&body))
}

#[test]
fn two_processes_on_one_file_do_not_lose_changes() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("piranha.passwd");
    piranha_auth::set_password(&pw, "piranha", "pw").unwrap();
    let cf = dir.path().join("lvs.cf");
    let mut text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/nat-web-farm.cf"),
    )
    .unwrap();
    let serial = lvs_config::parse_str(&text, &Default::default())
        .unwrap()
        .config
        .serial_no();
    const N: usize = 12;
    for i in 0..N {
        text.push_str(&format!(
            "virtual v{i} {{\n    active = 0\n    address = 192.0.2.{} eth0:1\n    port = 80\n}}\n",
            100 + i
        ));
    }
    std::fs::write(&cf, &text).unwrap();
    let mut guis = Vec::new();
    let mut ports = Vec::new();
    for k in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let st = gui()
            .args(["--listen", &format!("127.0.0.1:{port}"), "--user", &me()])
            .arg("-c")
            .arg(&cf)
            .arg("--passwd-file")
            .arg(&pw)
            .arg("--pidfile")
            .arg(dir.path().join(format!("gui{k}.pid")))
            .status()
            .unwrap();
        assert!(st.success());
        let pid: i32 = std::fs::read_to_string(dir.path().join(format!("gui{k}.pid")))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        guis.push(nix::unistd::Pid::from_raw(pid));
        ports.push(port);
    }
    struct Stop(Vec<nix::unistd::Pid>);
    impl Drop for Stop {
        fn drop(&mut self) {
            for p in &self.0 {
                let _ = nix::sys::signal::kill(*p, nix::sys::signal::Signal::SIGTERM);
            }
        }
    }
    let _stop = Stop(guis);
    // Each process changes every other virtual server, both at once, several
    // requests in flight per process.
    let mut threads = Vec::new();
    for (k, port) in ports.iter().copied().enumerate() {
        let (cookie, token) = log_in(port, "pw");
        for i in (k..N).step_by(2) {
            let (cookie, token) = (cookie.clone(), token.clone());
            threads.push(std::thread::spawn(move || {
                let form = format!("csrf={token}&port={}", 1000 + i);
                http(
                    port,
                    "POST",
                    &format!("/virtual_edit_virt?vs=v{i}"),
                    &cookie,
                    &form,
                )
                .0
            }));
        }
    }
    for t in threads {
        assert_eq!(t.join().unwrap(), 303);
    }
    let end = std::fs::read_to_string(&cf).unwrap();
    let cfg = lvs_config::parse_str(&end, &Default::default())
        .unwrap()
        .config;
    assert_eq!(cfg.serial_no(), serial + N as i64, "one bump per change");
    for i in 0..N {
        assert_eq!(
            cfg.virtual_server(&format!("v{i}")).unwrap().port(),
            1000 + i as u16,
            "v{i} lost its change:\n{end}"
        );
    }
    assert_eq!(end.lines().count(), text.lines().count());
    assert!(end.starts_with(&text[..text.find("serial_no").unwrap()]));
}

/// In the foreground (`-n`) the log is on stdout too: where it listens,
/// once, then one audit line per change written to lvs.cf (panel, new
/// serial number, user, client address, what changed), nothing for a
/// refused or empty change.
#[test]
fn foreground_logs_where_it_listens_and_each_change() {
    use std::io::BufRead;
    use std::process::Stdio;
    use std::sync::mpsc;

    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("piranha.passwd");
    piranha_auth::set_password(&pw, "piranha", "pw").unwrap();
    let cf = dir.path().join("lvs.cf");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../etc/nat-web-farm.cf"),
        &cf,
    )
    .unwrap();
    let serial = |cf: &Path| {
        lvs_config::parse_str(&std::fs::read_to_string(cf).unwrap(), &Default::default())
            .unwrap()
            .config
            .serial_no()
    };
    let first = serial(&cf);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = gui()
        .args([
            "-n",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--user",
            &me(),
        ])
        .arg("-c")
        .arg(&cf)
        .arg("--passwd-file")
        .arg(&pw)
        .arg("--pidfile")
        .arg(dir.path().join("gui.pid"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
    let _kill = Kill(child.id() as i32);
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<String> = Vec::new();
    let mut wait_for = |want: &dyn Fn(&str) -> bool| -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = seen.iter().find(|l| want(l)) {
                return l.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) => seen.push(l),
                Err(_) => panic!("no such line in {seen:#?}"),
            }
        }
    };

    let listening = wait_for(&|l| l.contains("listening on"));
    assert!(
        listening.starts_with(&format!(
            "piranha-gui: listening on 127.0.0.1:{port} (http://127.0.0.1:{port}/): "
        )),
        "{listening}"
    );
    assert!(listening.contains(&*cf.to_string_lossy()), "{listening}");

    let (cookie, token) = log_in(port, "pw");
    wait_for(&|l| l == "piranha-gui: login as piranha from 127.0.0.1");

    // A refused change (port out of range) and an empty one write nothing
    // and log no change.
    let (st, _, _) = http(
        port,
        "POST",
        "/virtual_edit_virt?vs=www",
        &cookie,
        &format!("csrf={token}&port=65536"),
    );
    assert_eq!(st, 422);
    let (st, _, _) = http(
        port,
        "POST",
        "/virtual_edit_virt?vs=www",
        &cookie,
        &format!("csrf={token}&port=80"),
    );
    assert_eq!(st, 303);
    assert_eq!(serial(&cf), first);

    let (st, _, _) = http(
        port,
        "POST",
        "/virtual_edit_virt?vs=www",
        &cookie,
        &format!("csrf={token}&port=8080&scheduler=lc"),
    );
    assert_eq!(st, 303);
    let line = wait_for(&|l| l.contains("lvs.cf changed"));
    assert_eq!(
        line,
        format!(
            "piranha-gui: VIRTUAL SERVER: lvs.cf changed to serial_no {} by piranha from 127.0.0.1: virtual www: port, scheduler",
            first + 1
        )
    );
    let (st, _, _) = http(
        port,
        "POST",
        "/virtual_main",
        &cookie,
        &format!("csrf={token}&action=toggle&vs=www"),
    );
    assert_eq!(st, 303);
    let line = wait_for(&|l| l.contains(&format!("serial_no {}", first + 2)));
    assert_eq!(
        line,
        format!(
            "piranha-gui: VIRTUAL SERVERS: lvs.cf changed to serial_no {} by piranha from 127.0.0.1: virtual www: active",
            first + 2
        )
    );
    assert_eq!(serial(&cf), first + 2);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    assert_eq!(
        seen.last().map(String::as_str),
        Some("piranha-gui: shutting down")
    );
    let count = |pat: &str| seen.iter().filter(|l| l.contains(pat)).count();
    assert_eq!(count("listening on"), 1, "{seen:#?}");
    assert_eq!(count("lvs.cf changed"), 2, "{seen:#?}");
}
