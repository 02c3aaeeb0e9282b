//! The one typed health check (issue 19): what lvs.cf's health-check keys
//! and nanny's long options both describe, validated by the same code.
//!
//! [`CheckWords`] are the words as given (lvs.cf's values, or nanny's
//! `--check`, `--http-path`... options); [`CheckWords::check`] applies the
//! defaults and the rules and yields a [`Check`], or `None` for Piranha's
//! send/expect. [`HealthCheck::to_check`](super::HealthCheck::to_check)
//! does it for an lvs.cf block; nanny does it for its command line. The
//! rules on single values ([`is_url_path`], [`md5_hex`], [`dns_type`],
//! [`parse_status_list`]) are also what the lvs.cf parser checks each key
//! with.

use super::{parse_status_list, BadStatusList, CheckKind, DNS_TYPES};

/// TLS settings of an https check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// Server name sent as SNI (and verified against); `None`: no SNI.
    pub sni: Option<String>,
    /// Verify the certificate chain and name.
    pub verify: bool,
    /// PEM CA bundle for verification (default: the system's roots).
    pub ca: Option<String>,
}

/// A validated health check beyond Piranha's send/expect, without the
/// address it is run against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// `tcp`: connect only.
    Tcp,
    /// `http`, or `https` when `tls` is set: a GET.
    Http {
        /// TLS settings, for https.
        tls: Option<Tls>,
        /// URL path.
        path: String,
        /// Host header (default: the server's address).
        vhost: Option<String>,
        /// Accepted status codes, as inclusive ranges.
        status: Vec<(u16, u16)>,
        /// Expected MD5 of the body, lower-case hex.
        digest: Option<String>,
    },
    /// `smtp`: banner, HELO, QUIT.
    Smtp {
        /// HELO name.
        helo: String,
    },
    /// `dns`: one query over UDP.
    Dns {
        /// Query name.
        name: String,
        /// Query type, upper case, one of [`DNS_TYPES`].
        qtype: String,
    },
    /// `misc`: an external program.
    Misc {
        /// The command line (words split on spaces, `%h` and `%p` replaced
        /// when it runs).
        command: String,
        /// Exit 2-255 sets the weight to exit - 2.
        dynamic: bool,
    },
}

impl Check {
    /// The check's kind.
    pub fn kind(&self) -> CheckKind {
        match self {
            Check::Tcp => CheckKind::Tcp,
            Check::Http { tls: Some(_), .. } => CheckKind::Https,
            Check::Http { .. } => CheckKind::Http,
            Check::Smtp { .. } => CheckKind::Smtp,
            Check::Dns { .. } => CheckKind::Dns,
            Check::Misc { .. } => CheckKind::Misc,
        }
    }

    /// The check's name (lvs.cf's `check` value, nanny's `--check`, and
    /// the name in nanny's log lines).
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// The words that describe a check, as given: lvs.cf's keys or nanny's
/// long options. `None` (or `false`) where a word is not given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckWords<'a> {
    /// `check` / `--check` (default `send_expect`).
    pub check: Option<&'a str>,
    /// `check_path` / `--http-path` (default `/`).
    pub path: Option<&'a str>,
    /// `check_status` / `--http-status` (default `200-299`).
    pub status: Option<&'a str>,
    /// `check_digest` / `--http-digest`.
    pub digest: Option<&'a str>,
    /// `check_virtualhost` / `--http-virtualhost`.
    pub vhost: Option<&'a str>,
    /// `check_sni` / `--tls-sni` (default: the virtual host).
    pub sni: Option<&'a str>,
    /// `check_verify` / `--tls-verify`.
    pub verify: bool,
    /// `check_ca` / `--tls-ca`.
    pub ca: Option<&'a str>,
    /// `check_helo` / `--smtp-helo` (default `localhost`).
    pub helo: Option<&'a str>,
    /// `check_dns_name` / `--dns-name` (default `.`).
    pub dns_name: Option<&'a str>,
    /// `check_dns_type` / `--dns-type` (default `SOA`).
    pub dns_type: Option<&'a str>,
    /// `check_program` / `--misc-program`.
    pub program: Option<&'a str>,
    /// `check_dynamic` / `--misc-dynamic`.
    pub dynamic: bool,
}

/// Why the words do not make a check. Only the words the kind uses are
/// checked, in the order of [`CheckWords::check`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadCheck {
    /// Not one of [`CheckKind::ALL`].
    #[error("`{0}` is not a check kind")]
    Kind(String),
    /// Not a URL path ([`is_url_path`]).
    #[error("`{0}` is not a URL path")]
    Path(String),
    /// Not a status list ([`parse_status_list`]).
    #[error("`{0}`: {1}")]
    Status(String, BadStatusList),
    /// Not an MD5 digest ([`md5_hex`]).
    #[error("`{0}` is not an MD5 digest (32 hex digits)")]
    Digest(String),
    /// A query type not in [`DNS_TYPES`].
    #[error("`{qtype}` is not a query type this check knows")]
    DnsType {
        /// The query name (default `.`).
        name: String,
        /// The query type, upper-cased.
        qtype: String,
    },
    /// `misc` without a program (or with a blank one).
    #[error("a misc check needs a program")]
    NoProgram,
}

/// A URL path: starts with `/`, no blanks or control characters.
pub fn is_url_path(s: &str) -> bool {
    s.starts_with('/') && !s.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// An MD5 digest (32 hex digits), lower-cased; `None` if `s` is not one.
pub fn md5_hex(s: &str) -> Option<String> {
    (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// The query type `s` names (any case), as in [`DNS_TYPES`].
pub fn dns_type(s: &str) -> Option<&'static str> {
    DNS_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(s))
        .copied()
}

impl CheckKind {
    /// The kind a word names (exactly as in [`CheckKind::ALL`]).
    pub fn from_word(w: &str) -> Option<CheckKind> {
        Self::ALL.iter().find(|(n, _)| *n == w).map(|(_, k)| *k)
    }
}

impl CheckWords<'_> {
    /// The check these words describe, defaults applied, or `None` for
    /// send/expect.
    pub fn check(&self) -> Result<Option<Check>, BadCheck> {
        let word = self.check.unwrap_or("send_expect");
        let kind = CheckKind::from_word(word).ok_or_else(|| BadCheck::Kind(word.to_string()))?;
        let own = |s: Option<&str>| s.map(str::to_string);
        Ok(Some(match kind {
            CheckKind::SendExpect => return Ok(None),
            CheckKind::Tcp => Check::Tcp,
            CheckKind::Http | CheckKind::Https => {
                let path = self.path.unwrap_or("/");
                if !is_url_path(path) {
                    return Err(BadCheck::Path(path.to_string()));
                }
                let status = match self.status {
                    None => vec![(200, 299)],
                    Some(s) => {
                        parse_status_list(s).map_err(|e| BadCheck::Status(s.to_string(), e))?
                    }
                };
                let digest = match self.digest {
                    None => None,
                    Some(d) => Some(md5_hex(d).ok_or_else(|| BadCheck::Digest(d.to_string()))?),
                };
                Check::Http {
                    tls: (kind == CheckKind::Https).then(|| Tls {
                        sni: own(self.sni.or(self.vhost)),
                        verify: self.verify,
                        ca: own(self.ca),
                    }),
                    path: path.to_string(),
                    vhost: own(self.vhost),
                    status,
                    digest,
                }
            }
            CheckKind::Smtp => Check::Smtp {
                helo: self.helo.unwrap_or("localhost").to_string(),
            },
            CheckKind::Dns => {
                let name = self.dns_name.unwrap_or(".").to_string();
                let qtype = self.dns_type.unwrap_or("SOA");
                match dns_type(qtype) {
                    Some(t) => Check::Dns {
                        name,
                        qtype: t.to_string(),
                    },
                    None => {
                        return Err(BadCheck::DnsType {
                            name,
                            qtype: qtype.to_ascii_uppercase(),
                        })
                    }
                }
            }
            CheckKind::Misc => Check::Misc {
                command: self
                    .program
                    .filter(|c| !c.trim().is_empty())
                    .ok_or(BadCheck::NoProgram)?
                    .to_string(),
                dynamic: self.dynamic,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_make_a_check_or_name_the_bad_word() {
        let w = |check| CheckWords {
            check: Some(check),
            ..Default::default()
        };
        assert_eq!(CheckWords::default().check(), Ok(None));
        assert_eq!(w("send_expect").check(), Ok(None));
        assert_eq!(w("tcp").check(), Ok(Some(Check::Tcp)));
        assert_eq!(w("icmp").check(), Err(BadCheck::Kind("icmp".into())));
        assert_eq!(w("HTTP").check(), Err(BadCheck::Kind("HTTP".into())));
        // Only the words of the kind are checked, path before status.
        let bad = CheckWords {
            path: Some("health"),
            status: Some("2000"),
            digest: Some("abc"),
            dns_type: Some("PTR"),
            ..w("smtp")
        };
        assert_eq!(
            bad.check(),
            Ok(Some(Check::Smtp {
                helo: "localhost".into()
            }))
        );
        let http = CheckWords {
            check: Some("http"),
            ..bad
        };
        assert_eq!(http.check(), Err(BadCheck::Path("health".into())));
        let http = CheckWords { path: None, ..http };
        assert_eq!(
            http.check(),
            Err(BadCheck::Status(
                "2000".into(),
                BadStatusList::Word("2000".into())
            ))
        );
        let http = CheckWords {
            status: Some("200,301"),
            ..http
        };
        assert_eq!(http.check(), Err(BadCheck::Digest("abc".into())));
        let dns = CheckWords {
            dns_name: Some("example.com"),
            ..w("dns")
        };
        assert_eq!(
            CheckWords {
                dns_type: Some("ptr"),
                ..dns
            }
            .check(),
            Err(BadCheck::DnsType {
                name: "example.com".into(),
                qtype: "PTR".into()
            })
        );
        assert_eq!(
            CheckWords {
                dns_type: Some("aaaa"),
                ..dns
            }
            .check()
            .map(|c| c.map(|c| c.name())),
            Ok(Some("dns"))
        );
        for program in [None, Some(""), Some("   ")] {
            let misc = CheckWords {
                program,
                ..w("misc")
            };
            assert_eq!(misc.check(), Err(BadCheck::NoProgram));
        }
    }

    #[test]
    fn the_kind_of_a_check_is_its_name() {
        let https = CheckWords {
            check: Some("https"),
            ..Default::default()
        };
        let c = https.check().unwrap().unwrap();
        assert_eq!((c.kind(), c.name()), (CheckKind::Https, "https"));
        for (word, kind) in CheckKind::ALL {
            assert_eq!(CheckKind::from_word(word), Some(kind));
        }
    }
}
