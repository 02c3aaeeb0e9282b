//! How host names are resolved and the options of one parse (file name, resolver).

use std::net::{Ipv4Addr, ToSocketAddrs};

/// How host names (not literal addresses) in host fields are resolved.
#[derive(Clone, Copy, Debug, Default)]
pub enum Resolver {
    /// The system resolver (`/etc/hosts`, DNS), as Piranha's
    /// `gethostbyname`.
    #[default]
    System,
    /// Literal addresses only; a name is an error. For tests and fuzzing.
    None,
    /// A custom lookup.
    Custom(fn(&str) -> Option<Ipv4Addr>),
}

impl Resolver {
    pub(super) fn resolve(self, name: &str) -> Option<Ipv4Addr> {
        match self {
            Resolver::None => None,
            Resolver::Custom(f) => f(name),
            Resolver::System => {
                if !is_hostname(name) {
                    return None;
                }
                (name, 0u16)
                    .to_socket_addrs()
                    .ok()?
                    .find_map(|a| match a.ip() {
                        std::net::IpAddr::V4(v4) => Some(v4),
                        _ => None,
                    })
            }
        }
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
    use super::is_hostname;

    #[test]
    fn host_names() {
        assert!(is_hostname("web1.example.com"));
        assert!(is_hostname("web1.example.com."));
        assert!(!is_hostname("web1..example.com"));
        assert!(!is_hostname("."));
        assert!(!is_hostname("a b"));
    }
}
