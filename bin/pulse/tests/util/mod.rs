//! Harness for pulse's network-namespace tests: namespaces removed on drop,
//! a two-director lab on a bridge (IPv4, or IPv6 only), pulse processes
//! with their log lines, and a capture of ARP or IPv6 frames in the
//! client's namespace.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Skip (return true) with a reason when not root or without `ip netns`.
pub fn skip() -> bool {
    if !is_root() {
        eprintln!("skipped: needs root to create network namespaces");
        return true;
    }
    if Command::new("ip").arg("-V").output().is_err() {
        eprintln!("skipped: iproute2 `ip` not installed");
        return true;
    }
    false
}

pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn ip_out(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique short prefix for names of one test.
pub fn unique() -> String {
    format!(
        "pt{}x{}",
        std::process::id() % 100_000,
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(name: String) -> Netns {
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        ip(&["netns", "add", &name]);
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        Netns { name }
    }

    /// Run `f` on a thread that has entered this namespace.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            enter(&path);
            f()
        })
        .join()
        .expect("netns thread")
    }
}

/// Enter a network namespace on the calling thread.
pub fn enter(path: &str) {
    let f = std::fs::File::open(path).expect("open netns");
    // SAFETY: setns on an open namespace fd; affects only this thread.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {path}");
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Two directors (d1 = primary 10.77.0.1, d2 = backup 10.77.0.2) and a
/// client (10.77.0.10) on a bridge in a switch namespace; with `private`,
/// a second bridge carries 10.78.0.1/2 on eth1.  [`Lab::new6`] builds the
/// same with IPv6 addresses only.
pub struct Lab {
    pub sw: Netns,
    pub d1: Netns,
    pub d2: Netns,
    pub cl: Netns,
    pub dir: tempfile::TempDir,
    pub id: String,
    /// IPv6 only ([`Lab::new6`]).
    pub v6: bool,
}

pub const VIP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);

/// The VIP of [`Lab::new6`].
pub const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0x77, 0, 0, 0, 0, 0x100);

/// `sysctl -w` each of `settings` in `ns`.
pub fn sysctl(ns: &Netns, settings: &[&str]) {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "sysctl", "-q", "-w"])
        .args(settings)
        .output()
        .expect("run sysctl");
    assert!(
        out.status.success(),
        "sysctl {settings:?} in {}: {}",
        ns.name,
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Lab {
    pub fn new(private: bool) -> Lab {
        Lab::build(private, false)
    }

    /// The lab with IPv6 addresses only (no IPv4 but lo's): directors
    /// 2001:db8:77::1 and ::2, client ::10, /64; with `private`,
    /// fd00:78::1/2 on eth1.  Every address is added with `nodad` and
    /// router advertisements are ignored; the directors keep duplicate
    /// address detection on (the kernel's default), so that an address
    /// pulse adds without `nodad` would show up tentative.  The switch has
    /// IPv6 off (its bridge ports send nothing of their own).
    pub fn new6(private: bool) -> Lab {
        Lab::build(private, true)
    }

    fn build(private: bool, v6: bool) -> Lab {
        let id = unique();
        let sw = Netns::new(format!("{id}-sw"));
        let d1 = Netns::new(format!("{id}-d1"));
        let d2 = Netns::new(format!("{id}-d2"));
        let cl = Netns::new(format!("{id}-cl"));
        if v6 {
            sysctl(
                &sw,
                &[
                    "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1",
                ],
            );
            for ns in [&d1, &d2, &cl] {
                sysctl(
                    ns,
                    &[
                        "net.ipv6.conf.all.accept_ra=0",
                        "net.ipv6.conf.default.accept_ra=0",
                    ],
                );
            }
            sysctl(
                &cl,
                &[
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                ],
            );
        }
        ip(&["-n", &sw.name, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &sw.name, "link", "set", "br0", "up"]);
        let plug = |ns: &Netns, dev: &str, port: &str, br: &str, addr: &str| {
            ip(&[
                "link", "add", dev, "netns", &ns.name, "type", "veth", "peer", "name", port,
                "netns", &sw.name,
            ]);
            ip(&["-n", &sw.name, "link", "set", port, "master", br]);
            ip(&["-n", &sw.name, "link", "set", port, "up"]);
            if v6 {
                ip(&[
                    "-n", &ns.name, "-6", "addr", "add", addr, "dev", dev, "nodad",
                ]);
            } else {
                ip(&["-n", &ns.name, "addr", "add", addr, "dev", dev]);
            }
            ip(&["-n", &ns.name, "link", "set", dev, "up"]);
        };
        let [a1, a2, ac, p1, p2] = if v6 {
            [
                "2001:db8:77::1/64",
                "2001:db8:77::2/64",
                "2001:db8:77::10/64",
                "fd00:78::1/64",
                "fd00:78::2/64",
            ]
        } else {
            [
                "10.77.0.1/24",
                "10.77.0.2/24",
                "10.77.0.10/24",
                "10.78.0.1/24",
                "10.78.0.2/24",
            ]
        };
        plug(&d1, "eth0", "p1", "br0", a1);
        plug(&d2, "eth0", "p2", "br0", a2);
        plug(&cl, "eth0", "pc", "br0", ac);
        if private {
            ip(&["-n", &sw.name, "link", "add", "br1", "type", "bridge"]);
            ip(&["-n", &sw.name, "link", "set", "br1", "up"]);
            plug(&d1, "eth1", "q1", "br1", p1);
            plug(&d2, "eth1", "q2", "br1", p2);
        }
        // Carrier changes reach the qdisc through linkwatch (up to a second
        // later); frames sent before that are dropped.  Wait for every link
        // to be operationally up.
        let mut links = vec![
            (&d1.name, "eth0"),
            (&d2.name, "eth0"),
            (&cl.name, "eth0"),
            (&sw.name, "p1"),
            (&sw.name, "p2"),
            (&sw.name, "pc"),
        ];
        if private {
            links.extend([
                (&d1.name, "eth1"),
                (&d2.name, "eth1"),
                (&sw.name, "q1"),
                (&sw.name, "q2"),
            ]);
        }
        for (ns, dev) in links {
            assert!(
                wait_for(Duration::from_secs(5), || ip_out(&[
                    "-n", ns, "link", "show", dev
                ])
                .contains("state UP"))
                .is_some(),
                "{dev} in {ns} never came up"
            );
        }
        Lab {
            sw,
            d1,
            d2,
            cl,
            dir: tempfile::tempdir().unwrap(),
            id,
            v6,
        }
    }

    /// Write lvs.cf with `extra` global lines; returns its path.  The
    /// IPv6 lab's: the same service on 2001:db8:77::100 /64.
    pub fn config(&self, name: &str, extra: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        if self.v6 {
            std::fs::write(
                &p,
                format!(
                    "serial_no = 1\nprimary = 2001:db8:77::1\nbackup = 2001:db8:77::2\nbackup_active = 1\nheartbeat = 1\nheartbeat_port = 539\nnetwork = direct\n{extra}\n\
virtual web {{\n active = 1\n address = {VIP6} eth0:1\n vip_nmask = /64\n port = 80\n scheduler = wlc\n protocol = tcp\n server r1 {{\n  address = 2001:db8:77::50\n  active = 1\n }}\n}}\n"
                ),
            )
            .unwrap();
            return p;
        }
        std::fs::write(
            &p,
            format!(
                "serial_no = 1\nprimary = 10.77.0.1\nbackup = 10.77.0.2\nbackup_active = 1\nheartbeat = 1\nheartbeat_port = 539\nnetwork = direct\n{extra}\n\
virtual web {{\n active = 1\n address = 10.77.0.100 eth0:1\n vip_nmask = 255.255.255.0\n port = 80\n scheduler = wlc\n protocol = tcp\n server r1 {{\n  address = 10.77.0.50\n  active = 1\n }}\n}}\n"
            ),
        )
        .unwrap();
        p
    }

    /// The stand-in lvs: records its argv and pid, exits on SIGTERM.
    pub fn stub_lvs(&self, tag: &str) -> PathBuf {
        let p = self.dir.path().join(format!("lvs-{tag}"));
        let rec = self.dir.path().join(format!("lvs-{tag}.argv"));
        std::fs::write(
            &p,
            format!(
                "#!/bin/sh\necho \"$0 $*\" > {rec}.$$\necho $$ >> {rec}.$$\nmv {rec}.$$ {rec}\nexec sleep 1000\n",
                rec = rec.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    pub fn lvs_record(&self, tag: &str) -> Option<(String, i32)> {
        let s = std::fs::read_to_string(self.dir.path().join(format!("lvs-{tag}.argv"))).ok()?;
        let mut l = s.lines();
        Some((l.next()?.to_string(), l.next()?.trim().parse().ok()?))
    }

    /// Does `ns` hold the VIP?
    pub fn has_vip(&self, ns: &Netns) -> bool {
        self.vip_line(ns).is_some()
    }

    /// The `inet VIP/...` (`inet6`) line of `ip addr show` in `ns`.
    pub fn vip_line(&self, ns: &Netns) -> Option<String> {
        let (family, word) = if self.v6 {
            ("-6", format!("inet6 {VIP6}/"))
        } else {
            ("-4", format!("inet {VIP}/"))
        };
        ip_out(&["-n", &ns.name, family, "addr", "show"])
            .lines()
            .find(|l| l.trim_start().starts_with(&word))
            .map(str::to_string)
    }

    pub fn mac(&self, ns: &Netns, dev: &str) -> [u8; 6] {
        let out = ip_out(&["-n", &ns.name, "link", "show", dev]);
        let m = out
            .split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .expect("mac");
        let mut r = [0u8; 6];
        for (i, p) in m.split(':').enumerate() {
            r[i] = u8::from_str_radix(p, 16).unwrap();
        }
        r
    }

    /// Cut (or restore) a director's link at the switch.
    pub fn link(&self, port: &str, up: bool) {
        ip(&[
            "-n",
            &self.sw.name,
            "link",
            "set",
            port,
            if up { "up" } else { "down" },
        ]);
    }
}

/// Wait until `f` is true or `timeout` passes; returns when it became true.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> Option<Instant> {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return Some(Instant::now());
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn target_bin(name: &str) -> PathBuf {
    let pulse = PathBuf::from(env!("CARGO_BIN_EXE_pulse"));
    pulse.parent().unwrap().join(name)
}

/// A pulse process in a namespace, its stdout lines timestamped.
pub struct Pulse {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<(Instant, String)>>>,
    pub pidfile: PathBuf,
}

impl Pulse {
    pub fn start(ns: &Netns, cfg: &Path, lvsd: &Path, extra: &[&str]) -> Pulse {
        let pidfile = cfg.with_extension(format!("{}.pid", ns.name));
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns.name])
            .arg(env!("CARGO_BIN_EXE_pulse"))
            .arg("-n")
            .arg("-c")
            .arg(cfg)
            .arg("--lvsd")
            .arg(lvsd)
            .arg("--pidfile")
            .arg(&pidfile)
            .arg("--send-arp")
            .arg(target_bin("send_arp"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = c.spawn().expect("start pulse");
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                eprintln!("[{}] {line}", child_tag());
                l2.lock().unwrap().push((Instant::now(), line));
            }
        });
        Pulse {
            child,
            lines,
            pidfile,
        }
    }

    /// When a line containing `pat` appeared, waiting up to `timeout`.
    pub fn wait_line(&self, pat: &str, timeout: Duration) -> Option<Instant> {
        let mut found = None;
        wait_for(timeout, || {
            found = self.find(pat);
            found.is_some()
        });
        found
    }

    pub fn find(&self, pat: &str) -> Option<Instant> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .find(|(_, l)| l.contains(pat))
            .map(|(t, _)| *t)
    }

    pub fn count(&self, pat: &str) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, l)| l.contains(pat))
            .count()
    }

    pub fn text(&self) -> String {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|(_, l)| format!("{l}\n"))
            .collect()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Wait for exit (bounded); the exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let mut code = None;
        wait_for(timeout, || match self.child.try_wait() {
            Ok(Some(s)) => {
                code = Some(s.code().unwrap_or(-1));
                true
            }
            _ => false,
        });
        code
    }
}

fn child_tag() -> String {
    std::thread::current().name().unwrap_or("pulse").to_string()
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Frames with the time they were seen.
pub type Frames = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

/// ARP (or IPv6) frames seen in a namespace (AF_PACKET, ETH_P_ARP or
/// ETH_P_IPV6).
pub struct Capture {
    pub frames: Frames,
    stop: Arc<AtomicBool>,
}

impl Capture {
    /// ARP frames.
    pub fn start(ns: &Netns) -> Capture {
        Capture::start_type(ns, libc::ETH_P_ARP as u16)
    }

    /// IPv6 frames.
    pub fn start6(ns: &Netns) -> Capture {
        Capture::start_type(ns, libc::ETH_P_IPV6 as u16)
    }

    fn start_type(ns: &Netns, ethertype: u16) -> Capture {
        let path = format!("/var/run/netns/{}", ns.name);
        let frames: Frames = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (f2, s2) = (Arc::clone(&frames), Arc::clone(&stop));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            enter(&path);
            let proto = ethertype.to_be() as i32;
            // SAFETY: plain socket(2) call.
            let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, proto) };
            assert!(fd >= 0, "AF_PACKET socket");
            let tv = libc::timeval {
                tv_sec: 0,
                tv_usec: 100_000,
            };
            // SAFETY: setsockopt with a timeval of the right size.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_RCVTIMEO,
                    &tv as *const _ as *const libc::c_void,
                    std::mem::size_of::<libc::timeval>() as u32,
                )
            };
            ready_tx.send(()).unwrap();
            let mut buf = [0u8; 2048];
            while !s2.load(Ordering::SeqCst) {
                // SAFETY: recv into a buffer we own, with its length.
                let n =
                    unsafe { libc::recv(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
                if n > 0 {
                    f2.lock()
                        .unwrap()
                        .push((Instant::now(), buf[..n as usize].to_vec()));
                }
            }
            // SAFETY: closing the socket we opened.
            unsafe { libc::close(fd) };
        });
        ready_rx.recv().unwrap();
        Capture { frames, stop }
    }

    /// Gratuitous ARP replies announcing `ip` from `mac`: (time, frame).
    pub fn announcements(&self, ip: Ipv4Addr, mac: [u8; 6]) -> Vec<(Instant, Vec<u8>)> {
        self.frames
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, f)| {
                f.len() >= 42 && f[12..14] == [8, 6] && f[6..12] == mac && f[28..32] == ip.octets()
            })
            .cloned()
            .collect()
    }
}

impl Capture {
    /// Neighbour advertisements (ICMPv6 type 136) whose target is `ip`,
    /// sent from `mac`: (time, frame).
    pub fn advertisements(&self, ip: Ipv6Addr, mac: [u8; 6]) -> Vec<(Instant, Vec<u8>)> {
        self.frames
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, f)| {
                f.len() >= 78
                    && f[12..14] == [0x86, 0xdd]
                    && f[6..12] == mac
                    && f[20] == 58
                    && f[54] == 136
                    && f[62..78] == ip.octets()
            })
            .cloned()
            .collect()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
