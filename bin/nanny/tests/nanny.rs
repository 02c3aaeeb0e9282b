//! Host integration tests: the real nanny binary against loopback servers,
//! with a recording ipvsadm stand-in (`-I`).  Each test bounds its time and
//! kills what it started by pid.

mod util;

use std::time::Duration;

use util::{free_port, wait_for, wall, Behaviour, Lab, Nanny, PidGuard, TcpServer, UdpServer};

const SEC: Duration = Duration::from_secs(1);

fn http_ok() -> Behaviour {
    Behaviour::Reply(b"HTTP/1.0 200 OK\r\n\r\nhello".to_vec())
}

fn vs(port: u16) -> String {
    format!("-t 10.9.9.9:80 -r 127.0.0.1:{port}")
}

#[test]
fn add_remove_readd_exact_argv_and_timing() {
    let lab = Lab::new();
    let mut srv = TcpServer::start(0, http_ok());
    let port = srv.port;
    let ps = port.to_string();
    let ipvsadm = lab.ipvsadm();
    // interval 1, reentry 3 (three successes), weight 64 -> initial 2.
    let mut n = Nanny::start(&[
        "-p", "80", "-r", &ps, "-t", "1", "-a", "3", "-w", "64", "-I", &ipvsadm,
    ]);
    assert!(n.wait_line(
        &format!("[ active ] making 127.0.0.1:{port} available"),
        5 * SEC
    ));
    assert!(n.has_line(&format!(
        "starting LVS client monitor for 10.9.9.9:80 -> 127.0.0.1:{port}"
    )));
    assert!(n.has_line("nanny: no monitor configured, assuming web service on port 80"));
    assert!(wait_for(2 * SEC, || lab.calls().len() == 1));
    srv.stop();
    let killed = wall();
    assert!(
        n.wait_line("[inactive] shutting down", 5 * SEC),
        "{:?}",
        n.lines()
    );
    assert!(n.has_line(&format!(
        "[inactive] shutting down 127.0.0.1:{port} due to connection failure"
    )));
    assert!(wait_for(2 * SEC, || lab.calls().len() == 2));
    let calls = lab.calls();
    let latency = calls[1].0 - killed;
    assert!(
        latency <= 2.0 + 0.3,
        "removed {latency:.3}s after the kill (interval 1 + timeout 1)"
    );
    let _srv = TcpServer::start(port, http_ok());
    let back = wall();
    assert!(
        wait_for(8 * SEC, || lab.calls().len() == 3),
        "{:?}",
        n.lines()
    );
    let readd = lab.calls()[2].0 - back;
    assert!(
        (1.5..=4.5).contains(&readd),
        "re-added {readd:.3}s after restart (reentry 3 s)"
    );
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    assert!(n.has_line("Terminating due to signal 15"));
    let v = vs(port);
    assert_eq!(
        lab.argvs(),
        [
            format!("-a {v} -m -w 2"),
            format!("-d {v}"),
            format!("-a {v} -m -w 2"),
            format!("-d {v}"),
        ]
    );
}

#[test]
fn slow_start_step_at_activation_and_fwmark_gate() {
    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Reply(b"OK\n".to_vec()));
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    // interval 1: weight steps when count % 20 == 0; reentry 19 -> the first
    // success makes count 20, so the add and the first doubling coincide.
    let mut n = Nanny::start(&[
        "-p", "443", "-r", &ps, "-t", "1", "-a", "19", "-w", "64", "-f", "7", "-M", "g", "-x",
        "OK", "-I", &ipvsadm,
    ]);
    assert!(wait_for(5 * SEC, || lab.calls().len() >= 2));
    assert_eq!(n.stop_with(libc::SIGINT, 5 * SEC), Some(0));
    let r = format!("-f 7 -r 127.0.0.1:{ps}");
    assert_eq!(
        lab.argvs(),
        [
            format!("-a {r} -g -w 2"),
            format!("-e {r} -g -w 4"),
            format!("-d {r}")
        ]
    );
    assert!(n.has_line("Terminating due to signal 2"));
}

#[test]
fn quiesce_sets_weight_zero_then_edits_back() {
    let lab = Lab::new();
    let mut srv = TcpServer::start(0, Behaviour::Reply(b"pong".to_vec()));
    let port = srv.port;
    let ps = port.to_string();
    let ipvsadm = lab.ipvsadm();
    let mut n = Nanny::start(&[
        "-p", "7000", "-r", &ps, "-t", "1", "-a", "1", "-w", "5", "-q", "-s", "ping\\n", "-x",
        "po*g", "-I", &ipvsadm,
    ]);
    assert!(wait_for(5 * SEC, || lab.calls().len() == 1));
    srv.stop();
    assert!(wait_for(5 * SEC, || lab.calls().len() == 2));
    let _srv = TcpServer::start(port, Behaviour::Reply(b"pong".to_vec()));
    assert!(wait_for(5 * SEC, || lab.calls().len() == 3));
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    let v = format!("-t 10.9.9.9:7000 -r 127.0.0.1:{port}");
    assert_eq!(
        lab.argvs(),
        [
            format!("-a {v} -m -w 1"),
            format!("-e {v} -m -w 0"),
            format!("-e {v} -m -w 1"),
            format!("-d {v}")
        ]
    );
}

fn never_added(b: Behaviour, extra: &[&str], expect_line: &str) {
    let lab = Lab::new();
    let srv = TcpServer::start(0, b);
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let mut args = vec!["-p", "7000", "-r", &ps, "-t", "1", "-I", &ipvsadm];
    args.extend_from_slice(extra);
    let mut n = Nanny::start(&args);
    if !expect_line.is_empty() {
        assert!(n.wait_line(expect_line, 6 * SEC), "{:?}", n.lines());
    } else {
        std::thread::sleep(3 * SEC);
    }
    assert!(lab.calls().is_empty(), "{:?}", lab.argvs());
    assert!(!n.has_line("[ active ]"));
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    assert!(lab.calls().is_empty(), "never active, so nothing to remove");
}

fn added(b: Behaviour, extra: &[&str]) -> Vec<String> {
    let lab = Lab::new();
    let srv = TcpServer::start(0, b);
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let mut args = vec!["-p", "7000", "-r", &ps, "-t", "2", "-I", &ipvsadm];
    args.extend_from_slice(extra);
    let n = Nanny::start(&args);
    assert!(n.wait_line("[ active ]", 6 * SEC), "{:?}", n.lines());
    assert!(wait_for(2 * SEC, || !lab.calls().is_empty()));
    let argv = lab.argvs();
    drop(n);
    argv
}

#[test]
fn wrong_answer_is_down() {
    never_added(
        Behaviour::Reply(b"HTTP/1.0 500 Oops".to_vec()),
        &["-x", "HTTP/1.0 200"],
        "",
    );
}

#[test]
fn short_answer_then_close_is_too_short() {
    never_added(
        Behaviour::Reply(b"HTT".to_vec()),
        &["-x", "HTTP"],
        "READ from 127.0.0.1:",
    );
}

#[test]
fn silent_server_times_out() {
    never_added(
        Behaviour::Silent,
        &["-s", "hello", "-x", "HTTP"],
        "READ to 127.0.0.1:",
    );
}

#[test]
fn too_slow_server_times_out() {
    never_added(
        Behaviour::Chunks(vec![(
            Duration::from_millis(1500),
            b"HTTP/1.0 200 OK".to_vec(),
        )]),
        &["-x", "HTTP"],
        "READ to 127.0.0.1:",
    );
}

#[test]
fn io_timeout_is_separate_from_the_interval() {
    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Silent);
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let t0 = std::time::Instant::now();
    let n = Nanny::start(&[
        "-p",
        "7000",
        "-r",
        &ps,
        "-t",
        "5",
        "--io-timeout",
        "1",
        "-x",
        "x",
        "-I",
        &ipvsadm,
    ]);
    assert!(
        n.wait_line("READ to 127.0.0.1:", 4 * SEC),
        "{:?}",
        n.lines()
    );
    let took = t0.elapsed();
    assert!(
        took < Duration::from_millis(2500),
        "timed out after {took:?}, not after the 5 s interval"
    );
}

#[test]
fn closed_port_is_down() {
    let lab = Lab::new();
    let ps = free_port().to_string();
    let ipvsadm = lab.ipvsadm();
    let mut n = Nanny::start(&[
        "-p", "7000", "-r", &ps, "-t", "1", "-x", "x", "-v", "-I", &ipvsadm,
    ]);
    assert!(
        n.wait_line("Connection refused", 4 * SEC),
        "{:?}",
        n.lines()
    );
    assert!(lab.calls().is_empty());
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
}

#[test]
fn b5_reply_in_pieces_within_the_timeout_is_up() {
    // Piranha read once and saw "HT": a false DOWN.
    let argv = added(
        Behaviour::Chunks(vec![
            (Duration::ZERO, b"HT".to_vec()),
            (Duration::from_millis(300), b"TP/1.1 2".to_vec()),
            (Duration::from_millis(300), b"00 OK\r\n".to_vec()),
        ]),
        &["-x", "HTTP/1.1 200"],
    );
    assert_eq!(argv.len(), 1);
    assert!(argv[0].starts_with("-a -t 10.9.9.9:7000"));
}

#[test]
fn regex_expect_is_honoured() {
    added(http_ok(), &["--regex", "-x", "^HTTP/1\\.[01] 2[0-9]{2} "]);
    never_added(http_ok(), &["--regex", "-x", "^HTTP/1\\.[01] 5"], "");
}

#[test]
fn bad_regex_is_logged_and_checks_fail() {
    never_added(
        http_ok(),
        &["--regex", "-x", "(HTTP"],
        "processing expected regular expression",
    );
}

#[test]
fn udp_reply_is_up_and_closed_udp_port_is_down() {
    let lab = Lab::new();
    let srv = UdpServer::start(b"pong".to_vec());
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let n = Nanny::start(&[
        "-u", "-p", "53", "-r", &ps, "-t", "1", "-s", "ping", "-x", "pong", "-I", &ipvsadm,
    ]);
    assert!(
        wait_for(5 * SEC, || lab.calls().len() == 1),
        "{:?}",
        n.lines()
    );
    assert_eq!(
        lab.argvs()[0],
        format!("-a -u 10.9.9.9:53 -r 127.0.0.1:{ps} -m -w 1")
    );
    drop(n);

    let lab = Lab::new();
    let ps = free_port().to_string();
    let ipvsadm = lab.ipvsadm();
    let n = Nanny::start(&[
        "-u", "-p", "53", "-r", &ps, "-t", "1", "-s", "ping", "-I", &ipvsadm,
    ]);
    assert!(
        n.wait_line("READ returned error", 4 * SEC),
        "{:?}",
        n.lines()
    );
    assert!(lab.calls().is_empty());
}

#[test]
fn send_program_success_failure_and_hang() {
    let lab = Lab::new();
    let ipvsadm = lab.ipvsadm();
    let ok = lab.script("ok.sh", "#!/bin/sh\necho \"up $1 $2\"\n");
    let ok_cmd = format!("{} %h %p", ok.display());
    let n = Nanny::start(&[
        "-p",
        "7000",
        "-r",
        "8080",
        "-t",
        "1",
        "-e",
        &ok_cmd,
        "-x",
        "up 127.0.0.1 8080",
        "-I",
        &ipvsadm,
    ]);
    assert!(
        wait_for(5 * SEC, || lab.calls().len() == 1),
        "{:?}",
        n.lines()
    );
    drop(n);

    // B3: failing program with an expect string is DOWN (Piranha: UP).
    let lab = Lab::new();
    let ipvsadm = lab.ipvsadm();
    let bad = lab.script("bad.sh", "#!/bin/sh\necho up\nexit 3\n");
    let bad_cmd = bad.display().to_string();
    let n = Nanny::start(&[
        "-p", "7000", "-t", "1", "-e", &bad_cmd, "-x", "up", "-I", &ipvsadm,
    ]);
    assert!(
        n.wait_line("The following exited abnormally", 4 * SEC),
        "{:?}",
        n.lines()
    );
    std::thread::sleep(SEC);
    assert!(lab.calls().is_empty());
    drop(n);

    // B3: empty output is DOWN; wrong output is DOWN.
    let lab = Lab::new();
    let ipvsadm = lab.ipvsadm();
    let n = Nanny::start(&[
        "-p", "7000", "-t", "1", "-e", "true", "-x", "up", "-I", &ipvsadm,
    ]);
    assert!(
        n.wait_line("but didn't get anything back", 4 * SEC),
        "{:?}",
        n.lines()
    );
    drop(n);
    let n = Nanny::start(&[
        "-p",
        "7000",
        "-t",
        "1",
        "-e",
        "echo down",
        "-x",
        "up",
        "-I",
        &ipvsadm,
    ]);
    assert!(n.wait_line(
        "Trouble. Received results are not what we expected from (127.0.0.1:7000)",
        4 * SEC
    ));
    drop(n);
    assert!(lab.calls().is_empty());

    // A hanging program is killed at the timeout and is DOWN; SIGTERM during
    // the run kills it at once.
    let lab = Lab::new();
    let ipvsadm = lab.ipvsadm();
    let pidfile = lab.path().join("hang.pid");
    let hang = lab.script(
        "hang.sh",
        &format!(
            "#!/bin/sh\necho $$ > {}\nexec sleep 30\n",
            pidfile.display()
        ),
    );
    let hang_cmd = hang.display().to_string();
    let mut n = Nanny::start(&[
        "-p", "7000", "-t", "1", "-e", &hang_cmd, "-x", "up", "-I", &ipvsadm,
    ]);
    assert!(
        n.wait_line("timeout running the following", 4 * SEC),
        "{:?}",
        n.lines()
    );
    assert!(wait_for(3 * SEC, || pidfile.exists()));
    std::thread::sleep(Duration::from_millis(300));
    let t0 = std::time::Instant::now();
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    assert!(
        t0.elapsed() < Duration::from_millis(900),
        "stopped during the run"
    );
    assert!(n.has_line("Killing child"), "{:?}", n.lines());
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: probing a pid with signal 0.
    assert!(
        wait_for(2 * SEC, || unsafe { libc::kill(pid, 0) } != 0),
        "helper {pid} left running"
    );
}

#[test]
fn program_without_expect_is_up_on_exit_zero_and_regex_applies_to_output() {
    let lab = Lab::new();
    let ipvsadm = lab.ipvsadm();
    let n = Nanny::start(&["-p", "7000", "-t", "1", "-e", "true", "-I", &ipvsadm]);
    assert!(
        wait_for(5 * SEC, || lab.calls().len() == 1),
        "{:?}",
        n.lines()
    );
    drop(n);
    let lab = Lab::new();
    let ipvsadm = lab.ipvsadm();
    let n = Nanny::start(&[
        "-p",
        "7000",
        "-t",
        "1",
        "-e",
        "echo load=3",
        "--regex",
        "-x",
        "^load=[0-4]$",
        "-I",
        &ipvsadm,
    ]);
    assert!(
        wait_for(5 * SEC, || lab.calls().len() == 1),
        "{:?}",
        n.lines()
    );
}

#[test]
fn b1_failed_ipvsadm_is_logged_and_retried() {
    let lab = Lab::new();
    lab.set_failing(true);
    let srv = TcpServer::start(0, Behaviour::Reply(b"x".to_vec()));
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let mut n = Nanny::start(&["-p", "7000", "-r", &ps, "-t", "1", "-I", &ipvsadm]);
    assert!(
        n.wait_line(&format!("{ipvsadm} command failed!"), 4 * SEC),
        "{:?}",
        n.lines()
    );
    // -a then -e (the entry may exist), retried at the next check.
    assert!(wait_for(4 * SEC, || lab.calls().len() >= 4));
    lab.set_failing(false);
    let ok_at = lab.calls().len();
    assert!(wait_for(4 * SEC, || lab.calls().len() > ok_at));
    std::thread::sleep(Duration::from_millis(1500));
    let argvs = lab.argvs();
    let v = format!("-t 10.9.9.9:7000 -r 127.0.0.1:{ps}");
    assert_eq!(argvs[0], format!("-a {v} -m -w 1"));
    assert_eq!(argvs[1], format!("-e {v} -m -w 1"));
    assert_eq!(
        argvs.len(),
        ok_at + 1,
        "no more calls once it worked: {argvs:?}"
    );
    assert_eq!(
        n.stop_with(libc::SIGTERM, 5 * SEC),
        Some(0),
        "nanny is still alive"
    );
}

#[test]
fn signals_force_down_up_and_resume() {
    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Reply(b"x".to_vec()));
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let mut n = Nanny::start(&[
        "-p", "7000", "-r", &ps, "-t", "1", "-a", "60", "-w", "9", "-I", &ipvsadm,
    ]);
    assert!(wait_for(5 * SEC, || lab.calls().len() == 1));
    n.signal(libc::SIGUSR1);
    assert!(n.wait_line("opaque glasses on", 3 * SEC));
    assert!(wait_for(3 * SEC, || lab.calls().len() == 2));
    n.signal(libc::SIGUSR2);
    assert!(n.wait_line("rose-colored glasses on", 3 * SEC));
    assert!(wait_for(3 * SEC, || lab.calls().len() == 3));
    n.signal(libc::SIGHUP);
    assert!(n.wait_line("DEBUG -- removing glasses", 3 * SEC));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    let v = format!("-t 10.9.9.9:7000 -r 127.0.0.1:{ps}");
    assert_eq!(
        lab.argvs(),
        [
            format!("-a {v} -m -w 1"),
            format!("-d {v}"),
            format!("-a {v} -m -w 9"),
            format!("-d {v}")
        ]
    );
}

#[test]
fn test_start_logs_instead_of_running() {
    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Reply(b"x".to_vec()));
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let n = Nanny::start(&[
        "-p",
        "7000",
        "-r",
        &ps,
        "-t",
        "1",
        "--test-start",
        "-I",
        &ipvsadm,
    ]);
    let want = format!("running command \"{ipvsadm}\" \"-a\" \"-t\" \"10.9.9.9:7000\" \"-r\" \"127.0.0.1:{ps}\" \"-m\" \"-w\" \"1\"");
    assert!(n.wait_line(&want, 4 * SEC), "{:?}", n.lines());
    assert!(lab.calls().is_empty());
}

#[test]
fn daemon_mode_detaches_and_is_stopped_by_pid() {
    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Reply(b"x".to_vec()));
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    // Without -n: the command returns at once (the daemon lives on).
    let st = std::process::Command::new(env!("CARGO_BIN_EXE_nanny"))
        .args([
            "--lvs",
            "-h",
            "127.0.0.1",
            "-V",
            "10.9.9.9",
            "-p",
            "7000",
            "-r",
            &ps,
            "-t",
            "1",
            "-I",
            &ipvsadm,
        ])
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(0));
    assert!(wait_for(5 * SEC, || lab.calls().len() == 1));
    // Find the daemon by its argv (our unique ipvsadm path) and stop it.
    let mut pid = None;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(&ipvsadm) && cmd.contains("nanny") {
                pid = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok());
            }
        }
    }
    let pid = pid.expect("daemon running");
    let mut guard = PidGuard(Some(pid));
    // SAFETY: signalling the daemon this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert!(wait_for(5 * SEC, || lab.calls().len() == 2));
    // SAFETY: probing with signal 0.
    assert!(wait_for(3 * SEC, || unsafe { libc::kill(pid, 0) } != 0));
    guard.0 = None;
}

#[test]
fn argv_exactly_as_lvs_builds_it() {
    // The command line lvsd 0.8.6 gives a nanny (reference §3.2), flags
    // repeated by the harness on purpose (popt allowed repeats).
    let lab = Lab::new();
    let srv = TcpServer::start(0, http_ok());
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let mut n = Nanny::start(&[
        "-c",
        "-h",
        "127.0.0.1",
        "-p",
        "80",
        "-r",
        &ps,
        "-s",
        "GET / HTTP/1.0\\r\\n\\r\\n",
        "-x",
        "HTTP",
        "-a",
        "15",
        "-I",
        &ipvsadm,
        "-t",
        "6",
        "-w",
        "1",
        "-V",
        "10.9.9.9",
        "-M",
        "g",
        "--nodaemon",
        "--lvs",
    ]);
    assert!(
        wait_for(5 * SEC, || lab.calls().len() == 1),
        "{:?}",
        n.lines()
    );
    assert_eq!(
        lab.argvs()[0],
        format!("-a -t 10.9.9.9:80 -r 127.0.0.1:{ps} -g -w 1")
    );
    assert!(!n.has_line("no monitor configured"));
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    // Direct routing: the kernel holds the entry under the service's port
    // (ipvsadm forces it on -a), so -d names that one (Piranha named RPORT
    // and could not remove the server; COMPATIBILITY N27).
    assert_eq!(lab.argvs()[1], "-d -t 10.9.9.9:80 -r 127.0.0.1:80");
}

/// lvs's fork server: the child runs nanny with exactly the requested argv
/// (what `ps` shows included), is a child of the requester, writes to the
/// descriptor sent with the request, and stops on SIGTERM like any nanny.
#[test]
fn fork_server_children_are_nannies_with_the_requested_argv() {
    use piranha_runtime::forkserver::ForkServer;
    use std::io::Read;
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};

    let lab = Lab::new();
    let srv = TcpServer::start(0, Behaviour::Reply(b"x".to_vec()));
    let ps = srv.port.to_string();
    let ipvsadm = lab.ipvsadm();
    let nanny = env!("CARGO_BIN_EXE_nanny");
    let server = ForkServer::start(std::path::Path::new(nanny), || Ok(())).unwrap();
    let _server_guard = PidGuard(Some(server.pid().as_raw()));
    let argv: Vec<String> = [
        nanny,
        "-c",
        "-h",
        "127.0.0.1",
        "-p",
        "7000",
        "-r",
        &ps,
        "-t",
        "1",
        "-V",
        "10.9.9.9",
        "-I",
        &ipvsadm,
        "--nodaemon",
        "--lvs",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two new descriptors that we then own.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let pid = server.spawn(&argv, wr.as_fd()).unwrap().as_raw();
    drop(wr);
    let _guard = PidGuard(Some(pid));
    // The child sets its command line right after the fork.
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let cmdline = || std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    wait_for(5 * SEC, || cmdline() == want);
    assert_eq!(
        String::from_utf8_lossy(&cmdline()),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(
        std::fs::canonicalize(format!("/proc/{pid}/exe")).unwrap(),
        std::fs::canonicalize(nanny).unwrap()
    );
    let ppid = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: i32 = ppid
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        ppid,
        std::process::id() as i32,
        "a child of the requester, not of the server"
    );
    assert!(
        wait_for(5 * SEC, || lab.argvs().len() == 1),
        "{:?}",
        lab.argvs()
    );
    assert_eq!(
        lab.argvs()[0],
        format!("-a -t 10.9.9.9:7000 -r 127.0.0.1:{ps} -m -w 1")
    );
    // SAFETY: plain kill and waitpid on our own child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
    assert_eq!(lab.argvs().len(), 2, "the server is removed on SIGTERM");
    let mut out = String::new();
    std::fs::File::from(rd).read_to_string(&mut out).unwrap();
    assert!(
        out.contains("nanny: starting LVS client monitor for 10.9.9.9:7000"),
        "{out}"
    );
    // Closing the request socket ends the server.
    let spid = server.pid().as_raw();
    drop(server);
    let mut status = 0;
    assert_eq!(unsafe { libc::waitpid(spid, &mut status, 0) }, spid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}"
    );
}

/// `--lvs-table` (the quorum extension): nanny reports the entry it wants on
/// stdout and never runs ipvsadm; lvs applies it.
#[test]
fn lvs_table_reports_and_runs_nothing() {
    let lab = Lab::new();
    let mut srv = TcpServer::start(0, http_ok());
    let port = srv.port;
    let ps = port.to_string();
    let ipvsadm = lab.ipvsadm();
    let mut n = Nanny::start(&[
        "-p",
        "80",
        "-r",
        &ps,
        "-t",
        "1",
        "-a",
        "1",
        "-w",
        "64",
        "-I",
        &ipvsadm,
        "--lvs-table",
    ]);
    let name = format!("127.0.0.1:{port}");
    assert!(
        n.wait_line(&format!("nanny: [lvs-table] {name} weight 2"), 5 * SEC),
        "{:?}",
        n.lines()
    );
    assert!(n.has_line(&format!("[ active ] making {name} available")));
    srv.stop();
    assert!(
        n.wait_line(&format!("nanny: [lvs-table] {name} absent"), 5 * SEC),
        "{:?}",
        n.lines()
    );
    assert_eq!(n.stop_with(libc::SIGTERM, 5 * SEC), Some(0));
    assert!(lab.calls().is_empty(), "ran ipvsadm: {:?}", lab.calls());
}
