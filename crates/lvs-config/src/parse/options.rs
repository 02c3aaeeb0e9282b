//! How host names are resolved and the options of one parse (file name, resolver).

use std::net::{IpAddr, ToSocketAddrs};

use crate::value::Family;

/// How host names (not literal addresses) in host fields are resolved.
#[derive(Clone, Copy, Debug, Default)]
pub enum Resolver {
    /// The system resolver (`/etc/hosts`, DNS), as Piranha's
    /// `gethostbyname`.
    #[default]
    System,
    /// Literal addresses only; a name is an error. For tests and fuzzing.
    None,
    /// A custom lookup: the name, and the family the field needs when
    /// the file fixes it.
    Custom(fn(&str, Option<Family>) -> Option<IpAddr>),
}

impl Resolver {
    /// `name`'s address: of family `want` when the field needs one (a real
    /// server of an IPv6 service), else IPv4 first as Piranha's
    /// `gethostbyname`, and an IPv6 one for a name that has only that.
    pub(super) fn resolve(self, name: &str, want: Option<Family>) -> Option<IpAddr> {
        match self {
            Resolver::None => None,
            Resolver::Custom(f) => f(name, want),
            Resolver::System => {
                if !is_hostname(name) {
                    return None;
                }
                let all: Vec<IpAddr> = (name, 0u16)
                    .to_socket_addrs()
                    .ok()?
                    .map(|a| a.ip())
                    .collect();
                pick(&all, want)
            }
        }
    }
}

/// The address of `all` a field takes (see [`Resolver::resolve`]).
fn pick(all: &[IpAddr], want: Option<Family>) -> Option<IpAddr> {
    match want {
        Some(f) => all.iter().find(|a| Family::of(a) == f).copied(),
        None => all
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| all.first())
            .copied(),
    }
}

/// A host name the resolver may be asked about; an absolute name (one
/// trailing dot, `web1.example.com.`) counts, as gethostbyname took it.
pub(super) fn is_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Options for a parse.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    /// File name used in diagnostics.
    pub file: String,
    /// How host names resolve.
    pub resolver: Resolver,
}

impl ParseOptions {
    /// Options naming `file`, with the system resolver.
    pub fn for_file(file: impl Into<String>) -> Self {
        ParseOptions {
            file: file.into(),
            resolver: Resolver::System,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_resolves_in_the_family_the_field_needs() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(pick(&[v6, v4], None), Some(v4), "IPv4 first");
        assert_eq!(pick(&[v6], None), Some(v6));
        assert_eq!(pick(&[v4, v6], Some(Family::Inet6)), Some(v6));
        assert_eq!(pick(&[v4], Some(Family::Inet6)), None);
    }

    #[test]
    fn host_names() {
        assert!(is_hostname("web1.example.com"));
        assert!(is_hostname("web1.example.com."));
        assert!(!is_hostname("web1..example.com"));
        assert!(!is_hostname("."));
        assert!(!is_hostname("a b"));
    }
}
