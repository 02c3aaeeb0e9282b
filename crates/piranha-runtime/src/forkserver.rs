//! A fork server: start many copies of one program without an `exec` each.
//!
//! lvs starts one nanny per real server.  Under emulation (and on small
//! machines) the cost of that is the `exec`: mapping and relocating a fresh
//! program, then initialising it.  Instead, lvs starts the nanny binary once
//! as `nanny --fork-server`; that process does nothing but wait for
//! requests on a socket.  For each request (an argv and the descriptor that
//! becomes the new process's stdout) it forks, and the child runs nanny's
//! `main` with that argv, exactly as if it had been exec'd with it:
//!
//! * the child is made with `CLONE_PARENT`, so it is a child of lvs, not of
//!   the server: lvs reaps it, signals it and sees it die as before;
//! * `/proc/PID/exe` is the nanny binary and `/proc/PID/comm` is `nanny`
//!   (the server was exec'd from it); `/proc/PID/cmdline`, what `ps` shows,
//!   is rewritten to the requested argv with `PR_SET_MM` (root only; where
//!   that is refused the child simply `exec`s the argv instead);
//! * it gets `PR_SET_PDEATHSIG` = SIGTERM against lvs, default signal
//!   dispositions (the server never installs a handler), stdin `/dev/null`,
//!   stdout the descriptor sent with the request, stderr the server's.
//!
//! The protocol is one `SOCK_SEQPACKET` message per request: the argv as
//! NUL-terminated strings with the stdout descriptor in `SCM_RIGHTS`; the
//! reply is the child's pid as a native-endian `i32`, or a negated errno.

use std::ffi::{CString, OsString};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    recv, recvmsg, send, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned,
    MsgFlags, SockFlag, SockType,
};
use nix::unistd::Pid;

/// The flag that turns a program into a fork server.
pub const FLAG: &str = "--fork-server";

/// The descriptor the server reads requests on.
const SOCK: RawFd = 3;

/// Largest request (argv bytes) the server accepts.
const MAX_REQUEST: usize = 64 * 1024;

/// How long the client waits for the server's answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ForkServerError {
    /// The socket pair or the server process could not be made.
    #[error("cannot start the fork server {program}")]
    Start {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Talking to the server failed (it died, or did not answer in time).
    #[error("talking to the fork server failed")]
    Io(#[source] std::io::Error),
    /// The server could not fork.
    #[error("the fork server could not start the process")]
    Fork(#[source] std::io::Error),
}

/// lvs's handle on a running fork server.
#[derive(Debug)]
pub struct ForkServer {
    sock: OwnedFd,
    pid: Pid,
}

impl ForkServer {
    /// Start `program --fork-server`.  `pre_exec` runs in the server between
    /// fork and exec (after the request socket is placed on descriptor 3).
    pub fn start(
        program: &Path,
        pre_exec: fn() -> std::io::Result<()>,
    ) -> Result<Self, ForkServerError> {
        let start_err = |source: std::io::Error| ForkServerError::Start {
            program: program.display().to_string(),
            source,
        };
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| start_err(e.into()))?;
        let fd = theirs.as_raw_fd();
        let mut cmd = Command::new(program);
        cmd.arg(FLAG).stdin(Stdio::null());
        // SAFETY: the closure runs between fork and exec and only makes
        // async-signal-safe calls (dup2, fcntl and the caller's hook, which
        // must be async-signal-safe too).
        unsafe {
            cmd.pre_exec(move || {
                if fd == SOCK {
                    if libc::fcntl(SOCK, libc::F_SETFD, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(fd, SOCK) != SOCK {
                    return Err(std::io::Error::last_os_error());
                }
                pre_exec()
            });
        }
        let child = cmd.spawn().map_err(start_err)?;
        drop(theirs);
        Ok(ForkServer {
            sock: ours,
            pid: Pid::from_raw(child.id() as i32),
        })
    }

    /// The server's pid (lvs reaps it like any child).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Start a process running `argv` with `stdout` as its standard output;
    /// returns its pid.  The process is a child of the caller.
    pub fn spawn(&self, argv: &[String], stdout: BorrowedFd<'_>) -> Result<Pid, ForkServerError> {
        self.request(argv, stdout)?;
        self.reply()
    }

    /// Send one request without waiting for its answer; the answers come
    /// back in order through [`ForkServer::reply`], so a caller may keep
    /// several requests in flight (the server forks while the caller
    /// prepares the next).
    pub fn request(&self, argv: &[String], stdout: BorrowedFd<'_>) -> Result<(), ForkServerError> {
        let mut msg = Vec::new();
        for a in argv {
            msg.extend_from_slice(a.as_bytes());
            msg.push(0);
        }
        if argv.is_empty() || msg.len() > MAX_REQUEST || argv.iter().any(|a| a.contains('\0')) {
            return Err(ForkServerError::Fork(std::io::Error::from(
                std::io::ErrorKind::InvalidInput,
            )));
        }
        let fds = [stdout.as_raw_fd()];
        let cmsg = [ControlMessage::ScmRights(&fds)];
        loop {
            match sendmsg::<()>(
                self.sock.as_raw_fd(),
                &[IoSlice::new(&msg)],
                &cmsg,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Err(Errno::EINTR) => continue,
                r => return r.map(|_| ()).map_err(|e| ForkServerError::Io(e.into())),
            }
        }
    }

    /// The answer to the oldest request not yet answered: the new pid.
    pub fn reply(&self) -> Result<Pid, ForkServerError> {
        let mut pfd = [PollFd::new(self.sock.as_fd(), PollFlags::POLLIN)];
        loop {
            match poll(
                &mut pfd,
                PollTimeout::try_from(REPLY_TIMEOUT).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(0) => {
                    return Err(ForkServerError::Io(std::io::Error::from(
                        std::io::ErrorKind::TimedOut,
                    )))
                }
                Ok(_) => break,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(ForkServerError::Io(e.into())),
            }
        }
        let mut reply = [0u8; 4];
        let n = loop {
            match recv(self.sock.as_raw_fd(), &mut reply, MsgFlags::empty()) {
                Err(Errno::EINTR) => continue,
                r => break r.map_err(|e| ForkServerError::Io(e.into()))?,
            }
        };
        if n != 4 {
            return Err(ForkServerError::Io(std::io::Error::from(
                std::io::ErrorKind::UnexpectedEof,
            )));
        }
        match i32::from_ne_bytes(reply) {
            pid if pid > 0 => Ok(Pid::from_raw(pid)),
            e => Err(ForkServerError::Fork(std::io::Error::from_raw_os_error(-e))),
        }
    }
}

/// The server side: serve requests on descriptor 3 until the client goes
/// away, running `main` in each child.  Never returns.
///
/// Call it first thing in `main`, before anything opens descriptors, starts
/// threads, installs signal handlers or initialises logging: every child
/// starts from the server's state.
pub fn serve<F: FnMut(Vec<OsString>) -> i32>(mut main: F) -> ! {
    let parent = nix::unistd::getppid();
    // SAFETY: prctl only changes this process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0) };
    if nix::unistd::getppid() != parent {
        std::process::exit(0);
    }
    // Read the time zone once, here: otherwise every child's first log
    // line (syslog's time stamp) opens and reads /etc/localtime again.
    extern "C" {
        fn tzset();
    }
    // SAFETY: tzset only initialises libc's time-zone state; this process
    // is single-threaded.
    unsafe { tzset() };
    let mut buf = vec![0u8; MAX_REQUEST + 1];
    loop {
        let mut cmsg = nix::cmsg_space!([RawFd; 1]);
        let (len, fd, truncated) = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            match recvmsg::<()>(SOCK, &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC) {
                Ok(m) => {
                    let mut fd = None;
                    if let Ok(cmsgs) = m.cmsgs() {
                        for c in cmsgs {
                            if let ControlMessageOwned::ScmRights(fds) = c {
                                for f in fds {
                                    // SAFETY: SCM_RIGHTS hands us a new
                                    // descriptor we now own.
                                    let owned = unsafe { OwnedFd::from_raw_fd(f) };
                                    if fd.is_none() {
                                        fd = Some(owned);
                                    }
                                }
                            }
                        }
                    }
                    let trunc = m
                        .flags
                        .intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC);
                    (m.bytes, fd, trunc)
                }
                Err(Errno::EINTR) => continue,
                Err(_) => std::process::exit(0),
            }
        };
        if len == 0 {
            // The client closed its end: lvs is stopping.
            std::process::exit(0);
        }
        let reply = match (fd, truncated) {
            (Some(out), false) => {
                let argv = split_argv(&buf[..len]);
                if argv.is_empty() {
                    -libc::EINVAL
                } else {
                    fork_child(argv, out, parent, &mut main)
                }
            }
            _ => -libc::EINVAL,
        };
        if send(SOCK, &reply.to_ne_bytes(), MsgFlags::MSG_NOSIGNAL).is_err() {
            std::process::exit(0);
        }
    }
}

fn split_argv(bytes: &[u8]) -> Vec<OsString> {
    bytes
        .split(|&b| b == 0)
        .take(bytes.iter().filter(|&&b| b == 0).count())
        .map(|s| OsString::from_vec(s.to_vec()))
        .collect()
}

/// Fork a sibling (a child of our parent) that runs `main(argv)`; returns
/// its pid or a negated errno.
fn fork_child(
    argv: Vec<OsString>,
    out: OwnedFd,
    parent: Pid,
    main: &mut impl FnMut(Vec<OsString>) -> i32,
) -> i32 {
    // SAFETY: a raw clone with no new stack behaves as fork(2).  This
    // process is single-threaded (it never starts a thread), so the child
    // may use any function, including the allocator.  With every argument
    // after the flags zero, their order (which differs between
    // architectures) does not matter.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_PARENT | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    match pid {
        0 => child(argv, out, parent, main),
        p if p > 0 => p as i32,
        _ => -Errno::last_raw(),
    }
}

fn child(
    argv: Vec<OsString>,
    out: OwnedFd,
    parent: Pid,
    main: &mut impl FnMut(Vec<OsString>) -> i32,
) -> ! {
    // SAFETY: plain descriptor and prctl calls on this (new) process.
    unsafe {
        libc::close(SOCK);
        if out.as_raw_fd() != libc::STDOUT_FILENO {
            libc::dup2(out.as_raw_fd(), libc::STDOUT_FILENO);
        }
        drop(out);
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM, 0, 0, 0);
    }
    if nix::unistd::getppid() != parent {
        // lvs died between the request and now.
        std::process::exit(0);
    }
    if !set_cmdline(&argv) {
        exec(&argv);
    }
    std::process::exit(main(argv))
}

/// Point `/proc/self/cmdline` at `argv`; false where the kernel refuses
/// (no CAP_SYS_RESOURCE).
fn set_cmdline(argv: &[OsString]) -> bool {
    let mut bytes = Vec::new();
    for a in argv {
        bytes.extend_from_slice(a.as_bytes());
        bytes.push(0);
    }
    // The kernel reads the arguments from this memory for as long as the
    // process lives.
    let bytes: &'static mut [u8] = bytes.leak();
    let start = bytes.as_ptr() as libc::c_ulong;
    let end = start + bytes.len() as libc::c_ulong;
    let set = |what: libc::c_int, addr: libc::c_ulong| -> bool {
        // SAFETY: PR_SET_MM only changes this process's bookkeeping; the
        // range is valid, leaked memory.
        unsafe {
            libc::prctl(
                libc::PR_SET_MM,
                what as libc::c_ulong,
                addr,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            ) == 0
        }
    };
    // The kernel keeps arg_start <= arg_end at every step, so the order
    // depends on where the new range lies relative to the old one.
    (set(libc::PR_SET_MM_ARG_START, start) && set(libc::PR_SET_MM_ARG_END, end))
        || (set(libc::PR_SET_MM_ARG_END, end) && set(libc::PR_SET_MM_ARG_START, start))
}

fn exec(argv: &[OsString]) -> ! {
    let c: Vec<CString> = argv
        .iter()
        .filter_map(|a| CString::new(a.as_bytes()).ok())
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = c.iter().map(|s| s.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: NUL-terminated strings and a null-terminated pointer array
    // that outlive the call.
    unsafe { libc::execv(ptrs[0], ptrs.as_ptr()) };
    std::process::exit(127)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_splits_on_nul_terminators() {
        assert_eq!(
            split_argv(b"nanny\0-h\0\0x y\0"),
            vec![
                OsString::from("nanny"),
                OsString::from("-h"),
                OsString::from(""),
                OsString::from("x y")
            ]
        );
        assert!(split_argv(b"").is_empty());
        assert_eq!(
            split_argv(b"a\0b"),
            vec![OsString::from("a")],
            "an unterminated tail is dropped"
        );
    }
}
