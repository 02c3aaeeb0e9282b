//! The in-process entry points: [`main`] (connect with the modprobe retry,
//! then run), [`run_captured`] and [`is_ours`].

use std::io::Write;

use ipvs::model::*;
use ipvs::netlink::NetlinkIpvs;
use ipvs::Error;
use ipvs::IpvsBackend;

use crate::run::{run, Io};

fn modprobe_ipvs() -> bool {
    matches!(
        std::process::Command::new("/sbin/modprobe").args(["--", "ip_vs"]).status(),
        Ok(s) if s.success()
    )
}

fn init() -> Result<(NetlinkIpvs, Info), Error> {
    let mut c = NetlinkIpvs::connect()?;
    let info = c.info()?;
    Ok((c, info))
}

/// The kernel's IPVS could not be reached; its `Display` is the message
/// ipvsadm prints (to standard error, with exit code 2).
#[derive(Debug, thiserror::Error)]
#[error(
    "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
    .0.ipvsadm_message()
)]
pub struct CannotInit(Error);

/// Connect and read the kernel's `GET_INFO`, running modprobe and trying
/// once more on failure as ipvsadm does: what our ipvsadm does first, for
/// an in-process caller that reads the table itself (lvs at start-up).
pub fn connect() -> Result<(NetlinkIpvs, Info), CannotInit> {
    // ipvsadm: on failure run modprobe and try once more; when modprobe
    // fails the first error is reported.
    let connected = match init() {
        Ok(x) => Ok(x),
        Err(first) => {
            if modprobe_ipvs() {
                init()
            } else {
                Err(first)
            }
        }
    };
    connected.map_err(CannotInit)
}

/// The `ipvsadm` program: connect to the kernel (with the modprobe retry),
/// run, and return the exit code.
pub fn main(argv: Vec<String>) -> i32 {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut err = stderr.lock();
    let (mut backend, info) = match connect() {
        Ok(x) => x,
        Err(m) => {
            let _ = err.write_all(m.to_string().as_bytes());
            return 2;
        }
    };
    let mut input = stdin.lock();
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        input: &mut input,
    };
    run(&mut backend, info, &argv, &mut io)
}

/// What one in-process ipvsadm run gave: what the program would have
/// exited with and printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The exit code (0-255).
    pub code: i32,
    /// Standard output.
    pub out: Vec<u8>,
    /// Standard error.
    pub err: Vec<u8>,
}

/// Run our ipvsadm inside this process: the same connection, parser,
/// kernel requests, output and exit code as running the program with
/// `argv` (`argv[0]` names it in messages) and `input` on its standard
/// input, without a fork and exec. For callers that have checked
/// [`is_ours`] on the program they were told to run.
pub fn run_captured(argv: &[String], input: &[u8]) -> Captured {
    let mut c = Captured::default();
    let (mut backend, info) = match connect() {
        Ok(x) => x,
        Err(m) => {
            c.err = m.to_string().into_bytes();
            c.code = 2;
            return c;
        }
    };
    let mut inp = input;
    let mut io = Io {
        out: &mut c.out,
        err: &mut c.err,
        input: &mut inp,
    };
    c.code = run(&mut backend, info, argv, &mut io);
    c
}

/// Is `path` this suite's own ipvsadm, the `ipvsadm` installed next to the
/// running executable (compared after resolving links)? Then lvs and nanny
/// may do what it would do in-process ([`run_captured`]); any other program
/// (Debian's ipvsadm, an administrator's wrapper) must be run.
pub fn is_ours(path: &str) -> bool {
    std::env::current_exe().is_ok_and(|exe| is_next_to(&exe, path))
}

/// Whether `path` is the `ipvsadm` in the directory of `exe`, after
/// resolving links (what [`is_ours`] asks of the running executable).
pub(super) fn is_next_to(exe: &std::path::Path, path: &str) -> bool {
    match (
        std::fs::canonicalize(path),
        std::fs::canonicalize(exe.with_file_name("ipvsadm")),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
