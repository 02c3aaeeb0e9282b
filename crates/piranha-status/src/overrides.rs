//! The administrator's runtime overrides (drain, weight, disable), kept in
//! a small text file that lvs writes atomically (`/var/lib/piranha/overrides`)
//! so that a reload, a restart of lvs or pulse, and a takeover by this
//! director keep them.  Each nanny started by lvs reads it (path in
//! [`ENV`]) before it puts its server in the table, so that a drained or
//! disabled server stays as the administrator left it while its checks go
//! on.
//!
//! The file, one override per line:
//!
//! ```text
//! # piranha-rs overrides: written by lvs (lvs --drain, --undrain, ...)
//! version 1
//! server tcp:192.168.1.10:80 10.0.1.2:80 drain since=1796558300 deadline=1796559000
//! server tcp:192.168.1.10:80 10.0.1.3:80 weight=5 since=1796558300
//! server fwmark:5 10.0.1.4:80 disabled since=1796558300
//! server tcp:192.168.1.10:80 10.0.1.5:80 drained since=1796558300
//! service udp:192.168.1.10:53 disabled since=1796558300
//! server tcp:[2001:db8::100]:80 [2001:db8::2]:80 drain since=1796558300
//! server fwmark6:5 [2001:db8::4]:80 disabled since=1796558300
//! ```
//!
//! IPv4 words are as they always were; an IPv6 address is in brackets
//! before a port, and an IPv6 firewall-mark service is `fwmark6:N` (the
//! kernel keys a mark service by family and mark).
//!
//! A line that cannot be read is skipped (and named by [`Overrides::parse`]);
//! a broken file never stops lvs or a nanny.

use std::collections::BTreeMap;
use std::path::Path;

/// The environment variable naming the file (set by lvs for its nannies).
pub const ENV: &str = "PIRANHA_OVERRIDES";

/// The file's usual place.
pub const DEFAULT_PATH: &str = "/var/lib/piranha/overrides";

/// What the administrator did to a real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Weight 0, connections kept; with a deadline (seconds since the
    /// epoch), out of the table once its active connections are gone, or
    /// at the deadline.
    Drain {
        /// Out at this time even with connections left.
        deadline: Option<u64>,
    },
    /// A drain that finished: out of the table.
    Drained,
    /// This weight instead of lvs.cf's.
    Weight(u32),
    /// Out of the table.
    Disabled,
}

/// One override of a real server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Override {
    /// What.
    pub kind: Kind,
    /// Since when (seconds since the epoch).
    pub since: u64,
}

/// Where an overridden real server should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// In the table with this weight.
    Weight(u32),
    /// Out of the table.
    Absent,
}

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Real servers, by (service word, `RIP:PORT`).
    pub servers: BTreeMap<(String, String), Override>,
    /// Disabled services, by service word, with their time.
    pub services: BTreeMap<String, u64>,
}

/// The service word of the file: `tcp:VIP:PORT`, `udp:VIP:PORT` or
/// `fwmark:N`; for IPv6 (a `vip` with a colon, `::` for a mark without
/// one) `tcp:[VIP]:PORT` and `fwmark6:N`.
pub fn service_word(protocol: &str, vip: &str, port: u16, fwmark: u32) -> String {
    let v6 = vip.contains(':');
    match (fwmark, v6) {
        (0, false) => format!("{protocol}:{vip}:{port}"),
        (0, true) => format!("{protocol}:[{vip}]:{port}"),
        (m, false) => format!("fwmark:{m}"),
        (m, true) => format!("fwmark6:{m}"),
    }
}

impl Overrides {
    /// Read `text`; the second value names each line skipped.
    pub fn parse(text: &str) -> (Self, Vec<String>) {
        let mut o = Overrides::default();
        let mut bad = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let w: Vec<&str> = line.split_whitespace().collect();
            let num = |s: &str, key: &str| s.strip_prefix(key).and_then(|v| v.parse::<u64>().ok());
            let since = w.iter().find_map(|x| num(x, "since=")).unwrap_or_default();
            let ok = match w.as_slice() {
                ["version", "1"] => true,
                ["service", svc, "disabled", ..] => {
                    o.services.insert(svc.to_string(), since);
                    true
                }
                ["server", svc, rs, what, ..] => {
                    let kind = match *what {
                        "drain" => Some(Kind::Drain {
                            deadline: w.iter().find_map(|x| num(x, "deadline=")),
                        }),
                        "drained" => Some(Kind::Drained),
                        "disabled" => Some(Kind::Disabled),
                        _ => num(what, "weight=")
                            .and_then(|x| u32::try_from(x).ok())
                            .filter(|x| *x <= crate::protocol::MAX_WEIGHT)
                            .map(Kind::Weight),
                    };
                    match kind {
                        Some(kind) => {
                            o.servers.insert(
                                (svc.to_string(), rs.to_string()),
                                Override { kind, since },
                            );
                            true
                        }
                        None => false,
                    }
                }
                _ => false,
            };
            if !ok {
                bad.push(format!(
                    "line {}: {:?}",
                    n + 1,
                    line.chars().take(80).collect::<String>()
                ));
            }
        }
        (o, bad)
    }

    /// Read the file at `path`: absent is empty; unreadable lines are
    /// logged and skipped.
    pub fn load(path: &Path) -> Self {
        match std::fs::read(path) {
            Ok(bytes) => {
                let (o, bad) = Self::parse(&String::from_utf8_lossy(&bytes));
                for b in bad {
                    log::warn!("{}: {b} skipped", path.display());
                }
                o
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Overrides::default(),
            Err(e) => {
                log::warn!("cannot read {}: {e}; no overrides", path.display());
                Overrides::default()
            }
        }
    }

    /// The file's text.
    pub fn encode(&self) -> String {
        let mut s = String::from(
            "# piranha-rs overrides: written by lvs (lvs --drain, --undrain, --set-weight,\n\
             # --disable, --enable, --disable-service, --enable-service); see lvs(8)\nversion 1\n",
        );
        for ((svc, rs), o) in &self.servers {
            let what = match o.kind {
                Kind::Drain { deadline: None } => "drain".to_string(),
                Kind::Drain { deadline: Some(d) } => format!("drain deadline={d}"),
                Kind::Drained => "drained".into(),
                Kind::Weight(w) => format!("weight={w}"),
                Kind::Disabled => "disabled".into(),
            };
            s.push_str(&format!("server {svc} {rs} {what} since={}\n", o.since));
        }
        for (svc, since) in &self.services {
            s.push_str(&format!("service {svc} disabled since={since}\n"));
        }
        s
    }

    /// Some drain with a deadline is under way (lvs looks at it every
    /// second).
    pub fn timed_drain(&self) -> bool {
        self.servers
            .values()
            .any(|o| matches!(o.kind, Kind::Drain { deadline: Some(_) }))
    }

    /// Where real server `rs` (`RIP:PORT`) of service `svc` should be, with
    /// lvs.cf's weight `weight`, when it is up.
    pub fn effect(&self, svc: &str, rs: &str, weight: u32) -> Effect {
        if self.services.contains_key(svc) {
            return Effect::Absent;
        }
        match self.servers.get(&(svc.to_string(), rs.to_string())) {
            None => Effect::Weight(weight),
            Some(o) => match o.kind {
                Kind::Drain { .. } => Effect::Weight(0),
                Kind::Weight(w) => Effect::Weight(w),
                Kind::Drained | Kind::Disabled => Effect::Absent,
            },
        }
    }
}

/// A reader for a nanny: reads the file again only when it changed.
#[derive(Debug)]
pub struct Watched {
    path: std::path::PathBuf,
    stamp: Option<(std::time::SystemTime, u64, u64)>,
    now: Overrides,
}

impl Watched {
    /// From [`ENV`]; `None` when unset (a nanny run by hand).
    pub fn from_env() -> Option<Self> {
        let p = std::env::var_os(ENV).filter(|v| !v.is_empty())?;
        Some(Self::new(Path::new(&p)))
    }

    /// Watch `path`.
    pub fn new(path: &Path) -> Self {
        Watched {
            path: path.to_path_buf(),
            stamp: None,
            now: Overrides::default(),
        }
    }

    /// The overrides as the file says now.
    pub fn get(&mut self) -> &Overrides {
        use std::os::unix::fs::MetadataExt;
        let stamp = std::fs::metadata(&self.path).ok().map(|m| {
            (
                m.modified().unwrap_or(std::time::UNIX_EPOCH),
                m.ino(),
                m.len(),
            )
        });
        if stamp != self.stamp {
            self.now = match stamp {
                Some(_) => Overrides::load(&self.path),
                None => Overrides::default(),
            };
            self.stamp = stamp;
        }
        &self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_words_round_trip() {
        assert_eq!(service_word("tcp", "10.0.0.1", 80, 0), "tcp:10.0.0.1:80");
        assert_eq!(service_word("tcp", "", 0, 5), "fwmark:5");
        assert_eq!(
            service_word("udp", "2001:db8::100", 53, 0),
            "udp:[2001:db8::100]:53"
        );
        assert_eq!(service_word("tcp", "::", 0, 5), "fwmark6:5");
        let mut o = Overrides::default();
        let svc = service_word("tcp", "2001:db8::100", 80, 0);
        o.servers.insert(
            (svc.clone(), "[2001:db8::2]:80".into()),
            Override {
                kind: Kind::Drain { deadline: None },
                since: 5,
            },
        );
        o.services.insert("fwmark6:5".into(), 9);
        let (back, bad) = Overrides::parse(&o.encode());
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(back, o);
        assert_eq!(o.effect(&svc, "[2001:db8::2]:80", 3), Effect::Weight(0));
        assert_eq!(o.effect("fwmark6:5", "[2001:db8::4]:80", 3), Effect::Absent);
        assert_eq!(o.effect("fwmark:5", "10.0.0.4:80", 3), Effect::Weight(3));
    }

    #[test]
    fn file_round_trips_and_skips_bad_lines() {
        let mut o = Overrides::default();
        let svc = service_word("tcp", "192.168.1.10", 80, 0);
        o.servers.insert(
            (svc.clone(), "10.0.1.2:80".into()),
            Override {
                kind: Kind::Drain {
                    deadline: Some(1_796_559_000),
                },
                since: 5,
            },
        );
        o.servers.insert(
            (svc.clone(), "10.0.1.3:80".into()),
            Override {
                kind: Kind::Weight(7),
                since: 6,
            },
        );
        o.services.insert("fwmark:5".into(), 9);
        let text = o.encode();
        let (back, bad) = Overrides::parse(&text);
        assert_eq!(back, o);
        assert!(bad.is_empty());
        let (partial, bad) =
            Overrides::parse(&format!("{text}server x y weight=99999999\ngarbage\n"));
        assert_eq!(partial, o);
        assert_eq!(bad.len(), 2);
        assert_eq!(o.effect(&svc, "10.0.1.2:80", 3), Effect::Weight(0));
        assert_eq!(o.effect(&svc, "10.0.1.3:80", 3), Effect::Weight(7));
        assert_eq!(o.effect(&svc, "10.0.1.4:80", 3), Effect::Weight(3));
        assert_eq!(o.effect("fwmark:5", "10.0.1.4:80", 3), Effect::Absent);
    }

    #[test]
    fn watched_file_is_read_again_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o");
        let mut w = Watched::new(&p);
        assert!(w.get().servers.is_empty());
        std::fs::write(
            &p,
            "version 1\nserver tcp:1.2.3.4:80 10.0.0.1:80 disabled since=1\n",
        )
        .unwrap();
        assert_eq!(
            w.get().effect("tcp:1.2.3.4:80", "10.0.0.1:80", 1),
            Effect::Absent
        );
        std::fs::remove_file(&p).unwrap();
        assert!(w.get().servers.is_empty());
    }
}
