//! The control-socket protocol of lvs and pulse: one request line, one
//! answer, then the server closes.
//!
//! A request is words separated by blanks:
//!
//! ```text
//! status [json] [full]
//! drain TARGET [DEADLINE-SECONDS]
//! undrain TARGET
//! weight TARGET WEIGHT
//! disable TARGET
//! enable TARGET
//! disable-service SERVICE
//! enable-service SERVICE
//! ```
//!
//! `TARGET` is `[SERVICE/]SERVER`: `SERVICE` is lvs.cf's virtual server
//! name, `VIP:PORT` or `fwmark:N`; `SERVER` is lvs.cf's real server name,
//! `RIP` or `RIP:PORT`.  Without `SERVICE/`, the server in every service.
//!
//! The answer's first line is `ok` or `error`; the rest is the text to
//! show (the status, or what changed, or why not).

use std::fmt;

use thiserror::Error;

/// Longest request line accepted, in bytes.
pub const MAX_REQUEST: usize = 1024;

/// Largest weight IPVS keeps (lvs.cf's limit too).
pub const MAX_WEIGHT: u32 = 65535;

/// Longest drain deadline, in seconds (a week).
pub const MAX_DEADLINE: u64 = 7 * 24 * 3600;

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `status [json] [full]`
    Status {
        /// The JSON form.
        json: bool,
        /// With the real servers' traffic counters (one kernel dump per
        /// service: slow on a large table).
        full: bool,
    },
    /// `drain TARGET [SECONDS]`
    Drain {
        /// Whom.
        target: Target,
        /// Take it out of the table when no active connection is left, or
        /// after this many seconds even with connections left.
        deadline: Option<u64>,
    },
    /// `undrain TARGET`: clears any override of the server (drain, weight
    /// or disable).
    Undrain(Target),
    /// `weight TARGET N`
    Weight(Target, u32),
    /// `disable TARGET`
    Disable(Target),
    /// `enable TARGET`: as `undrain`.
    Enable(Target),
    /// `disable-service SERVICE`
    DisableService(String),
    /// `enable-service SERVICE`
    EnableService(String),
}

/// `[SERVICE/]SERVER`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The service, when named.
    pub service: Option<String>,
    /// The real server.
    pub server: String,
}

/// Why a request line was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RequestError {
    /// Nothing but blanks.
    #[error("empty request")]
    Empty,
    /// Longer than [`MAX_REQUEST`].
    #[error("request longer than {MAX_REQUEST} bytes")]
    TooLong,
    /// Not text.
    #[error("request is not printable text")]
    NotText,
    /// The first word is not a request.
    #[error("unknown request {0:?} (expected status, drain, undrain, weight, disable, enable, disable-service or enable-service)")]
    Unknown(String),
    /// Wrong number of words.
    #[error("{0}: expected {1}")]
    Usage(&'static str, &'static str),
    /// A number out of range or not a number.
    #[error("{0}: {1:?} is not {2}")]
    Number(&'static str, String, &'static str),
    /// A malformed target.
    #[error("bad target {0:?}: expected [SERVICE/]SERVER")]
    Target(String),
}

fn word_ok(w: &str) -> bool {
    !w.is_empty() && w.len() <= 255
}

impl Target {
    /// Parse `[SERVICE/]SERVER`.
    pub fn parse(s: &str) -> Result<Self, RequestError> {
        let bad = || RequestError::Target(s.to_string());
        match s.split_once('/') {
            Some((svc, srv)) => {
                if !word_ok(svc) || !word_ok(srv) || srv.contains('/') {
                    return Err(bad());
                }
                Ok(Target {
                    service: Some(svc.to_string()),
                    server: srv.to_string(),
                })
            }
            None if word_ok(s) => Ok(Target {
                service: None,
                server: s.to_string(),
            }),
            None => Err(bad()),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.service {
            Some(s) => write!(f, "{s}/{}", self.server),
            None => f.write_str(&self.server),
        }
    }
}

impl Request {
    /// Parse one request line (without or with its newline).
    pub fn parse(line: &str) -> Result<Self, RequestError> {
        if line.len() > MAX_REQUEST {
            return Err(RequestError::TooLong);
        }
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.chars().any(|c| c.is_control() && c != '\t') {
            return Err(RequestError::NotText);
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        let Some((&verb, rest)) = w.split_first() else {
            return Err(RequestError::Empty);
        };
        let one = |name: &'static str, usage: &'static str| -> Result<Target, RequestError> {
            match rest {
                [t] => Target::parse(t),
                _ => Err(RequestError::Usage(name, usage)),
            }
        };
        match verb {
            "status" => {
                let (json, full) = match rest {
                    [] => (false, false),
                    ["json"] => (true, false),
                    ["full"] => (false, true),
                    ["json", "full"] => (true, true),
                    _ => return Err(RequestError::Usage("status", "status [json] [full]")),
                };
                Ok(Request::Status { json, full })
            }
            "drain" => match rest {
                [t] => Ok(Request::Drain {
                    target: Target::parse(t)?,
                    deadline: None,
                }),
                [t, d] => {
                    let secs = d
                        .parse::<u64>()
                        .ok()
                        .filter(|s| (1..=MAX_DEADLINE).contains(s))
                        .ok_or_else(|| {
                            RequestError::Number(
                                "drain",
                                d.to_string(),
                                "a deadline in seconds (1 to 604800)",
                            )
                        })?;
                    Ok(Request::Drain {
                        target: Target::parse(t)?,
                        deadline: Some(secs),
                    })
                }
                _ => Err(RequestError::Usage("drain", "drain TARGET [SECONDS]")),
            },
            "undrain" => Ok(Request::Undrain(one("undrain", "undrain TARGET")?)),
            "enable" => Ok(Request::Enable(one("enable", "enable TARGET")?)),
            "disable" => Ok(Request::Disable(one("disable", "disable TARGET")?)),
            "weight" => match rest {
                [t, n] => {
                    let weight = n
                        .parse::<u32>()
                        .ok()
                        .filter(|w| *w <= MAX_WEIGHT)
                        .ok_or_else(|| {
                            RequestError::Number("weight", n.to_string(), "a weight (0 to 65535)")
                        })?;
                    Ok(Request::Weight(Target::parse(t)?, weight))
                }
                _ => Err(RequestError::Usage("weight", "weight TARGET WEIGHT")),
            },
            "disable-service" | "enable-service" => match rest {
                [s] if word_ok(s) && !s.contains('/') => Ok(if verb == "disable-service" {
                    Request::DisableService(s.to_string())
                } else {
                    Request::EnableService(s.to_string())
                }),
                _ => Err(RequestError::Usage(
                    if verb == "disable-service" {
                        "disable-service"
                    } else {
                        "enable-service"
                    },
                    "SERVICE",
                )),
            },
            other => Err(RequestError::Unknown(
                other.chars().take(40).collect::<String>(),
            )),
        }
    }

    /// The request line (what [`Request::parse`] reads back).
    pub fn line(&self) -> String {
        match self {
            Request::Status { json, full } => format!(
                "status{}{}",
                if *json { " json" } else { "" },
                if *full { " full" } else { "" }
            ),
            Request::Drain {
                target,
                deadline: None,
            } => format!("drain {target}"),
            Request::Drain {
                target,
                deadline: Some(d),
            } => format!("drain {target} {d}"),
            Request::Undrain(t) => format!("undrain {t}"),
            Request::Weight(t, w) => format!("weight {t} {w}"),
            Request::Disable(t) => format!("disable {t}"),
            Request::Enable(t) => format!("enable {t}"),
            Request::DisableService(s) => format!("disable-service {s}"),
            Request::EnableService(s) => format!("enable-service {s}"),
        }
    }

    /// It changes something (and is logged with the caller's uid).
    pub fn changes(&self) -> bool {
        !matches!(self, Request::Status { .. })
    }
}

/// An answer: `ok` or `error`, and the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The request was carried out.
    pub ok: bool,
    /// What to show.
    pub text: String,
}

impl Answer {
    /// A success.
    pub fn ok(text: impl Into<String>) -> Self {
        Answer {
            ok: true,
            text: text.into(),
        }
    }

    /// A refusal.
    pub fn error(text: impl Into<String>) -> Self {
        Answer {
            ok: false,
            text: text.into(),
        }
    }

    /// One line for a log: the answer's first line, or `refused: ` and
    /// the reason.
    pub fn summary(&self) -> String {
        if self.ok {
            self.text.lines().next().unwrap_or("done").to_string()
        } else {
            format!("refused: {}", self.text.trim_end())
        }
    }

    /// What goes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.text.len() + 8);
        v.extend_from_slice(if self.ok { b"ok\n" } else { b"error\n" });
        v.extend_from_slice(self.text.as_bytes());
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            v.push(b'\n');
        }
        v
    }

    /// Read what came off the wire.
    pub fn decode(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        match text.split_once('\n') {
            Some(("ok", rest)) => Answer::ok(rest),
            Some(("error", rest)) => Answer::error(rest),
            _ => Answer::error(format!("malformed answer: {}", text.trim_end())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_request() {
        assert_eq!(
            Request::parse("status\n"),
            Ok(Request::Status {
                json: false,
                full: false
            })
        );
        assert_eq!(
            Request::parse("status json"),
            Ok(Request::Status {
                json: true,
                full: false
            })
        );
        assert_eq!(
            Request::parse("drain web/server1 30"),
            Ok(Request::Drain {
                target: Target {
                    service: Some("web".into()),
                    server: "server1".into()
                },
                deadline: Some(30)
            })
        );
        assert_eq!(
            Request::parse("weight 10.0.0.2:80 5"),
            Ok(Request::Weight(
                Target {
                    service: None,
                    server: "10.0.0.2:80".into()
                },
                5
            ))
        );
        assert_eq!(
            Request::parse("disable-service web"),
            Ok(Request::DisableService("web".into()))
        );
    }

    #[test]
    fn refuses_bad_requests() {
        assert_eq!(Request::parse("  "), Err(RequestError::Empty));
        assert!(matches!(
            Request::parse("weight a 70000"),
            Err(RequestError::Number(..))
        ));
        assert!(matches!(
            Request::parse("drain a 0"),
            Err(RequestError::Number(..))
        ));
        assert!(matches!(
            Request::parse("drain a/b/c"),
            Err(RequestError::Target(_))
        ));
        assert!(matches!(
            Request::parse("drain /b"),
            Err(RequestError::Target(_))
        ));
        assert_eq!(Request::parse("drain a\u{1b}"), Err(RequestError::NotText));
        assert!(matches!(
            Request::parse("reboot"),
            Err(RequestError::Unknown(_))
        ));
        assert_eq!(
            Request::parse(&"x".repeat(MAX_REQUEST + 1)),
            Err(RequestError::TooLong)
        );
    }

    #[test]
    fn answers_round_trip() {
        for a in [
            Answer::ok("drained\n"),
            Answer::error("no such server"),
            Answer::ok(""),
        ] {
            let back = Answer::decode(&a.encode());
            assert_eq!(back.ok, a.ok);
            assert_eq!(back.text.trim_end(), a.text.trim_end());
        }
        assert!(!Answer::decode(b"garbage").ok);
    }
}
