//! Detaching from the terminal, the way Piranha's `daemonize` did, with a
//! readiness handshake it lacked.
//!
//! [`detach`] forks twice (the grandchild carries on as the daemon), unless
//! `nofork` is set, in which case the process stays where it is.  Either way
//! stdin, stdout and stderr are then pointed at `/dev/null` and the process
//! starts a new session.  The original process waits on a pipe until the
//! daemon calls [`Starter::ready`] (its pidfile written, its signals caught)
//! or dies, so an init script that reads the pidfile after the starting
//! command returns finds it, and a daemon that fails to start makes the
//! command fail.
//!
//! [`cloexec_inherited_fds`] marks every descriptor above stderr
//! close-on-exec, so that whatever our parent leaked to us is not passed on to
//! the programs we run.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;

use nix::fcntl::OFlag;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, setsid, ForkResult};

/// Which side of [`daemonize`] the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The original process: the daemon has been started; exit 0 now.
    Parent,
    /// The daemon (or, with `nofork`, the same process, now detached).
    Daemon,
}

/// Errors from [`daemonize`].
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// fork(2) failed.
    #[error("failed to fork the daemon process")]
    Fork(#[source] nix::Error),
    /// `/dev/null` could not be opened or duplicated onto stdio.
    #[error("failed to point stdio at /dev/null")]
    DevNull(#[source] std::io::Error),
    /// The readiness pipe could not be made.
    #[error("failed to make the readiness pipe")]
    Pipe(#[source] nix::Error),
}

/// Which side of [`detach`] the caller is on.
#[derive(Debug)]
pub enum Detached {
    /// The starting process, after the daemon said it is ready (`true`) or
    /// died before it did (`false`): exit 0 or 1 now.
    Parent {
        /// The daemon called [`Starter::ready`].
        ready: bool,
    },
    /// The daemon (or, with `nofork`, the same process, now detached).
    Daemon(Starter),
}

/// The daemon's end of the readiness handshake.
#[derive(Debug)]
pub struct Starter(Option<std::fs::File>);

impl Starter {
    /// No one is waiting (the process did not fork).
    pub fn none() -> Self {
        Starter(None)
    }

    /// Tell the starting process that the daemon is up; it exits 0.
    /// Dropping the starter without calling this makes it exit 1.
    pub fn ready(mut self) {
        if let Some(mut f) = self.0.take() {
            let _ = f.write_all(b"1");
        }
    }
}

/// Detach from the terminal with a readiness handshake: see the module
/// documentation.  Must be called while the process has a single thread.
pub fn detach(nofork: bool) -> Result<Detached, DaemonError> {
    if nofork {
        daemonize(true)?;
        return Ok(Detached::Daemon(Starter::none()));
    }
    // CLOEXEC: no program the daemon runs inherits the write end (which
    // would keep the starter waiting after the daemon died).
    let (r, w) = pipe2(OFlag::O_CLOEXEC).map_err(DaemonError::Pipe)?;
    match daemonize(false)? {
        Role::Parent => {
            drop(w);
            let mut f = std::fs::File::from(r);
            let mut b = [0u8; 1];
            let ready = loop {
                match f.read(&mut b) {
                    Ok(n) => break n == 1,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break false,
                }
            };
            Ok(Detached::Parent { ready })
        }
        Role::Daemon => {
            drop(r);
            Ok(Detached::Daemon(Starter(Some(std::fs::File::from(w)))))
        }
    }
}

/// Detach from the terminal without a handshake: the original process
/// gets [`Role::Parent`] as soon as the daemon is forked.  Must be called
/// while the process has a single thread (before any thread is started),
/// because the daemon continues in a forked child.
pub fn daemonize(nofork: bool) -> Result<Role, DaemonError> {
    if !nofork {
        // SAFETY: documented precondition: the process is single-threaded
        // here, so the child may continue running arbitrary code.
        match unsafe { fork() }.map_err(DaemonError::Fork)? {
            ForkResult::Parent { child } => {
                let _ = waitpid(child, None);
                return Ok(Role::Parent);
            }
            ForkResult::Child => {
                // SAFETY: still single-threaded (we are the fresh child).
                match unsafe { fork() } {
                    Ok(ForkResult::Parent { .. }) => {
                        // SAFETY: _exit is async-signal-safe; the middle
                        // process must not run atexit handlers or flush
                        // stdio buffers it shares with the parent.
                        unsafe { libc::_exit(0) }
                    }
                    Ok(ForkResult::Child) => {}
                    // SAFETY: as above.
                    Err(_) => unsafe { libc::_exit(1) },
                }
            }
        }
    }
    stdio_to_dev_null().map_err(DaemonError::DevNull)?;
    // Fails only if we already lead a process group; then we keep it.
    let _ = setsid();
    Ok(Role::Daemon)
}

/// Point fds 0, 1 and 2 at `/dev/null`.
pub fn stdio_to_dev_null() -> std::io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    for fd in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors; `null` stays open for
        // the call and is closed on drop (fds 0-2 keep their duplicates).
        if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Mark every open descriptor above 2 close-on-exec: one `close_range`
/// call (Linux 5.11 and later), else a walk of `/proc/self/fd`.
pub fn cloexec_inherited_fds() {
    // CLOSE_RANGE_CLOEXEC (include/uapi/linux/close_range.h).
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets descriptor
    // flags of this process.
    let r = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if r == 0 {
        return;
    }
    let mut fds = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        for entry in dir.flatten() {
            if let Some(fd) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            {
                if fd > 2 {
                    fds.push(fd);
                }
            }
        }
    }
    for fd in fds {
        // SAFETY: F_GETFD/F_SETFD on a descriptor number only touches its
        // flags; a number that is not open (the read_dir fd, now closed)
        // makes fcntl fail with EBADF, which we ignore.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};

    #[test]
    fn leaked_fd_gets_cloexec() {
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills the array with two new descriptors, which
        // we own below.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the descriptors were just created and are owned here only.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        cloexec_inherited_fds();
        for fd in [&a, &b] {
            // SAFETY: reading the flags of a descriptor we own.
            let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) };
            assert_ne!(flags & libc::FD_CLOEXEC, 0);
        }
    }
}
