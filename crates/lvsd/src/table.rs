//! The kernel table through the ipvsadm program lvs.cf names: one
//! `ipvsadm -S -n` to read it, one `ipvsadm -R` to change many things at
//! once, single invocations for the rest. Using the program (not netlink)
//! keeps Piranha's contract: an administrator's `ipvsadm` wrapper sees
//! every change, and Debian's ipvsadm works as well as ours. When the
//! program is our own ipvsadm (installed next to lvs), the same runs
//! happen in-process ([`ipvsadm_cli::run_captured`]; the table is read
//! straight from netlink, no `-S -n` text): same parser,
//! requests, output and exit codes, without a fork and exec
//! (COMPATIBILITY.md L9).

use std::io::Write;
use std::process::{Command, Stdio};

use piranha_runtime::spawn::{self, RunOptions};

/// Why an ipvsadm run failed.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The program could not be started.
    #[error("failed to run {program}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It ran and failed.
    #[error("{program} {args} failed ({status}): {stderr}")]
    Failed {
        /// The program.
        program: String,
        /// The arguments, joined.
        args: String,
        /// How it ended.
        status: String,
        /// What it said.
        stderr: String,
    },
}

pub use piranha_runtime::quote::{argv_line, shell_word};

/// The ipvsadm program and whether changes are only logged.
#[derive(Clone, Debug)]
pub struct Ipvsadm {
    /// Path from lvs.cf's `ipvsadm` keyword.
    pub program: String,
    /// `--test-start`: log what would run, run nothing.
    pub test_start: bool,
    /// The program is our own ipvsadm: run it in-process.
    pub in_process: bool,
}

impl Ipvsadm {
    /// The table through `program`, in-process when it is our own ipvsadm.
    pub fn new(program: String, test_start: bool) -> Self {
        let in_process = !test_start && ipvsadm_cli::is_ours(&program);
        Ipvsadm {
            program,
            test_start,
            in_process,
        }
    }

    /// Our ipvsadm in this process, as if run with `args` and `input`.
    fn captured(&self, args: &[&str], input: &[u8]) -> ipvsadm_cli::Captured {
        let mut argv = vec![self.program.clone()];
        argv.extend(args.iter().map(|a| a.to_string()));
        ipvsadm_cli::run_captured(&argv, input)
    }

    /// Read the table (`-S -n`). In test-start mode the table reads empty.
    pub fn save(&self) -> Result<Vec<ipvs::ServiceEntry>, TableError> {
        if self.test_start {
            return Ok(Vec::new());
        }
        if self.in_process {
            // Our ipvsadm's connection (modprobe retry included), and the
            // kernel's table as it is: no `-S -n` text to parse back.
            use ipvs::IpvsBackend;
            let failed = |stderr: String| TableError::Failed {
                program: self.program.clone(),
                args: "-S -n (in-process)".into(),
                status: spawn::Completion::Exited(2).to_string(),
                stderr,
            };
            let (mut nl, _) =
                ipvsadm_cli::connect().map_err(|e| failed(e.to_string().trim().to_string()))?;
            return nl.table().map_err(|e| failed(e.ipvsadm_message()));
        }
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

    /// Run many ipvsadm lines in one `ipvsadm -R`. Each line is logged
    /// (`running: ipvsadm ...` in test-start mode). Kernel errors do not stop
    /// the rest; they are returned, one string per line that failed.
    pub fn restore(&self, lines: &[Vec<String>]) -> Result<Vec<String>, TableError> {
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        for l in lines {
            if self.test_start {
                log::info!("[test-start] {} {}", self.program, argv_line(l));
            } else {
                log::debug!(
                    "{} {}{}",
                    self.program,
                    argv_line(l),
                    if self.in_process { " (in-process)" } else { "" }
                );
            }
        }
        if self.test_start {
            return Ok(Vec::new());
        }
        let mut input = String::new();
        for l in lines {
            input.push_str(&l.join(" "));
            input.push('\n');
        }
        if self.in_process {
            let c = self.captured(&["-R"], input.as_bytes());
            let errs = error_lines(&c.err);
            return match c.code {
                0 | 255 | 1 => Ok(errs),
                code => Err(TableError::Failed {
                    program: self.program.clone(),
                    args: "-R".into(),
                    status: spawn::Completion::Exited(code).to_string(),
                    stderr: errs.join("; "),
                }),
            };
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
            Some(0) | Some(255) | Some(1) => Ok(errs),
            _ => Err(TableError::Failed {
                program: self.program.clone(),
                args: "-R".into(),
                status: spawn::completion(out.status).to_string(),
                stderr: errs.join("; "),
            }),
        }
    }

    /// Run one ipvsadm command.
    pub fn run(&self, args: &[String]) -> Result<(), TableError> {
        if self.test_start {
            log::info!("[test-start] {} {}", self.program, argv_line(args));
            return Ok(());
        }
        if self.in_process {
            log::debug!("{} {} (in-process)", self.program, argv_line(args));
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let c = self.captured(&a, b"");
            if c.code == 0 {
                return Ok(());
            }
            return Err(TableError::Failed {
                program: self.program.clone(),
                args: argv_line(args),
                status: spawn::Completion::Exited(c.code).to_string(),
                stderr: String::from_utf8_lossy(&c.err).trim().to_string(),
            });
        }
        let out = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|source| TableError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(TableError::Failed {
                program: self.program.clone(),
                args: argv_line(args),
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
pub fn parse_save(text: &str) -> Vec<ipvs::ServiceEntry> {
    let mut out: Vec<ipvs::ServiceEntry> = Vec::new();
    for line in text.lines() {
        let mut argv = vec!["ipvsadm".to_string()];
        argv.extend(line.split_whitespace().map(str::to_string));
        if argv.len() < 2 {
            continue;
        }
        match ipvsadm_cli::parse(&argv, true) {
            Ok(ipvsadm_cli::Action::Apply(ipvs::Op::AddService(s))) => {
                out.push(ipvs::ServiceEntry {
                    service: s,
                    dests: Vec::new(),
                })
            }
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
