//! Syslog logger with an optional stdout echo, as Piranha's `piranha_log`.
//!
//! Piranha's daemons log every line to syslog with `openlog(ident, LOG_PID,
//! LOG_DAEMON)` at priority `LOG_INFO`; in foreground mode (`-n`) they also
//! write `ident: message\n` to stdout with a single `write(2)`, which lvs reads
//! through a pipe.  [`Logger`] does the same: `error` and `warn` records go to
//! syslog as `LOG_ERR` and `LOG_WARNING`, `info` and `debug` (nanny's verbose
//! lines) as `LOG_INFO` like the original, so a default syslog setup keeps them.

use std::ffi::CString;
use std::io::Write;
use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Where log records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sinks {
    /// Send every record to syslog.
    pub syslog: bool,
    /// Also write `ident: message` lines to stdout.
    pub stdout: bool,
}

/// The process-wide logger; install it once with [`init`].
#[derive(Debug)]
pub struct Logger {
    ident: String,
    sinks: Sinks,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();
static IDENT: OnceLock<CString> = OnceLock::new();

/// Install the logger as the `log` backend.  `ident` names the program in
/// syslog and on stdout; `verbose` lets `debug` records through.  Calling it
/// a second time changes nothing and returns `false`.
pub fn init(ident: &str, sinks: Sinks, verbose: bool) -> bool {
    let mut installed = false;
    let logger = LOGGER.get_or_init(|| {
        installed = true;
        Logger {
            ident: ident.to_string(),
            sinks,
        }
    });
    if !installed {
        return false;
    }
    if sinks.syslog {
        let c = IDENT.get_or_init(|| {
            CString::new(ident.replace('\0', "")).expect("ident has no NUL after replace")
        });
        // SAFETY: `c` lives in a static for the rest of the process, as
        // openlog(3) requires of its ident pointer.
        unsafe { libc::openlog(c.as_ptr(), libc::LOG_PID, libc::LOG_DAEMON) };
    }
    if log::set_logger(logger).is_err() {
        return false;
    }
    log::set_max_level(if verbose {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    });
    true
}

/// The syslog priority used for a `log` level.
pub fn priority(level: Level) -> libc::c_int {
    match level {
        Level::Error => libc::LOG_ERR,
        Level::Warn => libc::LOG_WARNING,
        Level::Info | Level::Debug | Level::Trace => libc::LOG_INFO,
    }
}

/// The stdout form of a message: `ident: message\n`.
pub fn stdout_line(ident: &str, msg: &str) -> String {
    format!("{ident}: {msg}\n")
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let msg = record.args().to_string();
        if self.sinks.stdout {
            let line = stdout_line(&self.ident, &msg);
            // One write per line so a reader of a pipe never sees halves.
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
        if self.sinks.syslog {
            let c = CString::new(msg.replace('\0', "\\0")).expect("NULs were replaced");
            // SAFETY: "%s" with one NUL-terminated argument; both pointers
            // are valid for the duration of the call.
            unsafe {
                libc::syslog(
                    priority(record.level()),
                    c"%s".as_ptr(),
                    c.as_ptr() as *const libc::c_char,
                )
            };
        }
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_line_has_piranha_shape() {
        assert_eq!(
            stdout_line("nanny", "[ active ] making 10.0.0.2:80 available"),
            "nanny: [ active ] making 10.0.0.2:80 available\n"
        );
    }

    #[test]
    fn priorities_follow_piranha_info_for_normal_lines() {
        assert_eq!(priority(Level::Info), libc::LOG_INFO);
        assert_eq!(priority(Level::Debug), libc::LOG_INFO);
        assert_eq!(priority(Level::Error), libc::LOG_ERR);
        assert_eq!(priority(Level::Warn), libc::LOG_WARNING);
    }
}
