//! lvs as a process on this host, with real nannies checking real sockets
//! on loopback and a recording stand-in for ipvsadm (the host kernel has no
//! IPVS; the kernel-lab test runs the same daemon against the real table).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::nanny_bin;

/// A recording ipvsadm: every invocation appends `ARGS...` to `log`, `-R`
/// appends each stdin line as `R: LINE`, `-S` prints `table`.
fn stand_in(dir: &Path) -> PathBuf {
    let p = dir.join("ipvsadm");
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\nlog={d}/ipvsadm.log\nif [ \"$1\" = -R ]; then while read -r l; do echo \"R: $l\" >> $log; done; exit 0; fi\nif [ \"$1\" = -S ]; then cat {d}/table 2>/dev/null; exit 0; fi\necho \"$*\" >> $log\n",
            d = dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p
}

/// A tiny HTTP server on loopback that can be switched off and on.
struct Web {
    port: u16,
    up: Arc<AtomicBool>,
}

fn web() -> Web {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let up = Arc::new(AtomicBool::new(true));
    let u = up.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            if u.load(Ordering::SeqCst) {
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\nok\n");
            }
            // Down: close without a word, which fails the "HTTP" expect.
        }
    });
    Web { port, up }
}

struct Lvs {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    dir: PathBuf,
}

impl Lvs {
    fn start(dir: &Path, cfg: &Path, extra: &[&str]) -> Lvs {
        Lvs::start_with(dir, cfg, extra, None)
    }

    /// With pulse's readiness pipe: `ready_fd` (inheritable) named in
    /// `PIRANHA_READY_FD`.
    fn start_with(dir: &Path, cfg: &Path, extra: &[&str], ready_fd: Option<i32>) -> Lvs {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lvs"));
        if let Some(fd) = ready_fd {
            cmd.env("PIRANHA_READY_FD", fd.to_string());
            // Inherited by this lvs only (other tests spawn meanwhile).
            // SAFETY: only fcntl between fork and exec.
            unsafe {
                std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
                    libc::fcntl(fd, libc::F_SETFD, 0);
                    Ok(())
                });
            }
        }
        let mut child = cmd
            .args(["-n", "-c"])
            .arg(cfg)
            .arg("--pidfile")
            .arg(dir.join("lvs.pid"))
            .args(["--grace", "3"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start lvs");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let l = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    l.lock().unwrap().push(line);
                }
            });
        }
        Lvs {
            child,
            lines,
            dir: dir.to_path_buf(),
        }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.pid(), sig) };
    }

    fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn ipvsadm(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("ipvsadm.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Wait until `f` holds, or fail with the logs.
    fn wait_for(&self, what: &str, secs: u64, mut f: impl FnMut(&Lvs) -> bool) {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if f(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}\n--- lvs:\n{}\n--- ipvsadm:\n{}",
            self.log().join("\n"),
            self.ipvsadm().join("\n")
        );
    }

    fn child_alive(&self) -> bool {
        // SAFETY: kill(2) with signal 0 on our own child's pid.
        unsafe { libc::kill(self.pid(), 0) == 0 }
    }

    fn has_log(&self, s: &str) -> bool {
        self.log().iter().any(|l| l.contains(s))
    }

    fn count_log(&self, s: &str) -> usize {
        self.log().iter().filter(|l| l.contains(s)).count()
    }

    fn has_cmd(&self, s: &str) -> bool {
        self.ipvsadm().iter().any(|l| l == s)
    }
}

impl Drop for Lvs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Nannies die with lvs (PR_SET_PDEATHSIG); make sure, by the pids
        // lvs logged (each still a nanny: its command line says so).
        for line in self.log() {
            let Some(pid) = line
                .split_once("running as pid ")
                .and_then(|(_, p)| p.trim().parse::<i32>().ok())
            else {
                continue;
            };
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains("nanny") {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

fn config(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("lvs.cf");
    std::fs::write(&p, body).unwrap();
    p
}

fn base(dir: &Path, web1: u16, web2: u16, weight2: u32) -> String {
    format!(
        "primary = 192.0.2.10\nnetwork = nat\nipvsadm = {ipvsadm}\n\
virtual www {{\n    active = 1\n    address = 192.0.2.100 eth0:1\n    port = 80\n    client_monitor = {nanny}\n    expect = \"HTTP\"\n    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n    timeout = 1\n    reentry = 1\n    server web1 {{\n        address = 127.0.0.1\n        port = {web1}\n        active = 1\n        weight = 1\n    }}\n    server web2 {{\n        address = 127.0.0.1\n        port = {web2}\n        active = 1\n        weight = {weight2}\n    }}\n}}\n\
virtual shop {{\n    active = 1\n    address = 192.0.2.101 eth0:2\n    fwmark = 7\n    port = 80\n    sorry_server = 10.0.0.99\n    client_monitor = {nanny}\n    timeout = 1\n    reentry = 1\n    scheduler = rr\n    server shop1 {{\n        address = 127.0.0.1\n        port = {web1}\n        active = 1\n    }}\n}}\n",
        ipvsadm = dir.join("ipvsadm").display(),
        nanny = nanny_bin().display(),
    )
}

#[test]
fn lvs_runs_supervises_reloads_and_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    stand_in(dir);
    let (w1, w2) = (web(), web());
    let cfg = config(dir, &base(dir, w1.port, w2.port, 2));
    let lvs = Lvs::start(dir, &cfg, &[]);

    // Start-up: both services in one -R pass, nannies started, servers added.
    lvs.wait_for("services and real servers", 20, |l| {
        l.has_cmd(&format!(
            "-a -t 192.0.2.100:80 -r 127.0.0.1:{} -m -w 1",
            w1.port
        )) && l.has_cmd(&format!(
            "-a -t 192.0.2.100:80 -r 127.0.0.1:{} -m -w 1",
            w2.port
        )) && l.has_cmd(&format!("-a -f 7 -r 127.0.0.1:{} -m -w 1", w1.port))
    });
    let cmds = lvs.ipvsadm();
    assert_eq!(cmds[0], "R: -A -t 192.0.2.100:80 -s wlc");
    assert_eq!(cmds[1], "R: -A -f 7 -s rr");
    assert!(
        !cmds.iter().any(|c| c.contains("--set") || c.contains("-C")),
        "B6: no flush, no --set"
    );
    assert!(lvs.has_log("lvs: starting virtual service www active: 80"));
    assert!(lvs.has_log("create_monitor for www/web1 running as pid"));
    // shop1 came up within its first check: shop's sorry server never
    // came in (lvs waits for the first checks before calling a service
    // empty; it used to answer for a moment at every start and takeover).
    // Wait past that wait (timeout 1 s + 1 s) and look again.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        !lvs.has_cmd("-a -f 7 -r 10.0.0.99:80 -m -w 1"),
        "{:?}",
        lvs.ipvsadm()
    );
    assert!(!lvs.has_log("activate sorry_server"), "{:?}", lvs.log());

    // A nanny killed with -9 is restarted; the table is not touched.
    let line = lvs
        .log()
        .into_iter()
        .find(|l| l.contains("create_monitor for www/web2 running as pid"))
        .unwrap();
    let pid: i32 = line.rsplit(' ').next().unwrap().parse().unwrap();
    let before = lvs.ipvsadm().len();
    unsafe { libc::kill(pid, libc::SIGKILL) };
    lvs.wait_for("nanny restart", 10, |l| {
        l.count_log("create_monitor for www/web2 running as pid") == 2
    });
    assert!(
        lvs.has_log("nanny for child www/web2 died!"),
        "{:?}",
        lvs.log()
    );
    assert!(!lvs.ipvsadm()[before..].iter().any(|c| c.contains("-D ")));

    // All of shop's servers down: the sorry server comes back.
    w1.up.store(false, Ordering::SeqCst);
    lvs.wait_for("sorry server on", 15, |l| {
        l.count_log("No real servers; activate sorry_server") == 1
            && l.has_cmd("-a -f 7 -r 10.0.0.99:80 -m -w 1")
    });
    w1.up.store(true, Ordering::SeqCst);
    lvs.wait_for("sorry server off", 15, |l| {
        l.has_cmd("-d -f 7 -r 10.0.0.99:80")
    });
    assert!(lvs.has_log("Virtual Server shop: 1 real servers; deactivate sorry_server 10.0.0.99"));

    // SIGHUP with one changed weight: only that nanny restarts.
    let n_monitors = lvs.count_log("create_monitor for");
    std::fs::write(&cfg, base(dir, w1.port, w2.port, 5)).unwrap();
    lvs.signal(libc::SIGHUP);
    lvs.wait_for("restarted nanny", 10, |l| {
        l.count_log("create_monitor for www/web2 running as pid") == 3
    });
    assert!(lvs.has_log("rereading configuration file"));
    assert!(
        lvs.has_log("one block re-parsed"),
        "the edit inside `www` is re-parsed alone: {:?}",
        lvs.log()
    );
    assert_eq!(
        lvs.count_log("create_monitor for"),
        n_monitors + 1,
        "only web2's nanny restarts"
    );
    let line = lvs
        .log()
        .into_iter()
        .rfind(|l| l.contains("create_monitor for www/web2 running as pid"))
        .unwrap();
    let pid: i32 = line.rsplit(' ').next().unwrap().parse().unwrap();
    // Where the fork server cannot rewrite the child's command line (no
    // CAP_SYS_RESOURCE) the child execs the argv: wait for that.
    let read_argv = || -> Vec<String> {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .unwrap_or_default()
            .split(|&b| b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    };
    let t0 = Instant::now();
    while !read_argv().iter().any(|a| a == "-w") && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let argv = read_argv();
    let w = argv.iter().position(|a| a == "-w").unwrap();
    assert_eq!(argv[w + 1], "5", "{argv:?}");
    lvs.wait_for("the old nanny removed its server", 10, |l| {
        l.has_cmd(&format!("-d -t 192.0.2.100:80 -r 127.0.0.1:{}", w2.port))
    });

    // Let the table settle first: web1's nanny puts web1 back after its
    // reentry time, whenever that falls.
    let t0 = Instant::now();
    let mut n = lvs.ipvsadm().len();
    while t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(2500));
        let m = lvs.ipvsadm().len();
        if m == n {
            break;
        }
        n = m;
    }

    // SIGHUP with a broken file: logged, nothing changes.
    std::fs::write(&cfg, "virtual www {\n    schedular = rr\n}\n").unwrap();
    lvs.signal(libc::SIGHUP);
    lvs.wait_for("error logged", 10, |l| {
        l.has_log("keeping the running configuration")
    });
    assert!(lvs.has_log("`schedular`: unknown command"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(lvs.ipvsadm().len(), n);
    // The file put back as it runs: the kept configuration is intact.
    let u = lvs.count_log("configuration unchanged");
    std::fs::write(&cfg, base(dir, w1.port, w2.port, 5)).unwrap();
    lvs.signal(libc::SIGHUP);
    lvs.wait_for("unchanged", 10, |l| {
        l.count_log("configuration unchanged") == u + 1
    });
    assert_eq!(lvs.ipvsadm().len(), n);

    // SIGTERM: nannies remove their servers, services deleted, exit 0.
    lvs.signal(libc::SIGTERM);
    let mut lvs = lvs;
    let st = lvs.child.wait().unwrap();
    assert_eq!(st.code(), Some(0), "{}", lvs.log().join("\n"));
    let cmds = lvs.ipvsadm();
    assert!(
        cmds.contains(&"R: -D -t 192.0.2.100:80".to_string()),
        "{cmds:?}"
    );
    assert!(cmds.contains(&"R: -D -f 7".to_string()), "{cmds:?}");
    assert!(lvs.has_log("shutting down virtual service www"));
    assert!(!dir.join("lvs.pid").exists());
}

#[test]
fn test_start_logs_piranhas_argv_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/nat-web-farm.cf");
    let lvs = Lvs::start(dir, Path::new(sample), &["-t"]);
    lvs.wait_for("test-start lines", 10, |l| {
        l.count_log("[test-start] create_monitor") == 3
    });
    let log = lvs.log();
    let want = [
        "lvs: [test-start] /sbin/ipvsadm --set 0 0 0",
        "lvs: [test-start] /sbin/ipvsadm -A -t 192.0.2.80:80 -s wlc",
        "lvs: [test-start] create_monitor for www/web1: /usr/sbin/nanny -c -h 10.11.12.21 -p 80 -r 80 -s 'GET /health HTTP/1.0\\r\\n\\r\\n' -x 'HTTP/1.*200' --regex -a 15 -I /sbin/ipvsadm -t 6 -w 10 -V 192.0.2.80 -M m -U none --nodaemon --lvs",
        "lvs: [test-start] create_monitor for www/web3: /usr/sbin/nanny -c -h 10.11.12.23 -p 80 -r 8080 -s 'GET /health HTTP/1.0\\r\\n\\r\\n' -x 'HTTP/1.*200' --regex -a 15 -I /sbin/ipvsadm -t 6 -w 5 -V 192.0.2.80 -M m -U none --nodaemon --lvs",
    ];
    for w in &want[1..] {
        assert!(
            log.iter().any(|l| l == w),
            "missing {w}\n{}",
            log.join("\n")
        );
    }
    assert!(
        !log.iter().any(|l| l == want[0]),
        "timeouts are not set when lvs.cf has none"
    );
    assert!(!dir.join("ipvsadm.log").exists());
}

#[test]
fn test_start_of_the_ipv6_sample_has_ipvsadm_s_ipv6_words() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../../etc/ipv6-web-farm.cf");
    let lvs = Lvs::start(dir, Path::new(sample), &["-t"]);
    lvs.wait_for("test-start lines", 10, |l| {
        l.count_log("[test-start] create_monitor") == 4
    });
    let log = lvs.log();
    for w in [
        "lvs: [test-start] /sbin/ipvsadm -A -t '[2001:db8:100::80]:80' -s wlc -p 300 -M 64",
        "lvs: [test-start] /sbin/ipvsadm -A -f 6 -6 -s rr -p 600",
        "lvs: [test-start] create_monitor for www6/web2: /usr/sbin/nanny -c -h 2001:db8:1::22 -p 80 -r 80 -s 'GET / HTTP/1.0\\r\\n\\r\\n' -x HTTP -a 15 -I /sbin/ipvsadm -t 6 -w 1 -V 2001:db8:100::80 -M g --nodaemon --lvs",
        "lvs: [test-start] create_monitor for web6-marked/web1: /usr/sbin/nanny -c -h 2001:db8:1::21 -p 80 -r 443 -f 6 -a 180 -I /sbin/ipvsadm -t 10 -w 1 -V 2001:db8:100::443 -M g --nodaemon --lvs",
    ] {
        assert!(
            log.iter().any(|l| l == w),
            "missing {w}\n{}",
            log.join("\n")
        );
    }
}

fn quorum_cf(dir: &Path, web1: u16, web2: u16, quorum: Option<u32>) -> String {
    let q = match quorum {
        Some(q) => format!(
            "    quorum = {q}\n    quorum_up = \"echo up $LVS_WEIGHT >>{d}/q.log\"\n    quorum_down = \"echo down $LVS_WEIGHT >>{d}/q.log\"\n",
            d = dir.display()
        ),
        None => String::new(),
    };
    format!(
        "primary = 192.0.2.10\nnetwork = nat\nipvsadm = {ipvsadm}\n\
virtual www {{\n    active = 1\n    address = 192.0.2.100 eth0:1\n    port = 80\n    sorry_server = 10.0.0.99\n    client_monitor = {nanny}\n    expect = \"HTTP\"\n    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n    timeout = 1\n    reentry = 1\n{q}    server web1 {{\n        address = 127.0.0.1\n        port = {web1}\n        active = 1\n    }}\n    server web2 {{\n        address = 127.0.0.1\n        port = {web2}\n        active = 1\n    }}\n}}\n",
        ipvsadm = dir.join("ipvsadm").display(),
        nanny = nanny_bin().display(),
    )
}

/// The quorum extension on this host (the kernel-lab test has the real
/// table): lvs, not the nannies, changes a quorum service's real servers;
/// a loss swaps them for the sorry server; a reload re-evaluates with the
/// new quorum; dropping `quorum` hands the entries back to the nannies.
#[test]
fn quorum_lvs_owns_the_entries_and_reloads_reevaluate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    stand_in(dir);
    let (w1, w2) = (web(), web());
    let cfg = config(dir, &quorum_cf(dir, w1.port, w2.port, Some(2)));
    let lvs = Lvs::start(dir, &cfg, &[]);
    let r = |p: u16| format!("-t 192.0.2.100:80 -r 127.0.0.1:{p}");
    let sorry_add = "R: -a -t 192.0.2.100:80 -r 10.0.0.99:80 -m -w 1";
    let sorry_del = "R: -d -t 192.0.2.100:80 -r 10.0.0.99:80";

    // Both servers pass their first check: the quorum is gained without
    // the sorry server ever coming in (lvs waits for the first checks).
    lvs.wait_for("quorum gained", 20, |l| {
        l.has_log("Virtual Server www: gained quorum: live weight 2 >= 2+0")
    });
    lvs.wait_for("both servers added by lvs", 10, |l| {
        l.has_cmd(&format!("R: -a {} -m -w 1", r(w1.port)))
            && l.has_cmd(&format!("R: -a {} -m -w 1", r(w2.port)))
    });
    std::thread::sleep(Duration::from_millis(2500));
    let cmds = lvs.ipvsadm();
    assert!(!cmds.iter().any(|c| c == sorry_add), "{cmds:?}");
    assert!(!lvs.has_log("starting with quorum down"), "{:?}", lvs.log());
    assert!(
        !cmds
            .iter()
            .any(|c| !c.starts_with("R: ") && c.contains("127.0.0.1")),
        "nannies ran ipvsadm themselves: {cmds:?}"
    );
    assert!(lvs
        .log()
        .iter()
        .any(|l| l.contains("--lvs-table") || l.contains("[lvs-table]")));

    // web2 down: W = 1 < 2: both out, sorry in, in that order.
    w2.up.store(false, Ordering::SeqCst);
    lvs.wait_for("quorum lost", 15, |l| {
        l.has_log(
            "Virtual Server www: lost quorum: live weight 1 < 2-0; activate sorry_server 10.0.0.99",
        )
    });
    lvs.wait_for("sorry in", 5, |l| {
        l.ipvsadm().iter().filter(|c| *c == sorry_add).count() == 1
    });
    let cmds = lvs.ipvsadm();
    let last_add = cmds.iter().rposition(|c| c == sorry_add).unwrap();
    let del1 = cmds
        .iter()
        .rposition(|c| *c == format!("R: -d {}", r(w1.port)))
        .unwrap();
    assert!(del1 < last_add, "{cmds:?}");

    // Reload with quorum 1: re-evaluated at once, gained with W = 1.
    std::fs::write(&cfg, quorum_cf(dir, w1.port, w2.port, Some(1))).unwrap();
    lvs.signal(libc::SIGHUP);
    lvs.wait_for("gained on reload", 10, |l| {
        l.has_log("Virtual Server www: gained quorum: live weight 1 >= 1+0; deactivate sorry_server 10.0.0.99")
    });
    lvs.wait_for("sorry out", 5, |l| l.has_cmd(sorry_del));
    lvs.wait_for("web1 back in", 5, |l| {
        l.ipvsadm()
            .iter()
            .filter(|c| **c == format!("R: -a {} -m -w 1", r(w1.port)))
            .count()
            == 2
    });
    assert!(
        lvs.count_log("create_monitor for") == 2,
        "no nanny restarted by a quorum change"
    );

    // The scripts ran once per transition, in order, with LVS_WEIGHT.
    lvs.wait_for("scripts", 10, |_| {
        std::fs::read_to_string(dir.join("q.log")).unwrap_or_default() == "up 2\ndown 1\nup 1\n"
    });

    // Reload without quorum: the nannies restart in Piranha's mode; lvs
    // removes the entry it held and web1's new nanny adds it itself.
    std::fs::write(&cfg, quorum_cf(dir, w1.port, w2.port, None)).unwrap();
    lvs.signal(libc::SIGHUP);
    lvs.wait_for("nanny adds its own server", 15, |l| {
        l.has_cmd(&format!("-a {} -m -w 1", r(w1.port)))
    });
    assert!(lvs.has_cmd(&format!("R: -d {}", r(w1.port))));

    lvs.signal(libc::SIGTERM);
    let mut lvs = lvs;
    let st = lvs.child.wait().unwrap();
    assert_eq!(st.code(), Some(0), "{}", lvs.log().join("\n"));
}

/// A service whose only server is down when lvs starts gets its sorry
/// server once the first check has had its time (timeout 2 s + 1 s), not
/// before; a quorum service starts with the quorum down then.
#[test]
fn sorry_server_comes_in_after_the_first_checks_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    stand_in(dir);
    let w = web();
    w.up.store(false, Ordering::SeqCst);
    let body = format!(
        "primary = 192.0.2.10\nnetwork = nat\nipvsadm = {ipvsadm}\n\
virtual shop {{\n    active = 1\n    address = 192.0.2.101 eth0:2\n    port = 80\n    sorry_server = 10.0.0.99\n    client_monitor = {nanny}\n    expect = \"HTTP\"\n    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n    timeout = 2\n    reentry = 2\n    server shop1 {{\n        address = 127.0.0.1\n        port = {port}\n        active = 1\n    }}\n}}\n\
virtual q {{\n    active = 1\n    address = 192.0.2.102 eth0:3\n    port = 80\n    sorry_server = 10.0.0.98\n    quorum = 1\n    client_monitor = {nanny}\n    expect = \"HTTP\"\n    send = \"GET / HTTP/1.0\\r\\n\\r\\n\"\n    timeout = 2\n    reentry = 2\n    server q1 {{\n        address = 127.0.0.1\n        port = {port}\n        active = 1\n    }}\n}}\n",
        ipvsadm = dir.join("ipvsadm").display(),
        nanny = nanny_bin().display(),
        port = w.port,
    );
    let cfg = config(dir, &body);
    let t0 = Instant::now();
    let lvs = Lvs::start(dir, &cfg, &[]);
    // lvs logs the decision before it runs ipvsadm: wait for both.
    lvs.wait_for("sorry server in", 20, |l| {
        l.has_log("Virtual Server shop: No real servers; activate sorry_server 10.0.0.99")
            && l.has_log("Virtual Server q: starting with quorum down: live weight 0 < 1+0; activate sorry_server 10.0.0.98")
            && l.has_cmd("-a -t 192.0.2.101:80 -r 10.0.0.99:80 -m -w 1")
            && l.has_cmd("R: -a -t 192.0.2.102:80 -r 10.0.0.98:80 -m -w 1")
    });
    assert!(
        t0.elapsed() >= Duration::from_secs(3),
        "the sorry server came in before the first check could end: {:?}",
        t0.elapsed()
    );
    // The server comes up: the sorry servers go.
    w.up.store(true, Ordering::SeqCst);
    lvs.wait_for("sorry server out", 20, |l| {
        l.has_cmd("-d -t 192.0.2.101:80 -r 10.0.0.99:80")
            && l.has_cmd("R: -d -t 192.0.2.102:80 -r 10.0.0.98:80")
    });
    lvs.signal(libc::SIGTERM);
    let mut lvs = lvs;
    assert_eq!(lvs.child.wait().unwrap().code(), Some(0));
}

/// Extension (issue 9): lvs.cf's health-check keys reach the nannies (through
/// the fork server) as long options after Piranha's argv, and the http check
/// they select drives the table.
#[test]
fn health_check_keys_reach_nanny_through_the_fork_server() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    stand_in(dir);
    let w = web();
    let body = format!(
        "primary = 192.0.2.10\nnetwork = nat\nipvsadm = {ipvsadm}\n\
virtual www {{\n    active = 1\n    address = 192.0.2.100 eth0:1\n    port = 80\n    client_monitor = {nanny}\n    timeout = 1\n    check = http\n    check_path = /health\n    rise = 1\n    server web1 {{\n        address = 127.0.0.1\n        port = {port}\n        active = 1\n        check_status = 200\n    }}\n}}\n",
        ipvsadm = dir.join("ipvsadm").display(),
        nanny = nanny_bin().display(),
        port = w.port,
    );
    let cfg = config(dir, &body);
    let t = Lvs::start(dir, &cfg, &["-t"]);
    t.wait_for("test-start line", 10, |l| {
        l.has_log("create_monitor for www/web1")
    });
    let line = t
        .log()
        .into_iter()
        .find(|l| l.contains("create_monitor for www/web1"))
        .unwrap();
    assert!(
        line.ends_with(
            " --nodaemon --lvs --check http --http-path /health --http-status 200 --rise 1"
        ),
        "{line}"
    );
    drop(t);
    let lvs = Lvs::start(dir, &cfg, &[]);
    let add = format!("-a -t 192.0.2.100:80 -r 127.0.0.1:{} -m -w 1", w.port);
    let del = format!("-d -t 192.0.2.100:80 -r 127.0.0.1:{}", w.port);
    lvs.wait_for("the http check adds web1", 10, |l| l.has_cmd(&add));
    w.up.store(false, Ordering::SeqCst);
    lvs.wait_for("the http check removes web1", 10, |l| l.has_cmd(&del));
    w.up.store(true, Ordering::SeqCst);
    lvs.wait_for("web1 back after rise 1", 10, |l| {
        l.ipvsadm().iter().filter(|c| **c == add).count() == 2
    });
}

/// pulse's readiness pipe: the read end (non-blocking) and the write end
/// (close-on-exec; `Lvs::start_with` hands it to lvs only), both raw.
fn ready_pipe() -> (std::fs::File, i32) {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) into a two-element array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: the read end is ours from here on; O_NONBLOCK on it.
    let r = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
    unsafe {
        libc::fcntl(fds[0], libc::F_SETFL, libc::O_NONBLOCK);
        libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC);
    }
    (r, fds[1])
}

fn read_ready(r: &mut std::fs::File) -> Option<usize> {
    let mut b = [0u8; 8];
    std::io::Read::read(r, &mut b).ok()
}

/// lvs tells pulse (one byte on PIRANHA_READY_FD) when its table can serve:
/// as soon as the kernel's table (here the stand-in's `-S` output) has a
/// real server with a weight in every service, only after the first checks'
/// time (timeout 1 s + 1 s) when it has not, whatever the nannies said.
#[test]
fn lvs_reports_its_table_ready_to_pulse() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    stand_in(dir);
    let (w1, w2) = (web(), web());
    let cfg = config(dir, &base(dir, w1.port, w2.port, 1));
    // The table has a real server in each service: ready at once.
    std::fs::write(
        dir.join("table"),
        format!(
            "-A -t 192.0.2.100:80 -s wlc\n-a -t 192.0.2.100:80 -r 127.0.0.1:{p} -m -w 1\n-A -f 7 -s rr\n-a -f 7 -r 127.0.0.1:{p} -m -w 1\n",
            p = w1.port
        ),
    )
    .unwrap();
    let (mut r, w) = ready_pipe();
    let t0 = Instant::now();
    let lvs = Lvs::start_with(dir, &cfg, &[], Some(w));
    // SAFETY: our copy of the write end; lvs has its own.
    unsafe { libc::close(w) };
    lvs.wait_for("the readiness byte", 10, |_| {
        matches!(read_ready(&mut r), Some(1))
    });
    assert!(
        lvs.has_log("table ready: 2 virtual services"),
        "{:?}",
        lvs.log()
    );
    assert!(
        t0.elapsed() < Duration::from_millis(1800),
        "before the first checks' time: {:?}",
        t0.elapsed()
    );
    assert_eq!(read_ready(&mut r), Some(0), "written once, then closed");
    drop(lvs);
    // The servers answer (the nannies say so) but the table shows no real
    // server: the byte waits for the first checks' time.
    std::fs::remove_file(dir.join("table")).unwrap();
    let (mut r, w) = ready_pipe();
    let t0 = Instant::now();
    let lvs = Lvs::start_with(dir, &cfg, &[], Some(w));
    unsafe { libc::close(w) };
    lvs.wait_for("nannies started", 10, |l| {
        l.count_log("running as pid") == 3
    });
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(
        read_ready(&mut r),
        None,
        "not ready within the first checks' time"
    );
    lvs.wait_for(
        "the readiness byte after the first checks' time",
        10,
        |_| matches!(read_ready(&mut r), Some(1)),
    );
    assert!(t0.elapsed() >= Duration::from_secs(2), "{:?}", t0.elapsed());
}

/// `--standby`, SIGUSR1 and SIGUSR2: the role is logged; the table is the
/// same.
#[test]
fn lvs_standby_role_follows_pulses_signals() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    stand_in(dir);
    let (w1, w2) = (web(), web());
    let cfg = config(dir, &base(dir, w1.port, w2.port, 1));
    let lvs = Lvs::start(dir, &cfg, &["--standby"]);
    lvs.wait_for("the standby line", 10, |l| {
        l.has_log("standby: the table is programmed without the virtual addresses")
    });
    lvs.wait_for("real servers added on the standby", 10, |l| {
        l.has_cmd(&format!(
            "-a -t 192.0.2.100:80 -r 127.0.0.1:{} -m -w 1",
            w1.port
        ))
    });
    lvs.signal(libc::SIGUSR1);
    lvs.wait_for("active", 5, |l| {
        l.has_log("active: this director took over")
    });
    lvs.signal(libc::SIGUSR2);
    lvs.wait_for("standby again", 5, |l| {
        l.has_log("standby: the partner director is active")
    });
    assert!(lvs.child_alive(), "USR1/USR2 do not end lvs");
}
