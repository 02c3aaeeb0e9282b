//! nanny benchmark: detection latency, memory, CPU.  Prints a table.
//!
//!     cargo build --release -p nanny
//!     cargo run --release -p nanny --example nanny_bench [-- --quick]
//!
//! Uses the binary in `NANNY_BIN` (default `target/release/nanny`), loopback
//! servers in this process, and a recording ipvsadm stand-in script that
//! appends `TIME ARGS` per call.
//!
//! * Detection latency: 20 independent nannies per interval (1 s and 6 s),
//!   each with its own server, run side by side; each server is closed at a
//!   random moment in its nanny's check cycle; latency = time of the
//!   `ipvsadm -d` run minus the time the server was closed.
//! * Memory: Rss and Private (Private_Clean + Private_Dirty) from
//!   /proc/PID/smaps_rollup of one idle nanny checking every second.
//! * CPU: 500 nannies checking one loopback TCP server every second; user +
//!   system time from /proc/PID/stat over a measurement window.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn nanny_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NANNY_BIN") {
        return PathBuf::from(p);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join("target/release/nanny")
}

struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Accepts and closes every connection at once.
    fn start() -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        l.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let handle = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((c, _)) => drop(c),
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        Server {
            port,
            stop,
            handle: Some(handle),
        }
    }
    fn close(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            h.join().unwrap();
        }
    }
}

fn recorder(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    let log = dir.join(format!("{name}.log"));
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\necho \"$(date +%s.%N) $*\" >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn calls(dir: &Path, name: &str) -> Vec<(f64, String)> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(t, a)| (t.parse().unwrap(), a.to_string()))
        .collect()
}

fn spawn_nanny(port: u16, interval: u64, ipvsadm: &Path) -> Child {
    Command::new(nanny_bin())
        .args([
            "-n",
            "-c",
            "--lvs",
            "-h",
            "127.0.0.1",
            "-V",
            "10.9.9.9",
            "-p",
            "7000",
        ])
        .args(["-r", &port.to_string(), "-t", &interval.to_string()])
        .arg("-I")
        .arg(ipvsadm)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nanny (build it with cargo build --release -p nanny)")
}

fn stop(children: &mut [Child]) {
    for c in children.iter() {
        // SAFETY: SIGTERM to our own children, not yet reaped.
        unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    }
    for c in children.iter_mut() {
        let end = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(_)) = c.try_wait() {
                break;
            }
            if Instant::now() > end {
                let _ = c.kill();
                let _ = c.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A small xorshift, seeded from the clock: kill moments spread over the cycle.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 1_000_000) as f64 / 1_000_000.0
    }
}

fn latency(interval: u64, trials: usize, dir: &Path, rng: &mut Rng) -> Vec<f64> {
    let mut servers = Vec::new();
    let mut nannies = Vec::new();
    for i in 0..trials {
        let s = Server::start();
        let rec = recorder(dir, &format!("lat{interval}-{i}"));
        nannies.push(spawn_nanny(s.port, interval, &rec));
        servers.push(s);
    }
    // Wait until every nanny has added its server; remember when.
    let end = Instant::now() + Duration::from_secs(10);
    let mut added = vec![0.0; trials];
    while Instant::now() < end && added.contains(&0.0) {
        for (i, a) in added.iter_mut().enumerate() {
            if *a == 0.0 {
                if let Some((t, _)) = calls(dir, &format!("lat{interval}-{i}")).first() {
                    *a = *t;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Close each server at a random point of a cycle.
    let mut order: Vec<(f64, usize)> = (0..trials)
        .map(|i| (wall() + 0.2 + rng.next() * interval as f64, i))
        .collect();
    order.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let mut killed = vec![0.0; trials];
    for (at, i) in order {
        let now = wall();
        if at > now {
            std::thread::sleep(Duration::from_secs_f64(at - now));
        }
        servers[i].close();
        killed[i] = wall();
    }
    let end = Instant::now() + Duration::from_secs(2 * interval + 5);
    let mut lat = vec![f64::NAN; trials];
    while Instant::now() < end && lat.iter().any(|l| l.is_nan()) {
        for (i, l) in lat.iter_mut().enumerate() {
            if l.is_nan() {
                let c = calls(dir, &format!("lat{interval}-{i}"));
                if let Some((t, _)) = c.iter().find(|(_, a)| a.starts_with("-d ")) {
                    *l = t - killed[i];
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop(&mut nannies);
    lat
}

/// (Rss, Private_Clean + Private_Dirty, Anonymous) in kB.
fn smaps(pid: u32) -> (u64, u64, u64) {
    let mut text = String::new();
    std::fs::File::open(format!("/proc/{pid}/smaps_rollup"))
        .and_then(|mut f| f.read_to_string(&mut text))
        .expect("smaps_rollup");
    let get = |k: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        get("Rss:"),
        get("Private_Clean:") + get("Private_Dirty:"),
        get("Anonymous:"),
    )
}

/// CPU time in nanoseconds: /proc/PID/schedstat (exact), else utime +
/// stime from /proc/PID/stat (clock ticks).
fn cpu_ns(pid: u32) -> u64 {
    if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/schedstat")) {
        if let Some(ns) = s.split_whitespace().next().and_then(|v| v.parse().ok()) {
            return ns;
        }
    }
    // SAFETY: sysconf is always safe to call.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    cpu_ticks(pid) * 1_000_000_000 / hz.max(1)
}

fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    // fields after ')' start at state (3); utime is 14, stime 15.
    let ut: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
    let st: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    ut + st
}

fn stats(v: &[f64]) -> (f64, f64, f64, f64, usize) {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| !x.is_nan()).collect();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if s.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN, 0);
    }
    let q = |p: f64| s[((s.len() - 1) as f64 * p).round() as usize];
    (s[0], q(0.5), q(0.95), s[s.len() - 1], s.len())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let bin = nanny_bin();
    assert!(
        bin.exists(),
        "{} missing: cargo build --release -p nanny",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(wall().to_bits() | 1);
    let trials = if quick { 5 } else { 20 };
    let many = if quick { 50 } else { 500 };

    println!(
        "nanny benchmark ({}), binary {}",
        if quick { "quick" } else { "full" },
        bin.display()
    );
    println!();
    println!("| measure | interval | n | min | median | p95 | max | limit (interval + I/O timeout) | anchors from issue 4 (kernel lab) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut summaries = Vec::new();
    for interval in [1u64, 6] {
        let lat = latency(interval, trials, dir.path(), &mut rng);
        let (mn, med, p95, mx, n) = stats(&lat);
        let anchor = if interval == 1 {
            "Piranha nanny 0.58–0.70 s; keepalived 2.2.7 1.56–1.73 s"
        } else {
            "—"
        };
        println!(
            "| detection latency (kill → ipvsadm -d) | {interval} s | {n}/{trials} | {mn:.3} s | {med:.3} s | {p95:.3} s | {mx:.3} s | {} s | {anchor} |",
            2 * interval
        );
        summaries.push(format!(
            "SUMMARY|nanny|failure detection on loopback, {interval} s checks (median; stand-in ipvsadm)|{med:.3} s|{}|{}|-",
            if interval == 1 { "Piranha nanny (issue 4 anchor, kernel lab)" } else { "-" },
            if interval == 1 { "0.58–0.70 s" } else { "-" }
        ));
    }

    // Memory of one idle nanny.
    let mut s = Server::start();
    let rec = recorder(dir.path(), "mem");
    let mut one = vec![spawn_nanny(s.port, 1, &rec)];
    std::thread::sleep(Duration::from_secs(3));
    let (rss, private, anon) = smaps(one[0].id());
    stop(&mut one);
    s.close();
    println!();
    println!("| measure | value | goal / anchor |");
    println!("|---|---|---|");
    println!(
        "| one idle nanny, Rss | {:.2} MB | Piranha nanny 2.2 MB |",
        rss as f64 / 1024.0
    );
    println!(
        "| one idle nanny, Private (clean + dirty; includes the binary's pages when no other nanny shares them) | {:.2} MB | — |",
        private as f64 / 1024.0
    );
    println!(
        "| one idle nanny, Anonymous | {:.2} MB | < 1 MB; Piranha nanny ≈ 0.2 MB anonymous |",
        anon as f64 / 1024.0
    );
    summaries.push(format!(
        "SUMMARY|nanny|one idle nanny (exec'd), Rss|{:.2} MB|Piranha nanny 0.8.6|2.2 MB|{:.2}",
        rss as f64 / 1024.0,
        rss as f64 / 1024.0 / 2.2
    ));

    // CPU of many nannies checking every second.
    let mut s = Server::start();
    let tru = PathBuf::from("/bin/true");
    let mut kids: Vec<Child> = (0..many).map(|_| spawn_nanny(s.port, 1, &tru)).collect();
    std::thread::sleep(Duration::from_secs(4));
    let window = Duration::from_secs(if quick { 5 } else { 10 });
    let t0: u64 = kids.iter().map(|c| cpu_ns(c.id())).sum();
    let w0 = Instant::now();
    std::thread::sleep(window);
    let t1: u64 = kids.iter().map(|c| cpu_ns(c.id())).sum();
    let secs = w0.elapsed().as_secs_f64();
    let mem: Vec<(u64, u64, u64)> = kids.iter().map(|c| smaps(c.id())).collect();
    let priv_total: u64 = mem.iter().map(|m| m.1).sum();
    let anon_total: u64 = mem.iter().map(|m| m.2).sum();
    let mut alive = 0;
    for c in kids.iter_mut() {
        if matches!(c.try_wait(), Ok(None)) {
            alive += 1;
        }
    }
    stop(&mut kids);
    s.close();
    let cpu = (t1 - t0) as f64 / 1e9 / secs;
    println!(
        "| {many} nannies, 1 check/s each: CPU (user + sys) | {:.1} % of one core ({:.0} µs per check) | — |",
        cpu * 100.0,
        cpu * 1e6 / many as f64
    );
    println!(
        "| {many} nannies: Private memory in all | {:.1} MB ({:.2} MB each; {alive} alive at the end) | 1,000 nannies < 1 GB |",
        priv_total as f64 / 1024.0,
        priv_total as f64 / 1024.0 / many as f64
    );
    println!(
        "| {many} nannies: Anonymous memory in all | {:.1} MB ({:.2} MB each) | — |",
        anon_total as f64 / 1024.0,
        anon_total as f64 / 1024.0 / many as f64
    );
    summaries.push(format!(
        "SUMMARY|nanny|{many} nannies checking every second: CPU|{:.1} % of a core|-|-|-",
        cpu * 100.0
    ));
    println!();
    for l in summaries {
        println!("{l}");
    }
}
