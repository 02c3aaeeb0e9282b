//! A foreign ipvsadm named by lvs.cf's `ipvsadm` keyword, spoken to in its
//! text: one `ipvsadm -S -n` to read the table, one `ipvsadm -R` for a
//! batch of changes, one invocation for a single change. Using the program
//! keeps Piranha's contract: an administrator's wrapper sees every change,
//! and Debian's ipvsadm works as well as ours. This is the one place lvs
//! turns typed changes into ipvsadm words ([`op_words`]) and reads ipvsadm
//! text back ([`parse_save`]); the words are those of ipvsadm's `-S` rule
//! format without the options older ipvsadm lack when they hold the default.

use std::io::Write;
use std::process::{Command, Stdio};

use std::net::{IpAddr, Ipv4Addr};

use ipvs::{Op, ServiceEntry};
use piranha_runtime::spawn::{self, RunOptions};

use super::{argv_line, Kernel, Refused, TableError};

/// A foreign ipvsadm program.
#[derive(Clone, Debug)]
pub struct Program {
    /// Its path, from lvs.cf.
    pub program: String,
}

/// `ADDR:PORT`, with brackets for IPv6.
fn addr_port(addr: &IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// The words naming `service` (`-t VIP:PORT`, `-u ...`, `--sctp-service
/// ...`, `-f MARK`, with `-6` for an IPv6 firewall mark).
fn service_words(service: &ipvs::Service) -> Vec<String> {
    if service.fwmark != 0 {
        let mut v = vec!["-f".to_string(), service.fwmark.to_string()];
        if service.af == ipvs::AF_INET6 {
            v.push("-6".into());
        }
        return v;
    }
    let option = match service.protocol {
        ipvs::IPPROTO_UDP => "-u",
        ipvs::IPPROTO_SCTP => "--sctp-service",
        _ => "-t",
    };
    vec![option.to_string(), addr_port(&service.addr, service.port)]
}

/// `-A SERVICE -s SCHED [-p T [-M MASK]] [--pe PE] [-o] [-b FLAGS]`.
fn service_change(command: &str, s: &ipvs::Service) -> Vec<String> {
    let mut v = vec![command.to_string()];
    v.extend(service_words(s));
    v.extend(["-s".to_string(), s.sched_name.clone()]);
    if s.is_persistent() {
        v.extend(["-p".to_string(), s.timeout.to_string()]);
        if s.af == ipvs::AF_INET && s.netmask != u32::MAX {
            v.extend(["-M".to_string(), Ipv4Addr::from(s.netmask).to_string()]);
        }
        if s.af == ipvs::AF_INET6 && s.netmask != 128 {
            v.extend(["-M".to_string(), s.netmask.to_string()]);
        }
    }
    if !s.pe_name.is_empty() {
        v.extend(["--pe".to_string(), s.pe_name.clone()]);
    }
    if s.flags & ipvs::SVC_F_ONEPACKET != 0 {
        v.push("-o".into());
    }
    let flags: Vec<&str> = [
        (ipvs::SVC_F_SCHED1, "flag-1"),
        (ipvs::SVC_F_SCHED2, "flag-2"),
        (ipvs::SVC_F_SCHED3, "flag-3"),
    ]
    .into_iter()
    .filter(|(bit, _)| s.flags & bit != 0)
    .map(|(_, name)| name)
    .collect();
    if !flags.is_empty() {
        v.extend(["-b".to_string(), flags.join(",")]);
    }
    v
}

/// `-a SERVICE -r RIP:PORT -g|-m|-i -w W [-x U] [-y L]`, and the tunnel
/// options when they are not the default (older ipvsadm lack them).
fn dest_change(command: &str, s: &ipvs::Service, d: &ipvs::Destination) -> Vec<String> {
    let mut v = vec![command.to_string()];
    v.extend(service_words(s));
    v.extend(["-r".to_string(), addr_port(&d.addr, d.port)]);
    let fwd = match d.fwd {
        ipvs::Forward::Masq => "-m",
        ipvs::Forward::Tunnel => "-i",
        _ => "-g",
    };
    v.extend([fwd.to_string(), "-w".to_string(), d.weight.to_string()]);
    if d.u_threshold != 0 {
        v.extend(["-x".to_string(), d.u_threshold.to_string()]);
    }
    if d.l_threshold != 0 {
        v.extend(["-y".to_string(), d.l_threshold.to_string()]);
    }
    if d.fwd == ipvs::Forward::Tunnel && d.tun_type != ipvs::TunnelType::Ipip {
        v.extend(["--tun-type".to_string(), d.tun_type.name().to_string()]);
        if d.tun_type == ipvs::TunnelType::Gue {
            v.extend(["--tun-port".to_string(), d.tun_port.to_string()]);
        }
        if d.tun_flags & 1 != 0 {
            v.push("--tun-csum".into());
        }
        if d.tun_flags & 2 != 0 {
            v.push("--tun-remcsum".into());
        }
    }
    v
}

/// The ipvsadm words (no program name) that make `op`.
pub fn op_words(op: &Op) -> Vec<String> {
    let with = |command: &str, rest: Vec<String>| {
        let mut v = vec![command.to_string()];
        v.extend(rest);
        v
    };
    match op {
        Op::Flush => vec!["-C".into()],
        Op::AddService(s) => service_change("-A", s),
        Op::EditService(s) => service_change("-E", s),
        Op::DelService(s) => with("-D", service_words(s)),
        Op::Zero(None) => vec!["-Z".into()],
        Op::Zero(Some(s)) => with("-Z", service_words(s)),
        Op::AddDest(s, d) => dest_change("-a", s, d),
        Op::EditDest(s, d) => dest_change("-e", s, d),
        Op::DelDest(s, d) => with("-d", {
            let mut v = service_words(s);
            v.extend(["-r".to_string(), addr_port(&d.addr, d.port)]);
            v
        }),
        Op::SetTimeouts(t) => vec![
            "--set".into(),
            t.tcp.to_string(),
            t.tcp_fin.to_string(),
            t.udp.to_string(),
        ],
        Op::StartDaemon(d) | Op::StopDaemon(d) => {
            let command = if matches!(op, Op::StartDaemon(_)) {
                "--start-daemon"
            } else {
                "--stop-daemon"
            };
            let state = if d.state == ipvs::DAEMON_BACKUP {
                "backup"
            } else {
                "master"
            };
            let mut v = vec![command.to_string(), state.to_string()];
            if matches!(op, Op::StartDaemon(_)) {
                v.extend([
                    "--mcast-interface".to_string(),
                    d.mcast_ifn.clone(),
                    "--syncid".to_string(),
                    d.syncid.to_string(),
                ]);
            }
            v
        }
    }
}

impl Kernel for Program {
    /// `-S -n`.
    fn read(&mut self) -> Result<Vec<ServiceEntry>, TableError> {
        let out = spawn::run(
            &[self.program.clone(), "-S".into(), "-n".into()],
            &RunOptions {
                capture: true,
                max_output: 256 << 20,
                inherit_stderr: false,
                timeout: std::time::Duration::from_secs(120),
                search_path: false,
            },
            None,
        )
        .map_err(|e| TableError::Spawn {
            program: self.program.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        if !out.completion.success() {
            return Err(TableError::Failed {
                program: self.program.clone(),
                args: "-S -n".into(),
                status: out.completion.to_string(),
                stderr: String::new(),
            });
        }
        Ok(parse_save(&String::from_utf8_lossy(&out.stdout)))
    }

    /// One `-R`, a line per change. Its error lines are the refusals
    /// (exit 1 or 255: some changes failed); any other failure is an error.
    fn apply(&mut self, ops: &[Op]) -> Result<Vec<Refused>, TableError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = String::new();
        for op in ops {
            input.push_str(&op_words(op).join(" "));
            input.push('\n');
        }
        let mut child = Command::new(&self.program)
            .arg("-R")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| TableError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // A failed write means ipvsadm exited early; its status says why.
            let _ = stdin.write_all(input.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|source| TableError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        let errs = error_lines(&out.stderr);
        match out.status.code() {
            Some(0) | Some(255) | Some(1) => Ok(errs.into_iter().map(Refused::Program).collect()),
            _ => Err(TableError::Failed {
                program: self.program.clone(),
                args: "-R".into(),
                status: spawn::completion(out.status).to_string(),
                stderr: errs.join("; "),
            }),
        }
    }

    /// `PROGRAM WORDS`, once.
    fn apply_one(&mut self, op: &Op) -> Result<Vec<Refused>, TableError> {
        let args = op_words(op);
        let out = Command::new(&self.program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|source| TableError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        if out.status.success() {
            Ok(Vec::new())
        } else {
            Err(TableError::Failed {
                program: self.program.clone(),
                args: argv_line(&args),
                status: spawn::completion(out.status).to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }
}

/// The non-empty lines of an ipvsadm's standard error.
fn error_lines(err: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(err)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Parse `ipvsadm -S -n` output into services with their destinations.
/// Lines that do not parse (a newer ipvsadm's options) are skipped.
pub fn parse_save(text: &str) -> Vec<ServiceEntry> {
    let mut out: Vec<ServiceEntry> = Vec::new();
    for line in text.lines() {
        let mut argv = vec!["ipvsadm".to_string()];
        argv.extend(line.split_whitespace().map(str::to_string));
        if argv.len() < 2 {
            continue;
        }
        match ipvsadm_cli::parse(&argv, true) {
            Ok(ipvsadm_cli::Action::Apply(ipvs::Op::AddService(s))) => out.push(ServiceEntry {
                service: s,
                dests: Vec::new(),
            }),
            Ok(ipvsadm_cli::Action::Apply(ipvs::Op::AddDest(s, d))) => {
                if let Some(e) = out.iter_mut().rev().find(|e| e.service.same_service(&s)) {
                    e.dests.push(d);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_output_is_read_back() {
        let t = "-A -t 10.0.0.1:80 -s wlc -p 360 -M 255.255.255.0\n-a -t 10.0.0.1:80 -r 192.168.1.2:80 -m -w 1\n-A -f 80 -s rr\n-A -u 10.0.0.1:53 -s rr\n-a -u 10.0.0.1:53 -r 192.168.1.3:53 -g -w 0\n";
        let e = parse_save(t);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].service.sched_name, "wlc");
        assert!(e[0].service.is_persistent());
        assert_eq!(e[0].service.timeout, 360);
        assert_eq!(e[0].service.netmask, 0xffff_ff00);
        assert_eq!(e[0].dests.len(), 1);
        assert_eq!(e[0].dests[0].port, 80);
        assert_eq!(e[1].service.fwmark, 80);
        assert_eq!(e[2].dests[0].weight, 0);
    }
}
