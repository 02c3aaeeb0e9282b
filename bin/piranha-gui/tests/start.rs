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
