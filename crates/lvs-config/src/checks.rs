//! Extension (issue 9): health checks beyond Piranha's send/expect.
//!
//! The keys are valid in a `virtual` block (for all its servers) and in a
//! `server` block (overriding the virtual block's value for that server).
//! A file without them means what it meant to Piranha: the check is
//! send/expect (or `send_program`), `timeout` is both the interval and the
//! I/O timeout, and `reentry` decides when a failed server comes back.
//! See lvs.cf(5), section "Extensions".

use std::fmt;

use crate::value::{Opt, QString, Seconds};

mod typed;
pub use typed::*;

/// `check =`: which health check nanny runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CheckKind {
    /// Piranha's send/expect (or send_program): the default.
    #[default]
    SendExpect,
    /// TCP connect.
    Tcp,
    /// HTTP GET.
    Http,
    /// HTTP GET over TLS.
    Https,
    /// SMTP banner, HELO, QUIT.
    Smtp,
    /// DNS query over UDP.
    Dns,
    /// An external program (keepalived's MISC_CHECK).
    Misc,
}

impl CheckKind {
    /// Every kind, as written in lvs.cf.
    pub const ALL: [(&'static str, CheckKind); 7] = [
        ("send_expect", CheckKind::SendExpect),
        ("tcp", CheckKind::Tcp),
        ("http", CheckKind::Http),
        ("https", CheckKind::Https),
        ("smtp", CheckKind::Smtp),
        ("dns", CheckKind::Dns),
        ("misc", CheckKind::Misc),
    ];

    /// The lvs.cf word (also nanny's `--check` value).
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("send_expect")
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// DNS query types `check_dns_type` accepts (keepalived's list).
pub const DNS_TYPES: [&str; 7] = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"];

/// The health-check keys of one block. Every field is `None` when the block
/// does not set the key; [`HealthCheck::merged`] applies a server block's
/// overrides to its virtual block's values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct HealthCheck {
    pub check: Opt<CheckKind>,
    /// HTTP(S) path, e.g. `/health`.
    pub check_path: Opt<String>,
    /// Accepted status codes: codes and ranges, e.g. `200-299 301`.
    pub check_status: Opt<String>,
    /// MD5 of the body, 32 lower-case hex digits.
    pub check_digest: Opt<String>,
    /// The Host header.
    pub check_virtualhost: Opt<String>,
    /// TLS server name (SNI).
    pub check_sni: Opt<String>,
    /// Verify the server certificate (default 0, as keepalived).
    pub check_verify: Opt<bool>,
    /// CA bundle (PEM) for `check_verify` (default: the system's).
    pub check_ca: Opt<String>,
    /// SMTP HELO name.
    pub check_helo: Opt<String>,
    /// DNS query name.
    pub check_dns_name: Opt<String>,
    /// DNS query type.
    pub check_dns_type: Opt<String>,
    /// misc: the program, `%h` and `%p` replaced.
    pub check_program: Opt<QString>,
    /// misc: exit 2-255 sets the weight to exit - 2.
    pub check_dynamic: Opt<bool>,
    /// I/O timeout of one check in seconds (default: `timeout`).
    pub check_timeout: Opt<u32>,
    /// Failed re-probes before an up server is declared down.
    pub retry: Opt<u32>,
    /// Seconds between those re-probes.
    pub retry_delay: Opt<Seconds>,
    /// Successful checks before a down server comes back (default: `reentry`).
    pub rise: Opt<u32>,
    /// The first check runs at a random time in [0, warmup] seconds.
    pub warmup: Opt<Seconds>,
}

/// The health-check keywords, in the order the writer prints them.
pub const HEALTH_KEYS: [&str; 18] = [
    "check",
    "check_path",
    "check_status",
    "check_digest",
    "check_virtualhost",
    "check_sni",
    "check_verify",
    "check_ca",
    "check_helo",
    "check_dns_name",
    "check_dns_type",
    "check_program",
    "check_dynamic",
    "check_timeout",
    "retry",
    "retry_delay",
    "rise",
    "warmup",
];

impl HealthCheck {
    /// True when no key is set (a Piranha block).
    pub fn is_empty(&self) -> bool {
        *self == HealthCheck::default()
    }

    /// `self` (a virtual block's keys) with `over` (a server block's)
    /// taking precedence key by key.
    pub fn merged(&self, over: &HealthCheck) -> HealthCheck {
        fn m<T: Clone>(a: &Opt<T>, b: &Opt<T>) -> Opt<T> {
            b.clone().or_else(|| a.clone())
        }
        HealthCheck {
            check: m(&self.check, &over.check),
            check_path: m(&self.check_path, &over.check_path),
            check_status: m(&self.check_status, &over.check_status),
            check_digest: m(&self.check_digest, &over.check_digest),
            check_virtualhost: m(&self.check_virtualhost, &over.check_virtualhost),
            check_sni: m(&self.check_sni, &over.check_sni),
            check_verify: m(&self.check_verify, &over.check_verify),
            check_ca: m(&self.check_ca, &over.check_ca),
            check_helo: m(&self.check_helo, &over.check_helo),
            check_dns_name: m(&self.check_dns_name, &over.check_dns_name),
            check_dns_type: m(&self.check_dns_type, &over.check_dns_type),
            check_program: m(&self.check_program, &over.check_program),
            check_dynamic: m(&self.check_dynamic, &over.check_dynamic),
            check_timeout: m(&self.check_timeout, &over.check_timeout),
            retry: m(&self.retry, &over.retry),
            retry_delay: m(&self.retry_delay, &over.retry_delay),
            rise: m(&self.rise, &over.rise),
            warmup: m(&self.warmup, &over.warmup),
        }
    }

    /// The check kind (default send_expect).
    pub fn kind(&self) -> CheckKind {
        self.check.as_ref().map(|c| c.value).unwrap_or_default()
    }

    /// The words of the check keys this block sets (a server's block merged
    /// with its virtual block's first: [`HealthCheck::merged`]).
    pub fn words(&self) -> CheckWords<'_> {
        fn w<T>(o: &Opt<T>, f: impl Fn(&T) -> &str) -> Option<&str> {
            o.as_ref().map(|x| f(&x.value))
        }
        let s = |o| w(o, String::as_str);
        CheckWords {
            check: w(&self.check, |k| k.as_str()),
            path: s(&self.check_path),
            status: s(&self.check_status),
            digest: s(&self.check_digest),
            vhost: s(&self.check_virtualhost),
            sni: s(&self.check_sni),
            verify: self.check_verify.as_ref().is_some_and(|v| v.value),
            ca: s(&self.check_ca),
            helo: s(&self.check_helo),
            dns_name: s(&self.check_dns_name),
            dns_type: s(&self.check_dns_type),
            program: w(&self.check_program, |q| q.text.as_str()),
            dynamic: self.check_dynamic.as_ref().is_some_and(|v| v.value),
        }
    }

    /// The typed check these keys describe (`None`: send/expect), as nanny
    /// validates it from the options lvs passes it. The parser has checked
    /// each key; what is left to fail is the block as a whole (`check =
    /// misc` without `check_program`).
    pub fn to_check(&self) -> Result<Option<Check>, BadCheck> {
        self.words().check()
    }

    /// The keys a block sets, as (keyword, value text) in writer order.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        fn s<T>(o: &Opt<T>, f: impl Fn(&T) -> String) -> Option<String> {
            o.as_ref().map(|x| f(&x.value))
        }
        let b = |v: &bool| if *v { "1".to_string() } else { "0".to_string() };
        let vals: [Option<String>; 18] = [
            s(&self.check, |k| k.as_str().to_string()),
            s(&self.check_path, Clone::clone),
            s(&self.check_status, Clone::clone),
            s(&self.check_digest, Clone::clone),
            s(&self.check_virtualhost, Clone::clone),
            s(&self.check_sni, Clone::clone),
            s(&self.check_verify, b),
            s(&self.check_ca, Clone::clone),
            s(&self.check_helo, Clone::clone),
            s(&self.check_dns_name, Clone::clone),
            s(&self.check_dns_type, Clone::clone),
            s(&self.check_program, |q| q.text.clone()),
            s(&self.check_dynamic, b),
            s(&self.check_timeout, u32::to_string),
            s(&self.retry, u32::to_string),
            s(&self.retry_delay, Seconds::to_string),
            s(&self.rise, u32::to_string),
            s(&self.warmup, Seconds::to_string),
        ];
        HEALTH_KEYS
            .iter()
            .zip(vals)
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect()
    }
}

/// Why a `check_status` value is not a status list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadStatusList {
    /// Nothing but blanks and commas.
    #[error("expected at least one status code")]
    Empty,
    /// A word that is not a code 100-999 or an ascending range of them.
    #[error("`{0}` is not a status code (100-999) or a range such as 200-299")]
    Word(String),
}

/// Parse a `check_status` value: codes 100-999 and ranges `A-B`, separated
/// by blanks or commas. Returns the inclusive ranges.
pub fn parse_status_list(s: &str) -> Result<Vec<(u16, u16)>, BadStatusList> {
    let mut out = Vec::new();
    for w in s.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        let bad = || BadStatusList::Word(w.to_string());
        let code = |t: &str| match t.parse::<u16>() {
            Ok(c) if (100..=999).contains(&c) => Ok(c),
            _ => Err(bad()),
        };
        let r = match w.split_once('-') {
            Some((a, b)) => (code(a)?, code(b)?),
            None => {
                let c = code(w)?;
                (c, c)
            }
        };
        if r.0 > r.1 {
            return Err(bad());
        }
        out.push(r);
    }
    if out.is_empty() {
        return Err(BadStatusList::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Spanned;

    #[test]
    fn status_lists() {
        assert_eq!(parse_status_list("200-299"), Ok(vec![(200, 299)]));
        assert_eq!(
            parse_status_list("200, 301 400-404"),
            Ok(vec![(200, 200), (301, 301), (400, 404)])
        );
        assert_eq!(
            parse_status_list("299-200"),
            Err(BadStatusList::Word("299-200".into()))
        );
        assert_eq!(
            parse_status_list("2000"),
            Err(BadStatusList::Word("2000".into()))
        );
        assert_eq!(parse_status_list(""), Err(BadStatusList::Empty));
    }

    #[test]
    fn server_keys_override_virtual_keys() {
        let v = HealthCheck {
            check: Some(Spanned::new(CheckKind::Http)),
            retry: Some(Spanned::new(3)),
            ..Default::default()
        };
        let s = HealthCheck {
            retry: Some(Spanned::new(1)),
            ..Default::default()
        };
        let m = v.merged(&s);
        assert_eq!(m.kind(), CheckKind::Http);
        assert_eq!(m.retry.unwrap().value, 1);
        assert!(HealthCheck::default().is_empty());
    }
}
