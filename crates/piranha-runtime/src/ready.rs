//! A readiness handshake between a parent and a child it execs: one byte
//! through a pipe whose write end the child inherits, named by an
//! environment variable (the child's argv stays what it was).
//!
//! pulse starts lvs this way: lvs writes the byte once its table is
//! programmed and every virtual service has a real server (or its first
//! checks had their time), and pulse brings the virtual addresses up only
//! then.  A child that does not know the variable never writes; the parent
//! bounds its wait.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The environment variable naming the inherited descriptor.
pub const READY_FD_ENV: &str = "PIRANHA_READY_FD";

/// The parent's end (read, close-on-exec) and the child's end (write,
/// close-on-exec until [`inherit_in_child`] clears the flag in the child).
pub fn pipe() -> std::io::Result<(File, OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let r = File::from(r);
    nix::fcntl::fcntl(
        r.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )?;
    Ok((r, w))
}

/// In the child, between fork and exec: keep `fd` open across the exec.
/// Only `fcntl`, which is async-signal-safe.
pub fn inherit_in_child(fd: RawFd) -> std::io::Result<()> {
    // SAFETY: fcntl on a descriptor number; no memory is touched.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// In the child: take the descriptor the parent named in
/// [`READY_FD_ENV`], if it is an open descriptor, and remove the variable
/// so that the child's own children do not see it.  Call while the process
/// is single-threaded (it changes the environment).
pub fn take_inherited() -> Option<Notifier> {
    let v = std::env::var(READY_FD_ENV).ok()?;
    std::env::remove_var(READY_FD_ENV);
    let fd: RawFd = v.trim().parse().ok().filter(|&fd| fd > 2)?;
    // Only the write end of a pipe is taken: a variable left in the
    // environment must not make lvs write to (and close) some other file.
    // SAFETY: fstat into a zeroed struct and F_GETFL on a descriptor
    // number; no memory of ours is handed out.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut st) != 0 || st.st_mode & libc::S_IFMT != libc::S_IFIFO {
            return None;
        }
        if libc::fcntl(fd, libc::F_GETFL) & libc::O_ACCMODE != libc::O_WRONLY {
            return None;
        }
    }
    // The descriptor is ours from here on (the parent made it for us).
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let _ = nix::fcntl::fcntl(
        fd.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    Some(Notifier(File::from(fd)))
}

/// The child's end: say "ready" once.
#[derive(Debug)]
pub struct Notifier(File);

impl Notifier {
    /// Write the byte and close the descriptor.
    pub fn ready(mut self) {
        let _ = self.0.write_all(b"1");
    }
}

/// What the parent read from its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Nothing yet.
    Nothing,
    /// The child is ready.
    Ready,
    /// The child closed its end without the byte (it exited).
    Closed,
}

/// Read the parent's end without blocking.
pub fn read(r: &mut File) -> Heard {
    let mut b = [0u8; 8];
    match std::io::Read::read(r, &mut b) {
        Ok(0) => Heard::Closed,
        Ok(_) => Heard::Ready,
        Err(_) => Heard::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_and_the_close_are_told_apart() {
        let (mut r, w) = pipe().unwrap();
        assert_eq!(read(&mut r), Heard::Nothing);
        Notifier(File::from(w)).ready();
        assert_eq!(read(&mut r), Heard::Ready);
        assert_eq!(read(&mut r), Heard::Closed);
        let (mut r, w) = pipe().unwrap();
        drop(w);
        assert_eq!(read(&mut r), Heard::Closed);
    }
}
