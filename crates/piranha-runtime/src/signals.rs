//! Signals caught into flags plus a self-pipe, handled in one loop.
//!
//! [`SignalWaiter`] registers handlers (through signal-hook, so the handler
//! only sets a flag and writes a byte to a pipe) for a set of signals.  The
//! daemon's loop then calls [`SignalWaiter::wait`] with a deadline, or polls
//! [`SignalWaiter::fd`] next to its own sockets, and takes the pending
//! signals out with [`SignalWaiter::take`].  Several deliveries of one
//! signal between two looks coalesce into one, as with the kernel.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// Errors from registering handlers.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// The self-pipe could not be made.
    #[error("failed to create the signal pipe")]
    Pipe(#[source] std::io::Error),
    /// signal-hook refused the signal (SIGKILL, SIGSTOP, ...).
    #[error("failed to install a handler for signal {signal}")]
    Register {
        /// The signal number.
        signal: i32,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Caught signals, waiting to be taken by the daemon's loop.
#[derive(Debug)]
pub struct SignalWaiter {
    read: UnixStream,
    flags: Vec<(i32, Arc<AtomicBool>)>,
}

impl SignalWaiter {
    /// Install handlers for `signals`.
    pub fn new(signals: &[i32]) -> Result<Self, SignalError> {
        let (read, write) = UnixStream::pair().map_err(SignalError::Pipe)?;
        read.set_nonblocking(true).map_err(SignalError::Pipe)?;
        write.set_nonblocking(true).map_err(SignalError::Pipe)?;
        let mut flags = Vec::new();
        for &signal in signals {
            let flag = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(signal, Arc::clone(&flag))
                .map_err(|source| SignalError::Register { signal, source })?;
            let w = write.try_clone().map_err(SignalError::Pipe)?;
            signal_hook::low_level::pipe::register(signal, w)
                .map_err(|source| SignalError::Register { signal, source })?;
            flags.push((signal, flag));
        }
        Ok(SignalWaiter { read, flags })
    }

    /// The descriptor that becomes readable when a signal arrives.
    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Empty the self-pipe (the flags stay as they are).
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = (&self.read).read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }

    /// Take every pending signal (in registration order) and clear them.
    pub fn take(&self) -> Vec<i32> {
        self.drain();
        self.flags
            .iter()
            .filter(|(_, f)| f.swap(false, Ordering::SeqCst))
            .map(|(s, _)| *s)
            .collect()
    }

    /// Is `signal` pending?  Clears it if so, leaving the others pending.
    pub fn take_one(&self, signal: i32) -> bool {
        self.drain();
        self.flags
            .iter()
            .any(|(s, f)| *s == signal && f.swap(false, Ordering::SeqCst))
    }

    /// Is `signal` pending?  Does not clear it.
    pub fn is_pending(&self, signal: i32) -> bool {
        self.flags
            .iter()
            .any(|(s, f)| *s == signal && f.load(Ordering::SeqCst))
    }

    /// Wait until a signal is pending or `deadline` passes; return the
    /// pending signals (empty on timeout).  `None` waits without a deadline.
    pub fn wait(&self, deadline: Option<Instant>) -> Vec<i32> {
        loop {
            let pending = self.take();
            if !pending.is_empty() {
                return pending;
            }
            let timeout = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Vec::new();
                    }
                    poll_timeout(left)
                }
            };
            let mut fds = [PollFd::new(self.read.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, timeout);
        }
    }
}

impl AsFd for SignalWaiter {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.read.as_fd()
    }
}

/// A poll(2) timeout for `d`, rounded up to the next millisecond so a wait
/// never ends just before its deadline, and capped at poll's maximum.
pub fn poll_timeout(d: Duration) -> PollTimeout {
    let ms = d.as_micros().div_ceil(1000);
    let ms = i32::try_from(ms).unwrap_or(i32::MAX);
    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caught_signal_wakes_the_wait_and_is_taken_once() {
        let w = SignalWaiter::new(&[libc::SIGUSR2, libc::SIGWINCH]).unwrap();
        assert!(w
            .wait(Some(Instant::now() + Duration::from_millis(20)))
            .is_empty());
        signal_hook::low_level::raise(libc::SIGWINCH).unwrap();
        signal_hook::low_level::raise(libc::SIGWINCH).unwrap();
        let got = w.wait(Some(Instant::now() + Duration::from_secs(5)));
        assert_eq!(got, vec![libc::SIGWINCH]);
        assert!(w.take().is_empty(), "coalesced into one");
    }

    #[test]
    fn poll_timeout_rounds_up() {
        assert_eq!(
            poll_timeout(Duration::from_micros(1500)),
            PollTimeout::try_from(2).unwrap()
        );
        assert_eq!(poll_timeout(Duration::ZERO), PollTimeout::ZERO);
    }
}
