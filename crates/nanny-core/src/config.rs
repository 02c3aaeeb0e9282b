//! Command-line options as nanny 0.8.6 takes them, and their validation.
//!
//! [`Options`] holds the flags as given (the binary fills it from clap);
//! [`Options::validate`] applies Piranha's defaults and checks, in Piranha's
//! order, with Piranha's messages, and returns a [`Config`].  Two checks are
//! ours: a zero or negative interval is rejected (Piranha divided by it, B5),
//! and numbers outside the range ipvsadm accepts are rejected up front.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use lvs_config::checks::{BadCheck, Check, CheckWords};

use crate::ipvsadm::{Forward, Service};
use crate::translate::translate;

/// The default path of ipvsadm, as compiled into Piranha.
pub const DEFAULT_IPVSADM: &str = "/sbin/ipvsadm";
/// Send string of the port-80 default check.
pub const HTTP_SEND: &str = "GET / HTTP/1.0\r\n\r\n";
/// Expect string of the port-80 default check.
pub const HTTP_EXPECT: &str = "HTTP";

/// The flags as given on the command line (defaults as in nanny 0.8.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-t/--interval`: seconds between checks, also the I/O timeout.
    pub interval: i64,
    /// `--io-timeout` (ours): I/O timeout of one check; default `interval`.
    pub io_timeout: Option<i64>,
    /// `-I/--ipvsadm`.
    pub ipvsadm: String,
    /// `-U/--loadcmd` (not given: `none`).
    pub loadcmd: Option<String>,
    /// `-M/--method`.
    pub method: String,
    /// `-n/--nodaemon`.
    pub nodaemon: bool,
    /// `-c/--nofork`.
    pub nofork: bool,
    /// `-p/--port`: port of the virtual service.
    pub port: i64,
    /// `-r/--rport`: port checked on the real server (default: `port`).
    pub rport: Option<i64>,
    /// `-a/--reentrytime`.
    pub reentry: i64,
    /// `-S/--scale`.
    pub scale: i64,
    /// `-h/--server`.
    pub server: Option<String>,
    /// `-e/--send_program`.
    pub send_program: Option<String>,
    /// `-s/--send_string`.
    pub send: Option<String>,
    /// `-x/--expect_string`.
    pub expect: Option<String>,
    /// `--regex`.
    pub regex: bool,
    /// `-T/--suppress`.
    pub suppress: bool,
    /// `-q/--quiesce_server`.
    pub quiesce: bool,
    /// `-u/--udp`.
    pub udp: bool,
    /// `-v/--verbose`.
    pub verbose: bool,
    /// `-V/--virtaddress`.
    pub vip: Option<String>,
    /// `-f/--fwmark`.
    pub fwmark: i64,
    /// `-w/--weight`.
    pub weight: i64,
    /// `--test-start` or `--norun`.
    pub norun: bool,
    /// `--fos`.
    pub fos: bool,
    /// `--lvs`.
    pub lvs: bool,
    /// `--lvs-table` (ours, quorum): report entries to lvs, change nothing.
    pub lvs_table: bool,
    /// Extension (issue 9): the health-check long options.
    pub ext: ExtOptions,
}

/// Extension (issue 9): the long options of the checks beyond
/// send/expect, as given. lvs passes them only when lvs.cf sets the
/// matching keys, so a Piranha configuration never sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtOptions {
    /// `--check KIND`.
    pub check: Option<String>,
    /// `--http-path PATH`.
    pub http_path: Option<String>,
    /// `--http-status LIST`.
    pub http_status: Option<String>,
    /// `--http-digest MD5`.
    pub http_digest: Option<String>,
    /// `--http-virtualhost HOST`.
    pub http_vhost: Option<String>,
    /// `--tls-sni NAME`.
    pub tls_sni: Option<String>,
    /// `--tls-verify`.
    pub tls_verify: bool,
    /// `--tls-ca FILE`.
    pub tls_ca: Option<String>,
    /// `--smtp-helo NAME`.
    pub smtp_helo: Option<String>,
    /// `--dns-name NAME`.
    pub dns_name: Option<String>,
    /// `--dns-type TYPE`.
    pub dns_type: Option<String>,
    /// `--misc-program CMD`.
    pub misc_program: Option<String>,
    /// `--misc-dynamic`.
    pub misc_dynamic: bool,
    /// `--retry N`.
    pub retry: Option<i64>,
    /// `--retry-delay SECONDS` (decimal).
    pub retry_delay: Option<String>,
    /// `--rise N`.
    pub rise: Option<i64>,
    /// `--warmup SECONDS` (decimal).
    pub warmup: Option<String>,
}

/// Extension (issue 9): retry and warm-up timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// Re-probes of an up server before it is declared down.
    pub retry: u32,
    /// Pause before each re-probe.
    pub retry_delay: Duration,
    /// The first check runs at a random time in [0, warmup].
    pub warmup: Duration,
}

/// Parse a decimal number of seconds (`1`, `0.5`), at most 3 decimals.
pub fn parse_secs(s: &str) -> Option<Duration> {
    let (w, f) = s.split_once('.').unwrap_or((s, ""));
    if (w.is_empty() && f.is_empty()) || f.len() > 3 {
        return None;
    }
    if !w.bytes().all(|b| b.is_ascii_digit()) || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = if w.is_empty() { 0 } else { w.parse().ok()? };
    let mut ms: u64 = if f.is_empty() { 0 } else { f.parse().ok()? };
    for _ in f.len()..3 {
        ms *= 10;
    }
    Some(Duration::from_millis(
        whole.checked_mul(1000)?.checked_add(ms)?,
    ))
}

impl ExtOptions {
    fn bad(flag: &'static str, value: &str, expected: &'static str) -> ConfigError {
        ConfigError::BadExtension {
            flag,
            value: value.to_string(),
            expected,
        }
    }

    /// The words of the check options, for [`CheckWords::check`].
    pub fn words(&self) -> CheckWords<'_> {
        CheckWords {
            check: self.check.as_deref(),
            path: self.http_path.as_deref(),
            status: self.http_status.as_deref(),
            digest: self.http_digest.as_deref(),
            vhost: self.http_vhost.as_deref(),
            sni: self.tls_sni.as_deref(),
            verify: self.tls_verify,
            ca: self.tls_ca.as_deref(),
            helo: self.smtp_helo.as_deref(),
            dns_name: self.dns_name.as_deref(),
            dns_type: self.dns_type.as_deref(),
            program: self.misc_program.as_deref(),
            dynamic: self.misc_dynamic,
        }
    }

    /// The check, or `None` for Piranha's send/expect: lvs.cf's rules
    /// ([`CheckWords::check`]), and a DNS query the encoder can build.
    pub fn check(&self) -> Result<Option<Check>, ConfigError> {
        let dns = |name: &str, qtype: &str| {
            Self::bad(
                "--dns-name/--dns-type",
                &format!("{name} {qtype}"),
                "a domain name and one of A, NS, CNAME, SOA, MX, TXT, AAAA",
            )
        };
        let check = self.words().check().map_err(|e| match e {
            BadCheck::Kind(k) => Self::bad(
                "--check",
                &k,
                "send_expect, tcp, http, https, smtp, dns or misc",
            ),
            BadCheck::Path(p) => Self::bad("--http-path", &p, "a URL path starting with /"),
            BadCheck::Status(s, _) => Self::bad(
                "--http-status",
                &s,
                "status codes and ranges, e.g. 200-299,301",
            ),
            BadCheck::Digest(d) => Self::bad("--http-digest", &d, "32 hex digits"),
            BadCheck::DnsType { name, qtype } => dns(&name, &qtype),
            BadCheck::NoProgram => Self::bad("--misc-program", "", "a command for --check misc"),
        })?;
        if let Some(Check::Dns { name, qtype }) = &check {
            if crate::health::dns_query(0, name, qtype).is_err() {
                return Err(dns(name, qtype));
            }
        }
        Ok(check)
    }

    /// Retry and warm-up timing (all zero when not given).
    pub fn timing(&self) -> Result<Timing, ConfigError> {
        let retry = match self.retry {
            None => 0,
            Some(r) if (0..=1000).contains(&r) => r as u32,
            Some(r) => return Err(Self::bad("--retry", &r.to_string(), "0 to 1000")),
        };
        let secs = |flag, v: &Option<String>, default| match v {
            None => Ok(default),
            Some(s) => parse_secs(s).ok_or_else(|| Self::bad(flag, s, "seconds, e.g. 1 or 0.5")),
        };
        Ok(Timing {
            retry,
            retry_delay: secs("--retry-delay", &self.retry_delay, Duration::from_secs(1))?,
            warmup: secs("--warmup", &self.warmup, Duration::ZERO)?,
        })
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            interval: 10,
            io_timeout: None,
            ipvsadm: DEFAULT_IPVSADM.to_string(),
            loadcmd: None,
            method: "-m".to_string(),
            nodaemon: false,
            nofork: false,
            port: 80,
            rport: None,
            reentry: 0,
            scale: 10,
            server: None,
            send_program: None,
            send: None,
            expect: None,
            regex: false,
            suppress: false,
            quiesce: false,
            udp: false,
            verbose: false,
            vip: None,
            fwmark: 0,
            weight: 1,
            norun: false,
            fos: false,
            lvs: false,
            lvs_table: false,
            ext: ExtOptions::default(),
        }
    }
}

/// Which kind of monitor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    /// `--lvs`: add/remove a real server in IPVS.
    Lvs,
    /// `--fos`: legacy failover-services mode: exit when the service dies.
    Fos,
}

/// The expect side of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The expect text after backslash translation.
    pub text: Vec<u8>,
    /// Interpret `text` as a POSIX extended regular expression.
    pub regex: bool,
}

/// What one check does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Connect (TCP or UDP), optionally send, optionally expect.
    Socket {
        /// Bytes to send after connecting.
        send: Option<Vec<u8>>,
        /// What the reply must start with (or match).
        expect: Option<Expect>,
    },
    /// Run a program; `%h` and `%p` tokens are replaced.
    Program {
        /// The command line, split on spaces, no shell.
        command: String,
        /// What its whole output must be (or match).
        expect: Option<Expect>,
    },
}

/// How the load monitor asks for the load average.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadMonitor {
    /// `none`: the weight only follows slow start.
    None,
    /// Any other command, run as `CMD RIP` (`CMD RIP uptime` for rsh/ssh).
    Command(String),
}

/// A validated nanny configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `--lvs` or `--fos`.
    pub service_type: ServiceType,
    /// The real server.
    pub rip: IpAddr,
    /// The real server as typed (used in the start line).
    pub server_arg: String,
    /// The virtual address as typed (`-V`), if any.
    pub vip: Option<String>,
    /// Virtual service port.
    pub port: u16,
    /// Real server port (checked, and used in ipvsadm's `-r`).
    pub rport: u16,
    /// The virtual service in ipvsadm's terms.
    pub service: Service,
    /// Forwarding method.
    pub forward: Forward,
    /// Configured weight.
    pub weight: i32,
    /// Check period.
    pub interval: Duration,
    /// I/O timeout of one check.
    pub io_timeout: Duration,
    /// Successful checks needed to re-add a server (`reentry / interval`).
    pub count_thresh: u64,
    /// Load monitor weight ceiling factor.
    pub scale: i32,
    /// Load monitor.
    pub load: LoadMonitor,
    /// The check.
    pub probe: Probe,
    /// Use UDP for the socket check.
    pub udp: bool,
    /// Set weight 0 instead of removing.
    pub quiesce: bool,
    /// Log debugging lines.
    pub verbose: bool,
    /// Don't run ipvsadm, only log it.
    pub norun: bool,
    /// Path of ipvsadm.
    pub ipvsadm: String,
    /// `-n`: stay in the foreground, log to stdout too.
    pub nodaemon: bool,
    /// `-c`: don't fork when daemonizing.
    pub nofork: bool,
    /// Lines to log at startup, before the start line (Piranha's notes).
    pub notes: Vec<String>,
    /// `--lvs-table`: print the wanted entry for lvs instead of changing
    /// IPVS ([`crate::lvs_table`]).
    pub lvs_table: bool,
    /// Extension (issue 9): the check beyond send/expect, if any.
    pub check: Option<Check>,
    /// Extension (issue 9): retries and warm-up.
    pub timing: Timing,
}

/// Why the options were refused.  The texts are what nanny prints on
/// stderr (Piranha's, where Piranha had a check).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `-h` missing.
    #[error("nanny: No address supplied. Use '--help' for help.")]
    NoAddress,
    /// `-h` not an IPv4 address in inet_aton's forms.
    #[error("nanny: bad IP address -- {0}")]
    BadAddress(String),
    /// Neither `--fos` nor `--lvs` (Piranha's words, then what to do).
    #[error(
        "nanny: unknown service type (one of --lvs or --fos is required). Use '--help' for help."
    )]
    UnknownServiceType,
    /// `-t` of zero or less (Piranha divided by zero).
    #[error("nanny: bad interval -- {0} (must be at least 1 second)")]
    BadInterval(i64),
    /// `--io-timeout` of zero or less.
    #[error("nanny: bad I/O timeout -- {0} (must be at least 1 second)")]
    BadIoTimeout(i64),
    /// A number outside what ipvsadm or the kernel accept.
    #[error("nanny: bad value for {flag} -- {value} (expected {expected})")]
    OutOfRange {
        /// The flag, e.g. `--weight`.
        flag: &'static str,
        /// The value given.
        value: i64,
        /// The accepted range, in words.
        expected: &'static str,
    },
    /// Extension (issue 9): a bad value for one of the check options.
    #[error("nanny: bad value for {flag} -- {value} (expected {expected})")]
    BadExtension {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// LVS mode with neither `-V` nor `-f`: ipvsadm would get `(null):80`.
    #[error("nanny: No virtual address supplied (-V or -f). Use '--help' for help.")]
    NoVirtualAddress,
}

fn range(
    flag: &'static str,
    value: i64,
    lo: i64,
    hi: i64,
    expected: &'static str,
) -> Result<i64, ConfigError> {
    if value < lo || value > hi {
        Err(ConfigError::OutOfRange {
            flag,
            value,
            expected,
        })
    } else {
        Ok(value)
    }
}

extern "C" {
    // POSIX/glibc; not bound by the libc crate.
    #[link_name = "inet_aton"]
    fn c_inet_aton(cp: *const libc::c_char, inp: *mut libc::in_addr) -> libc::c_int;
}

/// Parse an IPv4 address the way inet_aton(3) does (so `10.1` and
/// `0x0a000001` are accepted as Piranha accepted them).
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let c = std::ffi::CString::new(s).ok()?;
    let mut addr = libc::in_addr { s_addr: 0 };
    // SAFETY: `c` is NUL-terminated and `addr` is a valid out-pointer.
    let ok = unsafe { c_inet_aton(c.as_ptr(), &mut addr) };
    (ok != 0).then(|| Ipv4Addr::from(u32::from_be(addr.s_addr)))
}

/// Parse `-h`: an IPv4 address in any `inet_aton` form (Piranha's), or an
/// IPv6 literal without brackets (`2001:db8::2`); never a host name.
pub fn parse_server(s: &str) -> Option<IpAddr> {
    inet_aton(s)
        .map(IpAddr::V4)
        .or_else(|| s.parse::<Ipv6Addr>().ok().map(IpAddr::V6))
}

/// Piranha's `-M` rule: an optional leading `-`, then `i` or `g`; anything
/// else means masquerading.
pub fn forward_from_method(method: &str) -> Forward {
    let m = method.strip_prefix('-').unwrap_or(method);
    match m.as_bytes().first() {
        Some(b'i') => Forward::Tunnel,
        Some(b'g') => Forward::Gate,
        _ => Forward::Masq,
    }
}

impl Options {
    /// Apply defaults and checks; see the module docs.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let server = self.server.clone().ok_or(ConfigError::NoAddress)?;
        let rip = parse_server(&server).ok_or_else(|| ConfigError::BadAddress(server.clone()))?;
        let service_type = if self.fos {
            ServiceType::Fos
        } else if self.lvs {
            ServiceType::Lvs
        } else {
            return Err(ConfigError::UnknownServiceType);
        };
        if self.interval < 1 {
            return Err(ConfigError::BadInterval(self.interval));
        }
        let interval = range(
            "--interval",
            self.interval,
            1,
            u32::MAX as i64,
            "1 to 4294967295",
        )? as u64;
        let io_timeout = match self.io_timeout {
            Some(t) if t < 1 => return Err(ConfigError::BadIoTimeout(t)),
            Some(t) => range("--io-timeout", t, 1, u32::MAX as i64, "1 to 4294967295")? as u64,
            None => interval,
        };
        let port = range("--port", self.port, 0, 65535, "0 to 65535")? as u16;
        let rport = match self.rport {
            Some(r) => range("--rport", r, 0, 65535, "0 to 65535")? as u16,
            None => port,
        };
        let weight = range("--weight", self.weight, 0, 65535, "0 to 65535")? as i32;
        let fwmark = range(
            "--fwmark",
            self.fwmark,
            0,
            u32::MAX as i64,
            "0 to 4294967295",
        )? as u32;
        let scale = range("--scale", self.scale, 0, 65535, "0 to 65535")? as i32;
        let mut reentry = range(
            "--reentrytime",
            self.reentry,
            0,
            u32::MAX as i64,
            "0 to 4294967295",
        )? as u64;
        if reentry == 0 {
            reentry = match service_type {
                ServiceType::Lvs => 180,
                ServiceType::Fos => interval,
            };
        }
        let service = if fwmark != 0 {
            // The mark's family is `-V`'s: lvs passes `::` (or the IPv6
            // VIP) for an IPv6 mark service.
            match self.vip.as_deref().map(str::parse::<Ipv6Addr>) {
                Some(Ok(_)) => Service::Fwmark6(fwmark),
                _ => Service::Fwmark(fwmark),
            }
        } else {
            let vip = match (&self.vip, service_type) {
                (Some(v), _) => v.clone(),
                (None, ServiceType::Lvs) => return Err(ConfigError::NoVirtualAddress),
                (None, ServiceType::Fos) => String::new(),
            };
            if self.udp {
                Service::Udp(vip, port)
            } else {
                Service::Tcp(vip, port)
            }
        };

        let check = self.ext.check()?;
        let timing = self.ext.timing()?;
        let count_thresh = match self.ext.rise {
            None => reentry / interval,
            Some(r) if (1..=1_000_000).contains(&r) => r as u64,
            Some(r) => {
                return Err(ExtOptions::bad("--rise", &r.to_string(), "1 to 1000000"));
            }
        };
        let mut notes = Vec::new();
        let mut send = self.send.clone();
        let mut expect = self.expect.clone();
        if let (Some(prog), Some(s)) = (&self.send_program, &send) {
            notes.push(format!(
                "External program use requested: ({prog}), IGNORING send string option ({s})"
            ));
            send = None;
        }
        if check.is_none()
            && port == 80
            && send.is_none()
            && expect.is_none()
            && self.send_program.is_none()
        {
            notes.push("nanny: no monitor configured, assuming web service on port 80".to_string());
            send = Some(HTTP_SEND.to_string());
            expect = Some(HTTP_EXPECT.to_string());
        }
        let conv = |s: &str| -> Vec<u8> {
            if self.suppress {
                s.as_bytes().to_vec()
            } else {
                translate(s.as_bytes())
            }
        };
        let expect = expect.map(|e| Expect {
            text: conv(&e),
            regex: self.regex,
        });
        let probe = match &self.send_program {
            Some(command) => Probe::Program {
                command: command.clone(),
                expect,
            },
            None => Probe::Socket {
                send: send.map(|s| conv(&s)),
                expect,
            },
        };
        let load = match self.loadcmd.as_deref() {
            None | Some("none") => LoadMonitor::None,
            Some(cmd) => LoadMonitor::Command(cmd.to_string()),
        };
        Ok(Config {
            service_type,
            rip,
            server_arg: server,
            vip: self.vip.clone(),
            port,
            rport,
            service,
            forward: forward_from_method(&self.method),
            weight,
            interval: Duration::from_secs(interval),
            io_timeout: Duration::from_secs(io_timeout),
            count_thresh,
            scale,
            load,
            probe,
            udp: self.udp,
            quiesce: self.quiesce,
            verbose: self.verbose,
            norun: self.norun,
            ipvsadm: self.ipvsadm.clone(),
            nodaemon: self.nodaemon,
            nofork: self.nofork,
            notes,
            lvs_table: self.lvs_table,
            check,
            timing,
        })
    }
}

impl Config {
    /// The line logged when monitoring starts.
    pub fn start_line(&self) -> String {
        let vip = self.vip.as_deref().unwrap_or("(null)");
        // Piranha's `ADDR:PORT`; an IPv6 address in brackets, as ipvsadm's.
        let at = crate::ipvsadm::host_port;
        match self.service_type {
            ServiceType::Lvs => format!(
                "starting LVS client monitor for {} -> {}",
                at(vip, self.port),
                at(&self.server_arg, self.rport)
            ),
            ServiceType::Fos => format!(
                "Failover service monitor for {} started",
                at(vip, self.port)
            ),
        }
    }
}

#[cfg(test)]
mod tests;
