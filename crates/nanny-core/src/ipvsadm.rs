//! The ipvsadm command lines nanny runs, and the table they act on.
//!
//! The argv is exactly Piranha's (ipvs_exec.c): `IPVSADM -a|-e <vs> -r
//! RIP:RPORT -g|-m|-i -w W` and `IPVSADM -d <vs> -r RIP:RPORT`, where `<vs>`
//! is `-f MARK` when a firewall mark is set, else `-u VIP:PORT` with `-u`
//! (UDP), else `-t VIP:PORT`.  [`Table`] is the seam between the state
//! machine and the world: [`IpvsadmTable`] runs the real program (or only
//! logs it with `--norun`), tests use a recording fake.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use piranha_runtime::error::Chain;
use piranha_runtime::spawn::{run, Completion, RunOptions};

/// A virtual service as ipvsadm names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// `-t VIP:PORT`.
    Tcp(String, u16),
    /// `-u VIP:PORT`.
    Udp(String, u16),
    /// `-f MARK`.
    Fwmark(u32),
    /// `-f MARK -6`: an IPv6 firewall-mark service (lvs passes an IPv6
    /// `-V`, `::` when the block has no address).
    Fwmark6(u32),
}

/// `ADDR:PORT` as ipvsadm reads it: `[ADDR]:PORT` for an IPv6 address (a
/// bare IPv6 address would be read without its port). An IPv4 address or
/// a host name is left as it is.
pub(crate) fn host_port(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// Forwarding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forward {
    /// `-g`: direct routing.
    Gate,
    /// `-m`: NAT.
    Masq,
    /// `-i`: IP-in-IP tunnel.
    Tunnel,
}

impl Forward {
    /// ipvsadm's flag.
    pub fn flag(self) -> &'static str {
        match self {
            Forward::Gate => "-g",
            Forward::Masq => "-m",
            Forward::Tunnel => "-i",
        }
    }
}

/// One change to the real server's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `-a ... -w W`.
    Add(i32),
    /// `-e ... -w W`.
    Edit(i32),
    /// `-d`.
    Delete,
}

/// Everything needed to name this nanny's real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dest {
    /// Path of ipvsadm.
    pub ipvsadm: String,
    /// The virtual service.
    pub service: Service,
    /// The real server.
    pub rip: IpAddr,
    /// Its port.
    pub rport: u16,
    /// How packets reach it.
    pub forward: Forward,
}

impl Dest {
    /// The argv for `op`.
    pub fn argv(&self, op: Op) -> Vec<String> {
        let mut v = vec![self.ipvsadm.clone()];
        v.push(
            match op {
                Op::Add(_) => "-a",
                Op::Edit(_) => "-e",
                Op::Delete => "-d",
            }
            .to_string(),
        );
        match &self.service {
            Service::Fwmark(m) => {
                v.push("-f".into());
                v.push(m.to_string());
            }
            Service::Fwmark6(m) => {
                v.push("-f".into());
                v.push(m.to_string());
                v.push("-6".into());
            }
            Service::Tcp(vip, port) => {
                v.push("-t".into());
                v.push(host_port(vip, *port));
            }
            Service::Udp(vip, port) => {
                v.push("-u".into());
                v.push(host_port(vip, *port));
            }
        }
        v.push("-r".into());
        // Direct routing and tunnels cannot change the port: the kernel
        // (ipvsadm, in fact) keeps the entry under the service's port
        // whatever -a said, so -e and -d name it there.  Piranha named the
        // real server's port and failed to quiesce or remove such a server.
        let port = match (&self.service, self.forward, op) {
            (_, _, Op::Add(_))
            | (_, Forward::Masq, _)
            | (Service::Fwmark(_) | Service::Fwmark6(_), _, _) => self.rport,
            (Service::Tcp(_, port) | Service::Udp(_, port), Forward::Gate | Forward::Tunnel, _) => {
                *port
            }
        };
        v.push(SocketAddr::new(self.rip, port).to_string());
        if let Op::Add(w) | Op::Edit(w) = op {
            v.push(self.forward.flag().into());
            v.push("-w".into());
            v.push(w.to_string());
        }
        v
    }
}

impl Dest {
    /// The typed kernel change for `op`: exactly what ipvsadm makes of
    /// [`Dest::argv`] (direct routing and tunnels keep a `-t`/`-u`
    /// service's port; a removal names only the address). `None` when the
    /// virtual address is not an address literal (a host name: only the
    /// program resolves it).
    pub fn kernel_op(&self, op: Op) -> Option<ipvs::Op> {
        let v4_any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let v6_any = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let (protocol, vip, vport, fwmark) = match &self.service {
            Service::Fwmark(m) => (ipvs::IPPROTO_TCP, v4_any, 0, *m),
            Service::Fwmark6(m) => (ipvs::IPPROTO_TCP, v6_any, 0, *m),
            Service::Tcp(vip, p) => (ipvs::IPPROTO_TCP, vip.parse().ok()?, *p, 0),
            Service::Udp(vip, p) => (ipvs::IPPROTO_UDP, vip.parse().ok()?, *p, 0),
        };
        let af = ipvs::model::af_of(&vip);
        let service = ipvs::Service {
            af,
            protocol,
            addr: vip,
            port: vport,
            fwmark,
            // ipvsadm's default persistence mask of the family.
            netmask: if af == ipvs::AF_INET6 { 128 } else { u32::MAX },
            ..ipvs::Service::default()
        };
        let fwd = match self.forward {
            Forward::Gate => ipvs::Forward::Route,
            Forward::Masq => ipvs::Forward::Masq,
            Forward::Tunnel => ipvs::Forward::Tunnel,
        };
        let port = service.entry_port(fwd, self.rport);
        let entry = ipvs::Destination {
            af: ipvs::model::af_of(&self.rip),
            addr: self.rip,
            port,
            ..ipvs::Destination::default()
        };
        let with = |w: i32| ipvs::Destination {
            fwd,
            weight: w,
            ..entry.clone()
        };
        Some(match op {
            Op::Add(w) => ipvs::Op::AddDest(service, with(w)),
            Op::Edit(w) => ipvs::Op::EditDest(service, with(w)),
            Op::Delete => ipvs::Op::DelDest(service, entry),
        })
    }
}

/// Something that applies [`Op`]s to the real server's entry.
pub trait Table {
    /// Apply `op`; true when it worked.  Failures are logged here.
    fn apply(&mut self, op: Op) -> bool;
}

/// How long one ipvsadm run may take before it is killed (Piranha waited
/// for ever).
pub const IPVSADM_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the real ipvsadm.
#[derive(Debug, Clone)]
pub struct IpvsadmTable {
    /// Who we are in the table.
    pub dest: Dest,
    /// Only log the command (`--norun`, `--test-start`).
    pub norun: bool,
    /// Log every command (`-v`).
    pub verbose: bool,
}

/// Quote an argv for the log the way Piranha's logArgv did: ` "a" "b"`.
pub fn quote_argv(argv: &[String]) -> String {
    argv.iter().map(|a| format!(" \"{a}\"")).collect()
}

impl Table for IpvsadmTable {
    fn apply(&mut self, op: Op) -> bool {
        let argv = self.dest.argv(op);
        if self.norun || self.verbose {
            log::info!("running command{}", quote_argv(&argv));
        }
        if self.norun {
            return true;
        }
        let opts = RunOptions {
            capture: false,
            max_output: 0,
            inherit_stderr: true,
            timeout: IPVSADM_TIMEOUT,
            search_path: false,
        };
        match run(&argv, &opts, None) {
            Ok(out) if out.completion == Completion::Exited(0) => true,
            Ok(out) => {
                log::info!("{} command failed!", self.dest.ipvsadm);
                if out.completion != Completion::Exited(1) {
                    log::info!(
                        "{}{} {}",
                        self.dest.ipvsadm,
                        quote_argv(&argv[1..]),
                        out.completion
                    );
                }
                false
            }
            Err(e) => {
                log::info!("{} command failed!", self.dest.ipvsadm);
                log::info!("{}", Chain(&e));
                false
            }
        }
    }
}

/// Applies each change in-process as a typed request ([`Dest::kernel_op`],
/// the same request our ipvsadm would make of the argv) over one
/// generic-netlink socket kept open. Failures are logged as for
/// [`IpvsadmTable`]; a socket that cannot be opened, or a virtual address
/// that is a host name, falls back to running the program. Used only when
/// `-I` names our own ipvsadm ([`ipvsadm_cli::is_ours`]); any other
/// program is run.
pub struct NetlinkTable {
    /// Who we are in the table.
    pub dest: Dest,
    /// Log every command (`-v`).
    pub verbose: bool,
    client: Option<ipvs::netlink::NetlinkIpvs>,
}

impl NetlinkTable {
    /// A table for `dest`; the socket opens on first use.
    pub fn new(dest: Dest, verbose: bool) -> Self {
        NetlinkTable {
            dest,
            verbose,
            client: None,
        }
    }
}

impl NetlinkTable {
    /// Run the program instead (no socket, or a host name to resolve).
    fn run_program(&self, op: Op) -> bool {
        IpvsadmTable {
            dest: self.dest.clone(),
            norun: false,
            verbose: self.verbose,
        }
        .apply(op)
    }
}

impl Table for NetlinkTable {
    fn apply(&mut self, op: Op) -> bool {
        let Some(kop) = self.dest.kernel_op(op) else {
            return self.run_program(op);
        };
        if self.verbose {
            log::info!(
                "running command{} (in-process)",
                quote_argv(&self.dest.argv(op))
            );
        }
        let client = match &mut self.client {
            Some(c) => c,
            None => match ipvs::netlink::NetlinkIpvs::connect() {
                Ok(c) => self.client.insert(c),
                Err(e) => {
                    log::debug!(
                        "netlink unavailable ({}); running the program",
                        e.ipvsadm_message()
                    );
                    return self.run_program(op);
                }
            },
        };
        match ipvs::IpvsBackend::apply_one(client, &kop) {
            Ok(()) => true,
            Err(e) => {
                log::info!("{} command failed!", self.dest.ipvsadm);
                log::info!(
                    "{}{} {}",
                    self.dest.ipvsadm,
                    quote_argv(&self.dest.argv(op)[1..]),
                    e.ipvsadm_message()
                );
                // A socket error may have left the socket unusable.
                self.client = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(service: Service) -> Dest {
        Dest {
            ipvsadm: "/sbin/ipvsadm".into(),
            service,
            rip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            rport: 8080,
            forward: Forward::Gate,
        }
    }

    #[test]
    fn argv_is_piranhas() {
        let d = dest(Service::Tcp("192.168.1.10".into(), 80));
        assert_eq!(
            d.argv(Op::Add(3)).join(" "),
            "/sbin/ipvsadm -a -t 192.168.1.10:80 -r 10.0.0.2:8080 -g -w 3"
        );
        // Direct routing keeps the service's port (see argv): -e and -d
        // name the entry the kernel holds.
        assert_eq!(
            d.argv(Op::Edit(0)).join(" "),
            "/sbin/ipvsadm -e -t 192.168.1.10:80 -r 10.0.0.2:80 -g -w 0"
        );
        assert_eq!(
            d.argv(Op::Delete).join(" "),
            "/sbin/ipvsadm -d -t 192.168.1.10:80 -r 10.0.0.2:80"
        );
        let u = dest(Service::Udp("192.168.1.10".into(), 53));
        assert_eq!(
            u.argv(Op::Delete).join(" "),
            "/sbin/ipvsadm -d -u 192.168.1.10:53 -r 10.0.0.2:53"
        );
        let nat = Dest {
            forward: Forward::Masq,
            ..dest(Service::Tcp("192.168.1.10".into(), 80))
        };
        assert_eq!(
            nat.argv(Op::Delete).join(" "),
            "/sbin/ipvsadm -d -t 192.168.1.10:80 -r 10.0.0.2:8080"
        );
        let f = dest(Service::Fwmark(80));
        assert_eq!(
            f.argv(Op::Delete).join(" "),
            "/sbin/ipvsadm -d -f 80 -r 10.0.0.2:8080"
        );
        let f = dest(Service::Fwmark(80));
        assert_eq!(
            f.argv(Op::Add(1)).join(" "),
            "/sbin/ipvsadm -a -f 80 -r 10.0.0.2:8080 -g -w 1"
        );
    }

    #[test]
    fn ipv6_argv_has_the_forms_ipvsadm_reads() {
        let v6 = |service| Dest {
            rip: "2001:db8::2".parse().unwrap(),
            ..dest(service)
        };
        let d = v6(Service::Tcp("2001:db8::100".into(), 80));
        assert_eq!(
            d.argv(Op::Add(1)).join(" "),
            "/sbin/ipvsadm -a -t [2001:db8::100]:80 -r [2001:db8::2]:8080 -g -w 1"
        );
        assert_eq!(
            d.argv(Op::Edit(0)).join(" "),
            "/sbin/ipvsadm -e -t [2001:db8::100]:80 -r [2001:db8::2]:80 -g -w 0"
        );
        assert_eq!(
            d.argv(Op::Delete).join(" "),
            "/sbin/ipvsadm -d -t [2001:db8::100]:80 -r [2001:db8::2]:80"
        );
        let u = Dest {
            forward: Forward::Masq,
            ..v6(Service::Udp("2001:db8::100".into(), 53))
        };
        assert_eq!(
            u.argv(Op::Add(2)).join(" "),
            "/sbin/ipvsadm -a -u [2001:db8::100]:53 -r [2001:db8::2]:8080 -m -w 2"
        );
        assert_eq!(
            v6(Service::Fwmark6(5)).argv(Op::Add(1)).join(" "),
            "/sbin/ipvsadm -a -f 5 -6 -r [2001:db8::2]:8080 -g -w 1"
        );
        // An IPv6 service with an IPv4 real server, through a tunnel.
        let t = Dest {
            forward: Forward::Tunnel,
            ..dest(Service::Tcp("2001:db8::100".into(), 80))
        };
        assert_eq!(
            t.argv(Op::Add(1)).join(" "),
            "/sbin/ipvsadm -a -t [2001:db8::100]:80 -r 10.0.0.2:8080 -i -w 1"
        );
    }

    #[test]
    fn the_typed_change_is_what_ipvsadm_makes_of_the_argv() {
        let services = [
            Service::Tcp("192.168.1.10".into(), 80),
            Service::Udp("192.168.1.10".into(), 53),
            Service::Fwmark(80),
            Service::Tcp("2001:db8::100".into(), 80),
            Service::Udp("2001:db8::100".into(), 53),
            Service::Fwmark6(80),
        ];
        for service in services {
            let v6 = matches!(&service, Service::Fwmark6(_))
                || matches!(&service, Service::Tcp(a, _) | Service::Udp(a, _) if a.contains(':'));
            for forward in [Forward::Gate, Forward::Masq, Forward::Tunnel] {
                for op in [Op::Add(3), Op::Edit(0), Op::Delete] {
                    let d = Dest {
                        forward,
                        rip: if v6 {
                            "2001:db8::2".parse().unwrap()
                        } else {
                            "10.0.0.2".parse().unwrap()
                        },
                        ..dest(service.clone())
                    };
                    let argv = d.argv(op);
                    let parsed = match ipvsadm_cli::parse(&argv, false) {
                        Ok(ipvsadm_cli::Action::Apply(kop)) => kop,
                        other => panic!("{argv:?}: {other:?}"),
                    };
                    assert_eq!(d.kernel_op(op), Some(parsed), "{argv:?}");
                }
            }
        }
        let named = dest(Service::Tcp("www.example.com".into(), 80));
        assert_eq!(
            named.kernel_op(Op::Delete),
            None,
            "a host name is the program's"
        );
    }

    #[test]
    fn failing_ipvsadm_reports_false() {
        let mut t = IpvsadmTable {
            dest: Dest {
                ipvsadm: "/bin/false".into(),
                ..dest(Service::Fwmark(1))
            },
            norun: false,
            verbose: false,
        };
        assert!(!t.apply(Op::Delete));
        t.dest.ipvsadm = "/bin/true".into();
        assert!(t.apply(Op::Delete));
        t.dest.ipvsadm = "/nonexistent".into();
        assert!(!t.apply(Op::Delete));
        t.norun = true;
        assert!(t.apply(Op::Delete), "norun only logs");
    }
}
