//! Value conversions with Piranha's meaning: C integers, booleans, seconds, hosts, masks, ports, strings, choices.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::reader::*;
use crate::config::*;
use crate::diag::ErrorKind;
use crate::lex::Tok;
use crate::value::{self, AddrForm, IntError, Radix};

impl<'o> P<'o> {
    // ---- value conversions ----

    /// A quoted number that is empty or starts with blanks (`""`, `" 1"`):
    /// Piranha's `atoi` read 0 and skipped the blanks, so do we, with a
    /// warning. Any other token is returned as it is.
    pub(super) fn numeric<'t>(&mut self, kw: &str, t: &Tok<'t>) -> Tok<'t> {
        if t.quote.is_none() || !(t.text.is_empty() || t.text.starts_with([' ', '\t'])) {
            return t.clone();
        }
        let trimmed = t.text.trim_start_matches([' ', '\t']);
        let (text, detail) = if trimmed.is_empty() {
            (
                "0",
                "an empty value is read as 0, as Piranha read it".to_string(),
            )
        } else {
            (
                trimmed,
                format!("the blanks before `{trimmed}` are skipped, as Piranha skipped them"),
            )
        };
        self.warn_reading(
            ErrorKind::IntegerExpected,
            t.span,
            kw,
            detail,
            Some("write the number without quotes".into()),
        );
        Tok { text, ..t.clone() }
    }

    pub(super) fn int(&mut self, kw: &str, t: &Tok<'_>, min: i64, max: i64) -> R<Spanned<i64>> {
        let t = &self.numeric(kw, t);
        match value::parse_c_int(t.text) {
            Ok((v, radix)) => {
                if v < min || v > max {
                    self.range_error = true;
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("{v} is out of range; expected {min} to {max}"),
                    );
                    if radix == Radix::Octal {
                        d.hint = Some(octal_hint(t.text));
                    }
                    return Err(d);
                }
                if radix == Radix::Octal && v != 0 {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!("`{}` has a leading 0 and is read as octal: {v}", t.text),
                        Some(octal_hint(t.text)),
                    );
                }
                Ok(Spanned::at(v, t.span))
            }
            Err(e) => {
                let mut d = self.err(
                    t,
                    match e {
                        IntError::OutOfRange => ErrorKind::InvalidArgument,
                        _ => ErrorKind::IntegerExpected,
                    },
                    kw,
                    match e {
                        IntError::NotANumber => format!("`{}` is not an integer", t.text),
                        IntError::BadOctal => format!(
                            "`{}` starts with 0, so it is octal, and octal has no 8 or 9",
                            t.text
                        ),
                        IntError::OutOfRange => format!("`{}` is too large", t.text),
                    },
                );
                if e == IntError::BadOctal {
                    d.hint = Some(octal_hint(t.text));
                }
                Err(d)
            }
        }
    }

    /// A value that does not fit a 32-bit int, read as Piranha's `atoi`
    /// wrapped it ([`value::wrap_c_int`]), with a warning; `None` when `t`
    /// fits (or is no number at all): the caller parses it as usual.
    pub(super) fn wrapped(&mut self, kw: &str, t: &Tok<'_>) -> Option<i32> {
        if value::parse_c_int(t.text) != Err(IntError::OutOfRange) {
            return None;
        }
        let (w, _) = value::wrap_c_int(t.text).ok()?;
        self.warn_reading(
            ErrorKind::InvalidArgument,
            t.span,
            kw,
            format!(
                "`{}` does not fit a 32-bit int: read as {w}, as Piranha's atoi wrapped it",
                t.text
            ),
            Some("write the value you mean".into()),
        );
        Some(w)
    }

    /// A C `int` keyword with no range of its own (`serial_no`,
    /// `monitor_links`, `syncd_id`): wrapped as Piranha wrapped it.
    pub(super) fn c_int(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<i64>> {
        let t = &self.numeric(kw, t);
        match self.wrapped(kw, t) {
            Some(w) => Ok(Spanned::at(i64::from(w), t.span)),
            None => self.int(kw, t, i32::MIN as i64, i32::MAX as i64),
        }
    }

    /// [`P::uint`] from 0 to `max`, where a negative number (which Piranha
    /// took) reads as `as_value`, with a warning saying `why`.
    pub(super) fn uint_or_negative(
        &mut self,
        kw: &str,
        t: &Tok<'_>,
        max: u32,
        as_value: u32,
        why: &str,
    ) -> R<Spanned<u32>> {
        if let Ok((v, _)) = value::parse_c_int(t.text) {
            if v < 0 {
                self.warn_at(
                    t.span,
                    Some(kw),
                    format!("{v} is negative: read as {as_value} ({why})"),
                    Some(format!("write a number from 0 to {max}")),
                );
                return Ok(Spanned::at(as_value, t.span));
            }
        }
        self.uint(kw, t, 0, max)
    }

    pub(super) fn uint(&mut self, kw: &str, t: &Tok<'_>, min: u32, max: u32) -> R<Spanned<u32>> {
        let v = self.int(kw, t, min as i64, max as i64)?;
        Ok(Spanned::at(v.value as u32, t.span))
    }

    /// `tcp_timeout`, `tcpfin_timeout`, `udp_timeout`: 0 to 31 days. Out
    /// of that range Piranha's `ipvsadm --set` failed as a whole and lvs
    /// carried on; the value is kept (a negative one as `u32::MAX`) so
    /// that lvs skips `--set` ([`crate::MAX_IPVS_TIMEOUT`]), with a warning.
    pub(super) fn timeout(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<u32>> {
        let t = &self.numeric(kw, t);
        match value::parse_c_int(t.text) {
            Ok((v, _)) if !(0..=i64::from(MAX_IPVS_TIMEOUT)).contains(&v) => {
                self.warn_reading(
                    ErrorKind::InvalidArgument,
                    t.span,
                    kw,
                    format!(
                        "{v} is out of range: lvs does not set the timeouts (ipvsadm --set), as Piranha's ipvsadm refused them"
                    ),
                    Some(format!("write a number of seconds from 0 to {MAX_IPVS_TIMEOUT}")),
                );
                Ok(Spanned::at(u32::try_from(v).unwrap_or(u32::MAX), t.span))
            }
            _ => self.uint(kw, t, 0, MAX_IPVS_TIMEOUT),
        }
    }

    pub(super) fn boolean(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<bool>> {
        let t = &self.numeric(kw, t);
        if let Ok((w @ (0 | 1), _)) = value::wrap_c_int(t.text) {
            if value::parse_bool(t.text).is_none() && self.wrapped(kw, t).is_some() {
                return Ok(Spanned::at(w == 1, t.span));
            }
        }
        match value::parse_bool(t.text) {
            Some(b) => Ok(Spanned::at(b, t.span)),
            None => {
                let mut d = self.err(
                    t,
                    ErrorKind::BooleanExpected,
                    kw,
                    format!("`{}` is not 0 or 1", t.text),
                );
                d.hint = Some("booleans are written 0 (off) or 1 (on)".into());
                Err(d)
            }
        }
    }

    pub(super) fn seconds(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<Seconds>> {
        let t = &self.numeric(kw, t);
        match value::parse_seconds(t.text) {
            Ok((ms, radix)) => {
                if radix == Radix::Octal && ms != 0 {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!(
                            "`{}` has a leading 0 and is read as octal: {}",
                            t.text,
                            ms / 1000
                        ),
                        Some(octal_hint(t.text)),
                    );
                }
                if ms == 0 {
                    self.range_error = true;
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        "must be more than 0 seconds".into(),
                    ));
                }
                Ok(Spanned::at(Seconds(ms), t.span))
            }
            Err(_) => Err(self.err(
                t,
                ErrorKind::IntegerExpected,
                kw,
                format!(
                    "`{}` is not a number of seconds (an integer, or a decimal such as 0.5)",
                    t.text
                ),
            )),
        }
    }

    pub(super) fn host(&mut self, kw: &str, t: &Tok<'_>, allow_zero: bool) -> R<Spanned<Host>> {
        self.host_in(kw, t, allow_zero, None)
    }

    /// A host field: an IPv4 address (any `inet_aton` form, as Piranha),
    /// an IPv6 literal, or a host name resolved in family `want` when the
    /// file fixes the field's family (IPv4 first otherwise).
    pub(super) fn host_in(
        &mut self,
        kw: &str,
        t: &Tok<'_>,
        allow_zero: bool,
        want: Option<Family>,
    ) -> R<Spanned<Host>> {
        let addr = match self.literal(kw, t)? {
            Some(a) => a,
            None => match self.opts.resolver.resolve(t.text, want) {
                Some(a) => {
                    self.usable(kw, t, a)?;
                    a
                }
                None => {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!(
                            "`{}` is not an IPv4 or IPv6 address or a host name that resolves{}",
                            t.text,
                            match want {
                                Some(f) => format!(" to an {f} address"),
                                None => String::new(),
                            }
                        ),
                    );
                    d.hint = Some("write an address such as 192.168.1.10 or 2001:db8::10".into());
                    return Err(d);
                }
            },
        };
        if !allow_zero && addr.is_unspecified() {
            return Err(self.err(
                t,
                ErrorKind::InvalidHost,
                kw,
                format!("{addr} is not a usable address"),
            ));
        }
        Ok(Spanned::at(
            Host {
                name: t.text.to_string(),
                addr,
            },
            t.span,
        ))
    }

    /// An address literal: IPv4 in any `inet_aton` form (shorthand warned
    /// of), or IPv6 without brackets; `None` for anything else (a name).
    /// The rules are [`value::address_literal`]'s (the GUI's too).
    pub(super) fn literal(&mut self, kw: &str, t: &Tok<'_>) -> R<Option<IpAddr>> {
        if let Some((a, AddrForm::Shorthand)) = value::inet_aton(t.text) {
            self.warn_at(
                t.span,
                Some(kw),
                format!("`{}` is read as {a} (inet_aton shorthand)", t.text),
                Some(format!("write {a}")),
            );
        }
        value::address_literal(t.text).map_err(|r| {
            let mut d = self.err(t, r.kind, kw, r.detail);
            d.hint = r.hint;
            d
        })
    }

    /// A name's address must be one lvs.cf would take written out.
    fn usable(&mut self, kw: &str, t: &Tok<'_>, a: IpAddr) -> R<()> {
        value::address_literal(&a.to_string())
            .map(|_| ())
            .map_err(|r| {
                let mut d = self.err(
                    t,
                    r.kind,
                    kw,
                    format!("`{}` resolves to {}", t.text, r.detail),
                );
                d.hint = r.hint;
                d
            })
    }

    /// `syncd_group`: a multicast address literal of either family.
    pub(super) fn group(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<IpAddr>> {
        let a = match value::inet_aton(t.text) {
            Some((a, _)) => Some(IpAddr::V4(a)),
            None => t.text.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        };
        match a {
            Some(a) if a.is_multicast() => Ok(Spanned::at(a, t.span)),
            _ => {
                let mut d = self.err(
                    t,
                    ErrorKind::InvalidArgument,
                    kw,
                    format!("`{}` is not a multicast address", t.text),
                );
                d.hint = Some("write e.g. 224.0.0.81 or ff02::8:81".into());
                Err(d)
            }
        }
    }

    /// `sorry_server`: an address literal (Piranha took a dotted address
    /// only: no name).
    pub(super) fn sorry(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<IpAddr>> {
        match self.literal(kw, t)? {
            Some(a) => Ok(Spanned::at(a, t.span)),
            None => Err(self.err(
                t,
                ErrorKind::InvalidHost,
                kw,
                format!(
                    "`{}` is not an address such as 10.0.0.99 or 2001:db8::99",
                    t.text
                ),
            )),
        }
    }

    pub(super) fn dotted(
        &mut self,
        kw: &str,
        t: &Tok<'_>,
        kind: ErrorKind,
    ) -> R<Spanned<Ipv4Addr>> {
        match value::inet_aton(t.text) {
            Some((a, form)) => {
                if form == AddrForm::Shorthand {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!("`{}` is read as {a} (inet_aton shorthand)", t.text),
                        Some(format!("write {a}")),
                    );
                }
                Ok(Spanned::at(a, t.span))
            }
            None => Err(self.err(
                t,
                kind,
                kw,
                format!("`{}` is not a dotted address such as 255.255.255.0", t.text),
            )),
        }
    }

    pub(super) fn mask(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<Mask>> {
        if let Some(n) = t.text.strip_prefix('/') {
            return match n.parse::<u8>() {
                Ok(n @ 1..=128) => Ok(Spanned::at(Mask::Prefix(n), t.span)),
                _ => {
                    let mut d = self.err(
                        t,
                        ErrorKind::BadSubnetMask,
                        kw,
                        format!("`{}` is not a prefix length from /1 to /128", t.text),
                    );
                    d.hint = Some("write e.g. /64 for IPv6, /24 or 255.255.255.0 for IPv4".into());
                    Err(d)
                }
            };
        }
        let m = self.dotted(kw, t, ErrorKind::BadSubnetMask)?;
        if !value::is_contiguous_mask(m.value) {
            self.warn_at(
                t.span,
                Some(kw),
                format!("{} is not a contiguous netmask", m.value),
                None,
            );
        }
        Ok(m.map(Mask::Dotted))
    }

    /// A port (1-65535; `zero` lets 0 through: a virtual or real server's
    /// port, which Piranha took and ipvsadm programs for a persistent or
    /// fwmark service). With `names`, a tcp service name also works.
    pub(super) fn port(
        &mut self,
        kw: &str,
        t: &Tok<'_>,
        names: bool,
        zero: bool,
    ) -> R<Spanned<u16>> {
        let min = if zero { 0 } else { 1 };
        let t = &self.numeric(kw, t);
        match value::parse_c_int(t.text) {
            Ok((v, radix)) => {
                if !(min..=65535).contains(&v) {
                    self.range_error = true;
                    return Err(self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("port {v} is out of range; expected {min} to 65535"),
                    ));
                }
                if radix == Radix::Octal {
                    self.warn_at(
                        t.span,
                        Some(kw),
                        format!("`{}` has a leading 0 and is read as octal: {v}", t.text),
                        Some(octal_hint(t.text)),
                    );
                }
                Ok(Spanned::at(v as u16, t.span))
            }
            Err(_) if names => {
                match value::service_port(t.text) {
                    Some(p) if p > 0 => Ok(Spanned::at(p, t.span)),
                    _ => {
                        let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{}` is neither a port number nor a tcp service name in /etc/services", t.text),
                    );
                        d.hint = Some("write the port number, e.g. 80".into());
                        Err(d)
                    }
                }
            }
            Err(_) => {
                let mut d = self.err(
                    t,
                    ErrorKind::IntegerExpected,
                    kw,
                    format!("`{}` is not a port number", t.text),
                );
                d.hint = Some(
                    "a real server's port is a number; service names work only in virtual blocks"
                        .into(),
                );
                Err(d)
            }
        }
    }

    pub(super) fn string(&self, t: &Tok<'_>) -> Spanned<String> {
        Spanned::at(t.text.to_string(), t.span)
    }

    pub(super) fn qstring(&mut self, kw: &str, t: &Tok<'_>) -> Spanned<QString> {
        if t.quote == Some(Quote::Single) {
            self.warn_at(
                t.span,
                Some(kw),
                format!("single quotes are passed on as part of the value: nanny gets '{}' with the quotes, as in Piranha", t.text),
                Some("use double quotes unless the quotes are meant to be sent".into()),
            );
        }
        Spanned::at(
            QString {
                text: t.text.to_string(),
                quote: t.quote,
            },
            t.span,
        )
    }

    pub(super) fn ipdev(&mut self, kw: &str, args: &[Tok<'_>]) -> R<Spanned<IpDev>> {
        let ip = self.host(kw, &args[0], true)?;
        Ok(Spanned::at(
            IpDev {
                ip: ip.value,
                dev: args[1].text.to_string(),
            },
            span_of(args),
        ))
    }

    /// `directors = [ ADDRESS ... ]` (extension, issue 22): addresses or
    /// host names, each once.
    pub(super) fn directors(&mut self, kw: &str, a: &[Tok<'_>]) -> R<Spanned<Vec<IpAddr>>> {
        let list = self.list(kw, self.eq_span, a)?;
        let mut out: Vec<IpAddr> = Vec::new();
        for t in a.iter().skip(1).take(list.value.len()) {
            let h = self.host(kw, t, false)?;
            if out.contains(&h.value.addr) {
                let mut d = self.err(
                    t,
                    ErrorKind::InvalidArgument,
                    kw,
                    format!("{} is listed twice", h.value.addr),
                );
                d.hint = Some("list each director once".into());
                return Err(d);
            }
            out.push(h.value.addr);
        }
        if out.is_empty() {
            let mut d = self.err(
                &a[0],
                ErrorKind::InvalidArgument,
                kw,
                "the list is empty".into(),
            );
            d.hint = Some(
                "list every director's address, e.g. `directors = [ 10.0.0.11 10.0.0.12 ]`".into(),
            );
            return Err(d);
        }
        Ok(Spanned {
            value: out,
            span: list.span,
        })
    }

    /// `sched_flags = WORD[,WORD...]` (extension, issue 22): ipvsadm's
    /// `-b` words; which scheduler they need is checked with the block.
    pub(super) fn sched_flags(&mut self, kw: &str, t: &Tok<'_>) -> R<Spanned<Vec<SchedFlag>>> {
        let mut out = Vec::new();
        for w in t.text.split(',').filter(|w| !w.is_empty()) {
            match SchedFlag::from_word(w) {
                Some(f) if !out.contains(&f) => out.push(f),
                Some(_) => {}
                None => {
                    let mut d = self.err(
                        t,
                        ErrorKind::InvalidArgument,
                        kw,
                        format!("`{w}` is not a scheduler flag"),
                    );
                    d.hint = Some(format!(
                        "flags are separated by commas, without blanks: {}",
                        SchedFlag::WORDS.join(", ")
                    ));
                    return Err(d);
                }
            }
        }
        Ok(Spanned::at(out, t.span))
    }

    pub(super) fn choice<T: Copy>(
        &self,
        kw: &str,
        t: &Tok<'_>,
        options: &[(&str, T)],
    ) -> R<Spanned<T>> {
        match options.iter().find(|(n, _)| *n == t.text) {
            Some((_, v)) => Ok(Spanned::at(*v, t.span)),
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                let mut d = self.err(
                    t,
                    ErrorKind::InvalidArgument,
                    kw,
                    format!("`{}` is not one of {}", t.text, names.join(", ")),
                );
                let lower = t.text.to_ascii_lowercase();
                if let Some(n) = names.iter().find(|n| **n == lower) {
                    d.hint = Some(format!("values are lower case: `{n}`"));
                }
                Err(d)
            }
        }
    }
}

pub(super) fn octal_hint(tok: &str) -> String {
    let trimmed = tok.trim_start_matches('0');
    format!(
        "Piranha reads a leading 0 as octal; write `{}` for decimal",
        if trimmed.is_empty() { "0" } else { trimmed }
    )
}
