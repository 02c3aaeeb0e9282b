//! Re-parsing a file after a small edit: when the new text differs from the
//! previous one only inside one top-level block, only that block goes
//! through the parser again; everything else is taken from the previous
//! parse, its positions moved by the edit. The result is what
//! [`parse_str`] returns for the new text (tested on random edits); any
//! other case, and any case with something to report, is a full parse.
//!
//! This is what makes lvs's SIGHUP cheap with thousands of services.

use std::ops::Range;

use crate::config::*;
use crate::diag::{Diagnostics, Span};
use crate::parse::{
    detect_eol, parse_fragment, parse_str, validates_clean, BlockKind, BlockLayout, KeyLine,
    ParseOptions, Parsed,
};

/// Parse `text`, reusing `prev`, the parse of `prev_text`. Same result as
/// `parse_str(text, opts)`, faster when the edit stays inside one `virtual`
/// or `failover` block and the previous parse had no warnings.
pub fn reparse(
    prev_text: &str,
    prev: &Parsed,
    text: &str,
    opts: &ParseOptions,
) -> Result<Parsed, Diagnostics> {
    match splice(prev_text, prev, text, opts) {
        Some(p) => Ok(p),
        None => parse_str(text, opts),
    }
}

/// How a [`reparse_file_in_place`] went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReparseTrace {
    /// Time spent reading and decoding the file.
    pub read: std::time::Duration,
    /// Only the edited block went through the grammar again (else the whole
    /// file did, or nothing changed).
    pub one_block: bool,
}

/// What [`reparse_in_place`] did to the parse it was given.
#[derive(Debug)]
pub enum Reparsed {
    /// The text is the same: nothing changed.
    Same,
    /// Only `virtual_servers[.0]` changed; `.1` is that block as it was.
    Virtual(usize, Box<VirtualServer>),
    /// Only `failover_services[.0]` changed; `.1` is that block as it was.
    Failover(usize, Box<FailoverService>),
    /// The whole text was parsed; this is the previous parse.
    Full(Box<Parsed>),
}

/// [`reparse`] without a copy: `parsed`, the parse of `prev_text`, becomes
/// the parse of `text` (exactly what [`parse_str`] gives), and the result
/// says what it replaced, so that a caller can still compare old and new
/// (lvs plans a reload from it). On an error `parsed` is left as it was.
///
/// With one edited block among thousands this touches that block and
/// moves the positions of the ones after it; nothing is copied.
pub fn reparse_in_place(
    prev_text: &str,
    parsed: &mut Parsed,
    text: &str,
    opts: &ParseOptions,
) -> Result<Reparsed, Diagnostics> {
    if let Some(r) = splice_in_place(prev_text, parsed, text, opts) {
        return Ok(r);
    }
    let new = parse_str(text, opts)?;
    Ok(Reparsed::Full(Box::new(std::mem::replace(parsed, new))))
}

/// Read and decode `path` as [`crate::parse_file`] does and
/// [`reparse_in_place`] it; the new text, what was replaced, and how long
/// the read took.
pub fn reparse_file_in_place(
    path: &std::path::Path,
    prev_text: &str,
    parsed: &mut Parsed,
) -> Result<(String, Reparsed, ReparseTrace), Diagnostics> {
    let t0 = std::time::Instant::now();
    let text = crate::parse::read_file(path)?;
    let read = t0.elapsed();
    let opts = ParseOptions {
        file: path.display().to_string(),
        resolver: crate::parse::Resolver::System,
    };
    let r = reparse_in_place(prev_text, parsed, &text, &opts)?;
    let one_block = matches!(r, Reparsed::Virtual(..) | Reparsed::Failover(..));
    Ok((text, r, ReparseTrace { read, one_block }))
}

/// [`reparse`], telling whether the shortcut was taken (for tests).
pub(crate) fn splice(
    prev_text: &str,
    prev: &Parsed,
    text: &str,
    opts: &ParseOptions,
) -> Option<Parsed> {
    let mut p = prev.clone();
    splice_in_place(prev_text, &mut p, text, opts).map(|_| p)
}

/// The shortcut of [`reparse_in_place`]; `None` (and `prev` untouched)
/// when it does not apply.
fn splice_in_place(
    prev_text: &str,
    prev: &mut Parsed,
    text: &str,
    opts: &ParseOptions,
) -> Option<Reparsed> {
    // A host name is looked up again by every full parse (an edited
    // /etc/hosts counts on a reload, as with Piranha): no shortcut then.
    if !prev.warnings.is_empty() || uses_host_names(&prev.config) {
        return None;
    }
    if prev_text == text {
        return Some(Reparsed::Same);
    }
    let (a, b) = (prev_text.as_bytes(), text.as_bytes());
    let p = common_prefix(a, b);
    let room = a.len().min(b.len()) - p;
    let q = common_suffix(&a[a.len() - room..], &b[b.len() - room..]);
    let old_end = a.len() - q;
    let i = prev
        .layout
        .blocks
        .iter()
        .position(|bl| bl.header.end <= p && old_end <= bl.close.start)?;
    let old = &prev.layout.blocks[i];
    let kind = old.kind;
    let k = prev.layout.blocks[..i]
        .iter()
        .filter(|bl| bl.kind == kind)
        .count();
    let name = match kind {
        BlockKind::Virtual => &prev.config.virtual_servers.get(k)?.name,
        BlockKind::Failover => &prev.config.failover_services.get(k)?.name,
        BlockKind::Server => return None,
    };
    if name.value != old.name {
        return None;
    }
    let header_line = name.span?.line;
    let (start, old_close_end) = (old.header.start, old.close.end);
    let new_close_end = (old_close_end + b.len()).checked_sub(a.len())?;
    if !text.is_char_boundary(start) || !text.is_char_boundary(new_close_end) {
        return None;
    }
    let (cfg, mut layout) = parse_fragment(text, start..new_close_end, header_line - 1, opts)?;
    if layout.blocks.len() != 1 || !layout.globals.is_empty() || layout.blocks[0].kind != kind {
        return None;
    }
    let new_layout = layout.blocks.pop()?;
    let d = Shift {
        from: old_close_end,
        bytes: b.len() as isize - a.len() as isize,
        lines: line_breaks(&b[start..new_close_end]) as i64
            - line_breaks(&a[start..old_close_end]) as i64,
    };
    // The new block goes in, is checked against the others, and comes out
    // again while the rest moves (its positions are already the new text's).
    let config = &mut prev.config;
    let r = match kind {
        BlockKind::Virtual => {
            let new = cfg.virtual_servers.into_iter().next()?;
            let old = std::mem::replace(&mut config.virtual_servers[k], new);
            let clean = crate::validate::clean_after_edit(config, k);
            debug_assert_eq!(
                clean,
                validates_clean(config),
                "the one-block check differs from the whole-file check"
            );
            let new = std::mem::replace(&mut config.virtual_servers[k], old);
            if !clean {
                return None;
            }
            shift_config(config, &d);
            Reparsed::Virtual(
                k,
                Box::new(std::mem::replace(&mut config.virtual_servers[k], new)),
            )
        }
        _ => {
            // No check looks into failover blocks (and the block kinds'
            // counts are unchanged): the file stays clean.
            let new = cfg.failover_services.into_iter().next()?;
            shift_config(config, &d);
            let old = std::mem::replace(&mut config.failover_services[k], new);
            debug_assert!(validates_clean(config));
            Reparsed::Failover(k, Box::new(old))
        }
    };
    let layout = &mut prev.layout;
    layout.blocks[i] = new_layout;
    layout.blocks[i + 1..].iter_mut().for_each(|bl| d.block(bl));
    layout.globals.iter_mut().for_each(|g| d.key(g));
    // The file's line ending is its majority one: only a change in the
    // edited block's counts can change it (then count the whole file).
    let (o, n) = (&a[start..old_close_end], &b[start..new_close_end]);
    if eol_counts(o) != eol_counts(n) {
        layout.eol = detect_eol(text).to_string();
    }
    Some(r)
}

const CHUNK: usize = 64;

/// Length of the common prefix (slice compares a chunk at a time).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Length of the common suffix.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut i = 0;
    while i + CHUNK <= n && a[n - i - CHUNK..n - i] == b[n - i - CHUNK..n - i] {
        i += CHUNK;
    }
    i + a[..n - i]
        .iter()
        .rev()
        .zip(b[..n - i].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Whether any host field was written as a name rather than an address
/// (every `Host` and `IpDev` field of the configuration).
fn uses_host_names(c: &Config) -> bool {
    // Anything but an address literal (IPv4 in any inet_aton form, or
    // IPv6) was resolved.
    let name = |h: &Host| !matches!(crate::value::address_literal(&h.name), Ok(Some(_)));
    let host = |o: &Opt<Host>| o.as_ref().is_some_and(|h| name(&h.value));
    let ipdev = |o: &Opt<IpDev>| o.as_ref().is_some_and(|h| name(&h.value.ip));
    host(&c.primary)
        || host(&c.primary_private)
        || host(&c.backup)
        || host(&c.backup_private)
        || ipdev(&c.nat_router)
        || c.failover_services.iter().any(|f| ipdev(&f.address))
        || c.virtual_servers.iter().any(|v| {
            ipdev(&v.address) || host(&v.master) || v.servers.iter().any(|r| host(&r.address))
        })
}

/// `\n` and `\r\n` in `b` (what [`detect_eol`] weighs).
fn eol_counts(b: &[u8]) -> (usize, usize) {
    let lf = memchr::memchr_iter(b'\n', b).count();
    let crlf = b.windows(2).filter(|w| w == b"\r\n").count();
    (lf, crlf)
}

/// Line breaks as the lexer counts them: `\r\n`, `\n` or a lone `\r`.
fn line_breaks(b: &[u8]) -> usize {
    let lf = b.iter().filter(|&&c| c == b'\n').count();
    let lone_cr = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'))
        .count();
    lf + lone_cr
}

/// How positions at or after `from` move.
struct Shift {
    from: usize,
    bytes: isize,
    lines: i64,
}

impl Shift {
    fn pos(&self, x: &mut usize) {
        if *x >= self.from {
            *x = x.wrapping_add_signed(self.bytes);
        }
    }
    fn range(&self, r: &mut Range<usize>) {
        if r.start >= self.from {
            self.pos(&mut r.start);
            self.pos(&mut r.end);
        }
    }
    fn span(&self, s: &mut Span) {
        if s.start >= self.from {
            self.pos(&mut s.start);
            self.pos(&mut s.end);
            s.line = (s.line as i64 + self.lines) as u32;
        }
    }
    fn spanned<T>(&self, s: &mut Spanned<T>) {
        if let Some(sp) = &mut s.span {
            self.span(sp);
        }
    }
    fn opt<T>(&self, o: &mut Opt<T>) {
        if let Some(s) = o {
            self.spanned(s);
        }
    }
    fn key(&self, k: &mut KeyLine) {
        self.range(&mut k.line);
        self.range(&mut k.value);
        self.range(&mut k.indent);
    }
    fn block(&self, b: &mut BlockLayout) {
        self.range(&mut b.name_span);
        self.range(&mut b.header);
        self.range(&mut b.indent);
        self.range(&mut b.close);
        b.keys.iter_mut().for_each(|k| self.key(k));
        b.children.iter_mut().for_each(|c| self.block(c));
    }
}

// The four walks below destructure every field, so that a field added to
// the configuration without being moved here does not compile.

fn shift_config(x: &mut Config, d: &Shift) {
    let Config {
        serial_no,
        primary,
        primary_private,
        primary_shared,
        service,
        rsh_command,
        backup_active,
        backup,
        backup_private,
        backup_shared,
        heartbeat,
        heartbeat_port,
        keepalive,
        deadtime,
        network,
        nat_router,
        nat_nmask,
        reservation_conflict_action,
        debug_level,
        active_cmd,
        inactive_cmd,
        heartbeat_key,
        monitor_links,
        syncdaemon,
        syncd_iface,
        syncd_id,
        hot_standby,
        syncd_group,
        syncd_port,
        tcp_timeout,
        tcpfin_timeout,
        udp_timeout,
        hard_shutdown,
        ipvsadm,
        sync,
        director_mode,
        directors,
        bird_socket,
        bird_routes,
        withdraw_delay,
        failover_services,
        virtual_servers,
    } = x;
    d.opt(serial_no);
    d.opt(primary);
    d.opt(primary_private);
    d.opt(primary_shared);
    d.opt(service);
    d.opt(rsh_command);
    d.opt(backup_active);
    d.opt(backup);
    d.opt(backup_private);
    d.opt(backup_shared);
    d.opt(heartbeat);
    d.opt(heartbeat_port);
    d.opt(keepalive);
    d.opt(deadtime);
    d.opt(network);
    d.opt(nat_router);
    d.opt(nat_nmask);
    d.opt(reservation_conflict_action);
    d.opt(debug_level);
    d.opt(active_cmd);
    d.opt(inactive_cmd);
    d.opt(heartbeat_key);
    d.opt(monitor_links);
    d.opt(syncdaemon);
    d.opt(syncd_iface);
    d.opt(syncd_id);
    d.opt(hot_standby);
    d.opt(syncd_group);
    d.opt(syncd_port);
    d.opt(tcp_timeout);
    d.opt(tcpfin_timeout);
    d.opt(udp_timeout);
    d.opt(hard_shutdown);
    d.opt(ipvsadm);
    d.opt(sync);
    d.opt(director_mode);
    d.opt(directors);
    d.opt(bird_socket);
    d.opt(bird_routes);
    d.opt(withdraw_delay);
    // A block that starts before the edit ends before it too (top-level
    // blocks do not nest): only the ones after it move.
    let after = |name: &Spanned<String>| name.span.is_none_or(|s| s.start >= d.from);
    failover_services
        .iter_mut()
        .filter(|f| after(&f.name))
        .for_each(|f| shift_failover(f, d));
    virtual_servers
        .iter_mut()
        .filter(|v| after(&v.name))
        .for_each(|v| shift_virtual(v, d));
}

fn shift_virtual(x: &mut VirtualServer, d: &Shift) {
    let VirtualServer {
        name,
        active,
        address,
        sorry_server,
        vip_nmask,
        fwmark,
        port,
        persistent,
        pmask,
        send,
        expect,
        use_regex,
        send_program,
        load_monitor,
        scheduler,
        sched_flags,
        protocol,
        timeout,
        reentry,
        quiesce_server,
        client_monitor,
        start_cmd,
        stop_cmd,
        master,
        dirs,
        quorum,
        hysteresis,
        quorum_up,
        quorum_down,
        health,
        servers,
        left_out: _,
    } = x;
    d.spanned(name);
    d.opt(active);
    d.opt(address);
    d.opt(sorry_server);
    d.opt(vip_nmask);
    d.opt(fwmark);
    d.opt(port);
    d.opt(persistent);
    d.opt(pmask);
    d.opt(send);
    d.opt(expect);
    d.opt(use_regex);
    d.opt(send_program);
    d.opt(load_monitor);
    d.opt(scheduler);
    d.opt(sched_flags);
    d.opt(protocol);
    d.opt(timeout);
    d.opt(reentry);
    d.opt(quiesce_server);
    d.opt(client_monitor);
    d.opt(start_cmd);
    d.opt(stop_cmd);
    d.opt(master);
    d.opt(dirs);
    d.opt(quorum);
    d.opt(hysteresis);
    d.opt(quorum_up);
    d.opt(quorum_down);
    shift_health(health, d);
    servers.iter_mut().for_each(|r| shift_real(r, d));
}

fn shift_real(x: &mut RealServer, d: &Shift) {
    let RealServer {
        name,
        address,
        active,
        port,
        weight,
        health,
    } = x;
    d.spanned(name);
    d.opt(address);
    d.opt(active);
    d.opt(port);
    d.opt(weight);
    shift_health(health, d);
}

/// Extension (issue 9): the health-check keys of a block.
fn shift_health(x: &mut crate::checks::HealthCheck, d: &Shift) {
    let crate::checks::HealthCheck {
        check,
        check_path,
        check_status,
        check_digest,
        check_virtualhost,
        check_sni,
        check_verify,
        check_ca,
        check_helo,
        check_dns_name,
        check_dns_type,
        check_program,
        check_dynamic,
        check_timeout,
        retry,
        retry_delay,
        rise,
        warmup,
    } = x;
    d.opt(check);
    d.opt(check_path);
    d.opt(check_status);
    d.opt(check_digest);
    d.opt(check_virtualhost);
    d.opt(check_sni);
    d.opt(check_verify);
    d.opt(check_ca);
    d.opt(check_helo);
    d.opt(check_dns_name);
    d.opt(check_dns_type);
    d.opt(check_program);
    d.opt(check_dynamic);
    d.opt(check_timeout);
    d.opt(retry);
    d.opt(retry_delay);
    d.opt(rise);
    d.opt(warmup);
}

fn shift_failover(x: &mut FailoverService, d: &Shift) {
    let FailoverService {
        name,
        active,
        address,
        vip_nmask,
        port,
        send,
        expect,
        send_program,
        timeout,
        reentry,
        start_cmd,
        stop_cmd,
    } = x;
    d.spanned(name);
    d.opt(active);
    d.opt(address);
    d.opt(vip_nmask);
    d.opt(port);
    d.opt(send);
    d.opt(expect);
    d.opt(send_program);
    d.opt(timeout);
    d.opt(reentry);
    d.opt(start_cmd);
    d.opt(stop_cmd);
}

#[cfg(test)]
mod tests;
