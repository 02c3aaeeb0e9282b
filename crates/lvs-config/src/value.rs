//! Scalar value parsers with Piranha's meaning: C `strtol(.., 0)` integers
//! (hex `0x..`, octal leading `0`), `inet_aton` addresses, the address
//! literals lvs.cf takes (IPv6 too), dotted masks, service names for
//! ports; and the typed values a keyword holds (a value with its span,
//! quoted strings, seconds).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use crate::diag::{ErrorKind, Span};

/// How an integer was written, so a trap (octal) can be warned about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Radix {
    /// Plain decimal.
    Decimal,
    /// `0x..`
    Hex,
    /// Leading `0`: C reads it as octal, so `010` is 8.
    Octal,
}

/// Why an integer did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntError {
    /// Not a number at all, or trailing garbage.
    NotANumber,
    /// A leading `0` with an 8 or 9 in it (`08`): C reads octal and stops.
    BadOctal,
    /// Does not fit a C `int`.
    OutOfRange,
}

/// The sign, magnitude (saturated past `u64::MAX`) and radix of a C
/// integer as `strtol(tok, &end, 0)` with `*end == 0` reads it.
fn c_digits(tok: &str) -> Result<(bool, u128, Radix), IntError> {
    let (neg, body) = match tok.as_bytes().first() {
        Some(b'-') => (true, &tok[1..]),
        Some(b'+') => (false, &tok[1..]),
        _ => (false, tok),
    };
    let (radix, digits, r) =
        if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, h, Radix::Hex)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..], Radix::Octal)
        } else {
            (10, body, Radix::Decimal)
        };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(IntError::NotANumber);
    }
    let mut v: u128 = 0;
    for b in digits.bytes() {
        let d = match (b as char).to_digit(radix) {
            Some(d) => u128::from(d),
            None if radix == 8 && b.is_ascii_digit() => return Err(IntError::BadOctal),
            None => return Err(IntError::NotANumber),
        };
        v = (v * u128::from(radix) + d).min(u128::from(u64::MAX) + 1);
    }
    Ok((neg, v, r))
}

/// Parse an integer as C `strtol(tok, &end, 0)` with `*end == 0` does,
/// refusing values that do not fit a 32-bit `int` (Piranha silently wrapped:
/// see [`wrap_c_int`]).
pub fn parse_c_int(tok: &str) -> Result<(i64, Radix), IntError> {
    let (neg, mag, r) = c_digits(tok)?;
    if mag > u128::from(u32::MAX) {
        return Err(IntError::OutOfRange);
    }
    let v = if neg { -(mag as i64) } else { mag as i64 };
    if v < i32::MIN as i64 {
        return Err(IntError::OutOfRange);
    }
    Ok((v, r))
}

/// What Piranha stored for an integer keyword it read with `atoi` into an
/// `int`: `strtol` (saturating at the 64-bit `long` range) cast to 32 bits,
/// so `4294967297` is 1 and `-1` is -1.
pub fn wrap_c_int(tok: &str) -> Result<(i32, Radix), IntError> {
    let (neg, mag, r) = c_digits(tok)?;
    let long: i64 = if neg {
        i64::try_from(mag).map(|m| -m).unwrap_or(i64::MIN)
    } else {
        i64::try_from(mag).unwrap_or(i64::MAX)
    };
    Ok((long as i32, r))
}

/// Parse a number of seconds: a C integer, or (our extension) a decimal
/// fraction such as `0.2`. Returns milliseconds.
pub fn parse_seconds(tok: &str) -> Result<(u64, Radix), IntError> {
    if let Some((whole, frac)) = tok.split_once('.') {
        if whole.is_empty() && frac.is_empty() {
            return Err(IntError::NotANumber);
        }
        if !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 3
        {
            return Err(IntError::NotANumber);
        }
        let w: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| IntError::OutOfRange)?
        };
        let mut f: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| IntError::NotANumber)?
        };
        for _ in frac.len()..3 {
            f *= 10;
        }
        let ms = w
            .checked_mul(1000)
            .and_then(|m| m.checked_add(f))
            .ok_or(IntError::OutOfRange)?;
        return Ok((ms, Radix::Decimal));
    }
    let (v, r) = parse_c_int(tok)?;
    if v < 0 {
        return Err(IntError::OutOfRange);
    }
    Ok((v as u64 * 1000, r))
}

/// How an IPv4 address was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrForm {
    /// Four decimal octets: the only form we write.
    Dotted,
    /// Fewer than four parts, hex or octal parts: accepted by `inet_aton`.
    Shorthand,
}

/// Parse an IPv4 address as glibc `inet_aton` does: 1 to 4 parts, each in C
/// integer syntax, the last part filling the remaining bytes.
pub fn inet_aton(tok: &str) -> Option<(Ipv4Addr, AddrForm)> {
    if tok.is_empty() || tok.ends_with('.') {
        return None;
    }
    let parts: Vec<&str> = tok.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(4);
    let mut plain = parts.len() == 4;
    for p in &parts {
        if p.is_empty() || p.starts_with(['-', '+']) {
            return None;
        }
        let (v, radix) = parse_c_int(p).ok()?;
        if v < 0 {
            return None;
        }
        if radix != Radix::Decimal {
            plain = false;
        }
        vals.push(v as u64);
    }
    let n = vals.len();
    let mut addr: u64 = 0;
    for (i, v) in vals.iter().enumerate() {
        if i + 1 < n {
            if *v > 255 {
                return None;
            }
            addr |= v << (8 * (3 - i));
        } else {
            let bits = 8 * (4 - i);
            if bits < 64 && *v >= (1u64 << bits) {
                return None;
            }
            addr |= v;
        }
    }
    let form = if plain {
        AddrForm::Dotted
    } else {
        AddrForm::Shorthand
    };
    Some((Ipv4Addr::from(addr as u32), form))
}

/// True if `m` is a contiguous netmask (ones then zeros).
pub fn is_contiguous_mask(m: Ipv4Addr) -> bool {
    let v = u32::from(m);
    v.leading_ones() + v.trailing_zeros() == 32
}

/// An address family: what an address, a service or a mask belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Family {
    /// IPv4 (Piranha's only family, and the default).
    #[default]
    Inet,
    /// IPv6.
    Inet6,
}

impl Family {
    /// The family of `addr`.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }
    /// The unspecified address of the family (`0.0.0.0` or `::`): lvs.cf's
    /// "unset".
    pub fn unspecified(self) -> IpAddr {
        match self {
            Family::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }
    /// The longest prefix of the family (32 or 128).
    pub fn max_prefix(self) -> u8 {
        match self {
            Family::Inet => 32,
            Family::Inet6 => 128,
        }
    }
    /// `IPv4` or `IPv6`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Family::Inet => "IPv4",
            Family::Inet6 => "IPv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A netmask keyword's value (`vip_nmask`, `nat_nmask`, `pmask`): a dotted
/// IPv4 mask as Piranha wrote it, or a prefix length `/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mask {
    /// `255.255.255.0` (any `inet_aton` form; `0.0.0.0` means unset).
    Dotted(Ipv4Addr),
    /// `/24`, `/64`.
    Prefix(u8),
}

impl Mask {
    /// `0.0.0.0`: the keyword's "unset".
    pub fn is_unset(&self) -> bool {
        matches!(self, Mask::Dotted(m) if m.is_unspecified())
    }
    /// The prefix length, when the mask is contiguous.
    pub fn prefix_len(&self) -> Option<u8> {
        match *self {
            Mask::Prefix(n) => Some(n),
            Mask::Dotted(m) => is_contiguous_mask(m).then(|| u32::from(m).leading_ones() as u8),
        }
    }
    /// The dotted IPv4 form (a prefix up to 32 is converted; `None` above).
    pub fn as_ipv4(&self) -> Option<Ipv4Addr> {
        match *self {
            Mask::Dotted(m) => Some(m),
            Mask::Prefix(n) if n <= 32 => Some(Ipv4Addr::from(
                u32::MAX.checked_shl(32 - u32::from(n)).unwrap_or(0),
            )),
            Mask::Prefix(_) => None,
        }
    }
}

impl fmt::Display for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mask::Dotted(m) => write!(f, "{m}"),
            Mask::Prefix(n) => write!(f, "/{n}"),
        }
    }
}

/// Why lvs.cf refuses an address literal: Piranha's error category, what
/// is wrong and what to write instead, as the parser reports it on an
/// address field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Piranha's category.
    pub kind: ErrorKind,
    /// What is wrong, in words.
    pub detail: String,
    /// What to write instead.
    pub hint: Option<String>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)?;
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

/// An address literal as lvs.cf's address fields read one (`primary`,
/// `backup`, `address`, `nat_router`, `sorry_server`, ...): IPv4 in any
/// `inet_aton` form, as Piranha read it, or IPv6 without brackets.
/// Refused, with the parser's category, detail and hint: brackets (the
/// port is a keyword of its own), a zone, and the IPv6 addresses a
/// director cannot use (link-local, IPv4-mapped, multicast). `Ok(None)`
/// for a token that is no literal at all (a host name, or garbage), which
/// each field judges on its own. Whether the unspecified address (lvs.cf's
/// "unset") is allowed, and the address-family rules, depend on the field
/// and the rest of the file: the parser checks them.
pub fn address_literal(tok: &str) -> Result<Option<IpAddr>, Refusal> {
    if let Some((a, _)) = inet_aton(tok) {
        return Ok(Some(IpAddr::V4(a)));
    }
    if let Ok(v6) = tok.parse::<Ipv6Addr>() {
        let why = if v6.segments()[0] & 0xffc0 == 0xfe80 {
            Some((
                "is link-local: it needs a zone, which IPVS cannot take",
                "use a global or unique-local (fd00::/8) address".to_string(),
            ))
        } else if let Some(v4) = v6.to_ipv4_mapped() {
            Some((
                "is an IPv4-mapped IPv6 address",
                format!("write the IPv4 address {v4}"),
            ))
        } else if v6.is_multicast() {
            Some((
                "is a multicast address",
                "write a unicast address".to_string(),
            ))
        } else {
            None
        };
        return match why {
            None => Ok(Some(IpAddr::V6(v6))),
            Some((what, hint)) => Err(Refusal {
                kind: ErrorKind::InvalidHost,
                detail: format!("`{tok}` {what}"),
                hint: Some(hint),
            }),
        };
    }
    if tok.starts_with('[') {
        let inner = tok.trim_start_matches('[');
        let inner = inner.split(']').next().unwrap_or(inner);
        return Err(Refusal {
            kind: ErrorKind::InvalidArgument,
            detail: format!("`{tok}`: lvs.cf takes an IPv6 address without brackets"),
            hint: Some(format!(
                "write `{inner}`; a port goes in the `port` keyword"
            )),
        });
    }
    if tok.contains('%') && tok.contains(':') {
        return Err(Refusal {
            kind: ErrorKind::InvalidHost,
            detail: format!("`{tok}`: an address with a zone is not supported"),
            hint: Some("use a global or unique-local IPv6 address".into()),
        });
    }
    Ok(None)
}

/// Parse a boolean as Piranha did: a C integer that is 0 or 1.
pub fn parse_bool(tok: &str) -> Option<bool> {
    match parse_c_int(tok) {
        Ok((0, _)) => Some(false),
        Ok((1, _)) => Some(true),
        _ => None,
    }
}

static SERVICES_LOCK: Mutex<()> = Mutex::new(());

/// Look a service name up in the services database (`/etc/services`),
/// protocol tcp, as Piranha's `getservbyname(name, "tcp")`.
pub fn service_port(name: &str) -> Option<u16> {
    if name.is_empty() || name.len() > 64 || name.bytes().any(|b| b == 0) {
        return None;
    }
    let cname = std::ffi::CString::new(name).ok()?;
    let proto = c"tcp";
    let _guard = SERVICES_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: both pointers are valid NUL-terminated strings for the call;
    // getservbyname returns a pointer to static storage that we read before
    // releasing the lock, which serialises every caller in this crate.
    unsafe {
        let ent = libc::getservbyname(cname.as_ptr(), proto.as_ptr());
        if ent.is_null() {
            None
        } else {
            Some(u16::from_be((*ent).s_port as u16))
        }
    }
}

// ------------------------------------------------ typed keyword values

/// A value and where it was written (no span for values built in code).
#[derive(Clone, Debug, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where the value's token(s) are in the source, if it came from one.
    pub span: Option<Span>,
}

impl<T> Spanned<T> {
    /// A value with no source position.
    pub fn new(value: T) -> Self {
        Spanned { value, span: None }
    }

    /// A value read at `span`.
    pub fn at(value: T, span: Span) -> Self {
        Spanned {
            value,
            span: Some(span),
        }
    }

    /// The same span around `f(value)`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
        }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Spanned<T> {}

/// An optional keyword value.
pub type Opt<T> = Option<Spanned<T>>;

/// The quote a string value was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quote {
    /// `"..."`
    Double,
    /// `'...'`: Piranha passes the quotes on to nanny.
    Single,
}

impl Quote {
    /// The quote character.
    pub fn char(self) -> char {
        match self {
            Quote::Double => '"',
            Quote::Single => '\'',
        }
    }
}

/// A string value that keeps how it was quoted (`send`, `expect`,
/// `send_program`, `start_cmd`, `stop_cmd`). Backslash escapes are kept as
/// written; nanny translates them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QString {
    /// The text between the quotes (or the bare token).
    pub text: String,
    /// The quote used, if any.
    pub quote: Option<Quote>,
}

impl QString {
    /// A double-quoted string.
    pub fn quoted(text: impl Into<String>) -> Self {
        QString {
            text: text.into(),
            quote: Some(Quote::Double),
        }
    }

    /// The value as Piranha's lvsd handed it on: its `strip_quotes()` removes
    /// double quotes only, so a single-quoted value keeps its quotes.
    pub fn as_passed_to_nanny(&self) -> String {
        match self.quote {
            Some(Quote::Single) => format!("'{}'", self.text),
            _ => self.text.clone(),
        }
    }
}

/// A duration given in seconds in the file (integer, or a decimal fraction
/// as our extension), held in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(pub u64);

impl Seconds {
    /// Whole seconds.
    pub const fn secs(s: u64) -> Self {
        Seconds(s * 1000)
    }

    /// As a std duration.
    pub fn as_duration(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.0)
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 1000 == 0 {
            write!(f, "{}", self.0 / 1000)
        } else {
            let s = format!("{}.{:03}", self.0 / 1000, self.0 % 1000);
            f.write_str(s.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_integers() {
        assert_eq!(parse_c_int("42"), Ok((42, Radix::Decimal)));
        assert_eq!(parse_c_int("010"), Ok((8, Radix::Octal)));
        assert_eq!(parse_c_int("0x1F"), Ok((31, Radix::Hex)));
        assert_eq!(parse_c_int("0"), Ok((0, Radix::Decimal)));
        assert_eq!(parse_c_int("-1"), Ok((-1, Radix::Decimal)));
        assert_eq!(parse_c_int("08"), Err(IntError::BadOctal));
        assert_eq!(parse_c_int("0x"), Err(IntError::NotANumber));
        assert_eq!(parse_c_int("12a"), Err(IntError::NotANumber));
        assert_eq!(parse_c_int(""), Err(IntError::NotANumber));
        assert_eq!(parse_c_int("-"), Err(IntError::NotANumber));
        assert_eq!(parse_c_int("4294967297"), Err(IntError::OutOfRange));
        assert_eq!(
            parse_c_int("99999999999999999999999"),
            Err(IntError::OutOfRange)
        );
        // What Piranha's atoi stored in an int.
        assert_eq!(wrap_c_int("4294967297"), Ok((1, Radix::Decimal)));
        assert_eq!(
            wrap_c_int("99999999999"),
            Ok((1_215_752_191, Radix::Decimal))
        );
        assert_eq!(wrap_c_int("-1"), Ok((-1, Radix::Decimal)));
        assert_eq!(wrap_c_int("0x100000002"), Ok((2, Radix::Hex)));
        // strtol saturates at the long range before the cast.
        assert_eq!(
            wrap_c_int("99999999999999999999999"),
            Ok((-1, Radix::Decimal))
        );
        assert_eq!(
            wrap_c_int("-99999999999999999999999"),
            Ok((0, Radix::Decimal))
        );
        assert_eq!(wrap_c_int("12a"), Err(IntError::NotANumber));
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("2"), Ok((2000, Radix::Decimal)));
        assert_eq!(parse_seconds("0.2"), Ok((200, Radix::Decimal)));
        assert_eq!(parse_seconds(".5"), Ok((500, Radix::Decimal)));
        assert_eq!(parse_seconds("1.25"), Ok((1250, Radix::Decimal)));
        assert!(parse_seconds("1.2345").is_err());
        assert!(parse_seconds("a.b").is_err());
        assert!(parse_seconds("-1").is_err());
    }

    #[test]
    fn aton() {
        let a = |s: &str| inet_aton(s).map(|(a, f)| (a.to_string(), f));
        assert_eq!(
            a("192.168.1.10"),
            Some(("192.168.1.10".into(), AddrForm::Dotted))
        );
        assert_eq!(
            a("10.200"),
            Some(("10.0.0.200".into(), AddrForm::Shorthand))
        );
        assert_eq!(
            a("0xC0A80A02"),
            Some(("192.168.10.2".into(), AddrForm::Shorthand))
        );
        assert_eq!(
            a("010.0.0.1"),
            Some(("8.0.0.1".into(), AddrForm::Shorthand))
        );
        assert_eq!(a("1.2.3.256"), None);
        assert_eq!(a("1.2.3.4.5"), None);
        assert_eq!(a("1..3.4"), None);
        assert_eq!(a("1.2.3."), None);
        assert_eq!(a("eth0"), None);
        assert_eq!(a("127.1"), Some(("127.0.0.1".into(), AddrForm::Shorthand)));
    }

    #[test]
    fn booleans_and_masks() {
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("0x0"), Some(false));
        assert_eq!(parse_bool("2"), None);
        assert_eq!(parse_bool("yes"), None);
        assert!(is_contiguous_mask("255.255.255.0".parse().unwrap()));
        assert!(is_contiguous_mask("0.0.0.0".parse().unwrap()));
        assert!(!is_contiguous_mask("255.0.255.0".parse().unwrap()));
    }

    #[test]
    fn services() {
        if std::path::Path::new("/etc/services").exists() {
            assert_eq!(service_port("http"), Some(80));
        }
        assert_eq!(service_port("no-such-service-xyz"), None);
    }
}
