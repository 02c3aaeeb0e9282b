//! The HTML of every page (maud templates compiled into the binary; no
//! template files to install, no JavaScript).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::control::View;
use crate::forms::{Vals, MASKS, PREFIXES, SCHEDULERS};
use crate::store::FieldError;
use lvs_config::{Config, VirtualServer};

const STYLE: &str = r#"
body{font-family:Helvetica,Arial,sans-serif;background:#fff;color:#000;margin:0}
.top{background:#000;color:#fff;padding:6px 12px;display:flex;justify-content:space-between;align-items:center}
.top .logo{font-weight:bold;font-size:20px;letter-spacing:1px}.top .logo span{color:#c00}
.top form{margin:0}
.tabs{background:#666;padding:0 8px}
.tabs a{display:inline-block;color:#fff;text-decoration:none;padding:6px 14px;font-weight:bold;font-size:13px}
.tabs a.on{background:#fff;color:#000}
.sub{background:#ddd;padding:0 8px}.sub a{display:inline-block;padding:4px 12px;color:#000;font-size:12px;text-decoration:none;font-weight:bold}
.sub a.on{background:#fff}
main{padding:12px 18px}
h1{font-size:16px;background:#eee;padding:4px 8px;border-left:6px solid #c00}
h2{font-size:14px;margin-top:18px}
table.f td{padding:3px 6px;vertical-align:top}
table.f td.l{text-align:right;font-weight:bold;font-size:13px;white-space:nowrap}
table.list{border-collapse:collapse;margin:6px 0}
table.list th,table.list td{border:1px solid #999;padding:3px 8px;font-size:13px}
table.list th{background:#ddd}
pre{background:#f4f4f4;border:1px solid #ccc;padding:6px;font-size:12px;overflow:auto;max-height:360px}
.err{color:#c00;font-weight:bold;font-size:12px;display:block}
.note{color:#060;font-weight:bold;margin-bottom:2px}
.hint{font-size:13px;margin-top:0}
.bad{color:#c00;font-weight:bold;border:1px solid #c00;padding:6px}
.buttons{margin-top:10px}
input[type=submit],button{font-weight:bold;padding:3px 10px}
.up{color:#060;font-weight:bold}.down{color:#c00;font-weight:bold}.warn{color:#a60;font-weight:bold}
h3{font-size:13px;margin:14px 0 4px}
form.act{display:inline;margin:0}form.act button{padding:1px 6px;font-size:12px}
.answer{border:1px solid;padding:4px 8px;margin-bottom:8px}.answer.ok{border-color:#060}.answer.bad{border-color:#c00}.answer p{margin:2px 0;font-weight:bold}
"#;

/// The note after an ACCEPT that changed lvs.cf.
pub const SAVED: &str = "Changes saved.";

/// What every page of a logged-in session needs.
pub struct Chrome<'a> {
    /// The session's CSRF token, put in every form.
    pub csrf: &'a str,
    /// A note to show at the top (e.g. "Changes saved").
    pub note: Option<&'a str>,
    /// A seconds value for `<meta http-equiv=refresh>`.
    pub refresh: Option<u32>,
}

fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// The digest of the values a form shows (see [`crate::forms::digest`]).
fn shown_input(vals: &Vals) -> Markup {
    html! {
        @if let Some(d) = vals.get(crate::forms::SHOWN) {
            input type="hidden" name=(crate::forms::SHOWN) value=(d);
        }
    }
}

fn head(title: &str, refresh: Option<u32>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            @if let Some(r) = refresh { meta http-equiv="refresh" content=(r); }
            title { "Piranha Configuration Tool: " (title) }
            style { (PreEscaped(STYLE)) }
        }
    }
}

const TABS: [(&str, &str, &str); 4] = [
    ("control", "/control", "CONTROL/MONITORING"),
    ("global", "/global_settings", "GLOBAL SETTINGS"),
    ("redundancy", "/redundancy", "REDUNDANCY"),
    ("virtual", "/virtual_main", "VIRTUAL SERVERS"),
];

/// A whole page with the top bar and tabs.
pub fn page(c: &Chrome<'_>, tab: &str, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, c.refresh))
            body {
                div.top {
                    div.logo { "PIRANHA " span { "CONFIGURATION TOOL" } }
                    form method="post" action="/logout" {
                        (csrf_input(c.csrf))
                        input type="submit" name="logout" value="LOGOUT";
                    }
                }
                nav.tabs {
                    @for (id, href, label) in TABS {
                        a class=[(id == tab).then_some("on")] href=(href) { (label) }
                    }
                }
                main {
                    @if let Some(n) = c.note { p.note id="note" { (n) } }
                    @if c.note == Some(SAVED) {
                        p.hint id="reload-hint" {
                            "pulse and lvs read lvs.cf only when they start or reload: copy it to the backup director, then run "
                            code { "service pulse reload" }
                            " on each director for the change to take effect."
                        }
                    }
                    (body)
                }
            }
        }
    }
}

/// The login page.
pub fn login(csrf: &str, message: Option<&str>, next: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head("login", None))
            body {
                div.top { div.logo { "PIRANHA " span { "CONFIGURATION TOOL" } } }
                main {
                    h1 { "Welcome to the Piranha Configuration Tool" }
                    p { "Log in as " b { "piranha" } " with the password set by " code { "piranha-passwd" } "." }
                    @if let Some(m) = message { p.bad id="login-error" { (m) } }
                    form method="post" action="/login" {
                        (csrf_input(csrf))
                        @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                        table.f {
                            tr { td.l { "Username:" } td { input type="text" name="username" id="username" value="piranha" autocomplete="username"; } }
                            tr { td.l { "Password:" } td { input type="password" name="password" id="password" autocomplete="current-password" autofocus; } }
                        }
                        div.buttons { input type="submit" id="login" value="Login"; }
                    }
                }
            }
        }
    }
}

fn err_for(errs: &[FieldError], field: &str) -> Markup {
    html! {
        @for e in errs.iter().filter(|e| e.field == field) {
            span.err id={"err-" (field)} { (e.message) }
        }
    }
}

fn general_errors(errs: &[FieldError], known: &[&str]) -> Markup {
    html! {
        @for e in errs.iter().filter(|e| !known.contains(&e.field.as_str())) {
            p.bad.err id="err-panel" { (e.message) }
        }
    }
}

fn v<'a>(vals: &'a Vals, k: &str) -> &'a str {
    vals.get(k).map(String::as_str).unwrap_or("")
}

fn text_row(label: &str, name: &str, vals: &Vals, errs: &[FieldError]) -> Markup {
    html! {
        tr {
            td.l { label for=(name) { (label) } }
            td { input type="text" name=(name) id=(name) value=(v(vals, name)) size="40"; (err_for(errs, name)) }
        }
    }
}

fn mask_row(label: &str, name: &str, vals: &Vals, errs: &[FieldError], unused: bool) -> Markup {
    let cur = v(vals, name);
    html! {
        tr {
            td.l { label for=(name) { (label) } }
            td {
                select name=(name) id=(name) {
                    @if unused { option value="" selected[cur.is_empty()] { "Unused" } }
                    @if !cur.is_empty() && !MASKS.contains(&cur) && !PREFIXES.contains(&cur) { option value=(cur) selected { (cur) } }
                    optgroup label="IPv4" {
                        @for m in MASKS { option value=(m) selected[m == cur] { (m) } }
                    }
                    optgroup label="IPv6" {
                        @for m in PREFIXES { option value=(m) selected[m == cur] { (m) } }
                    }
                }
                (err_for(errs, name))
            }
        }
    }
}

fn select_row(
    label: &str,
    name: &str,
    vals: &Vals,
    errs: &[FieldError],
    opts: &[(&str, &str)],
) -> Markup {
    let cur = v(vals, name);
    html! {
        tr {
            td.l { label for=(name) { (label) } }
            td {
                select name=(name) id=(name) {
                    @if !opts.iter().any(|(k, _)| *k == cur) { option value=(cur) selected { (cur) } }
                    @for (k, l) in opts { option value=(k) selected[*k == cur] { (l) } }
                }
                (err_for(errs, name))
            }
        }
    }
}

fn accept(extra: Markup) -> Markup {
    html! {
        div.buttons {
            button type="submit" name="action" value="accept" id="accept" title="Click here to apply changes on this page" { "ACCEPT" }
            " " (extra)
        }
    }
}

use piranha_status::text::span;

/// How long before `now` the moment `at` was (both seconds since the
/// epoch), or how long after.
fn ago(now: f64, at: f64) -> String {
    if at <= now {
        format!("{} ago", span(now - at))
    } else {
        format!("in {}", span(at - now))
    }
}

fn state_class(state: &str) -> Option<&'static str> {
    match state {
        "up" => Some("up"),
        "down" | "disabled" => Some("down"),
        "drained" | "rising" | "unknown" => Some("warn"),
        _ => None,
    }
}

/// lvs.cf's `active` for real server `server` of virtual server `service`.
fn configured_active(cfg: Option<&Config>, service: &str, server: &str) -> Markup {
    let s = cfg
        .and_then(|c| c.virtual_server(service))
        .and_then(|vs| vs.servers.iter().find(|s| s.name.value == server));
    html! {
        @match s {
            Some(s) if s.active() => "yes",
            Some(_) => "no",
            None => span.warn { "not in lvs.cf" },
        }
    }
}

/// The hidden fields every change form of the panel carries.
fn change_hidden(c: &Chrome<'_>, service: &str, server: &str, auto: bool, rate: u32) -> Markup {
    html! {
        (csrf_input(c.csrf))
        input type="hidden" name="service" value=(service);
        input type="hidden" name="server" value=(server);
        @if auto { input type="hidden" name="auto" value="1"; }
        input type="hidden" name="rate" value=(rate);
    }
}

fn server_actions(
    c: &Chrome<'_>,
    service: &str,
    s: &piranha_status::model::Server,
    auto: bool,
    rate: u32,
) -> Markup {
    let target = format!("{service}/{}", s.name);
    let drained = s
        .admin
        .as_ref()
        .is_some_and(|a| a.kind == "drain" || a.kind == "drained");
    html! {
        form.act method="post" action="/control" data-target=(target) {
            (change_hidden(c, service, &s.name, auto, rate))
            @if drained {
                button type="submit" name="action" value="undrain" title={"undrain " (target)} { "UNDRAIN" }
            } @else {
                button type="submit" name="action" value="drain" title={"drain " (target)} { "DRAIN" }
            }
        }
        " "
        form.act method="post" action="/control" data-target=(target) {
            (change_hidden(c, service, &s.name, auto, rate))
            input type="text" name="weight" size="4" value=(s.admin.as_ref().and_then(|a| a.weight).unwrap_or(s.weight)) aria-label={"weight of " (target)};
            button type="submit" name="action" value="weight" title={"weight " (target)} { "SET WEIGHT" }
        }
    }
}

fn pulse_part(p: &piranha_status::model::Pulse) -> Markup {
    html! {
        table.f id="pulse" {
            tr { td.l { "Role:" } td { b id="role" { (p.role) } " for " (span(p.role_for)) " (" (p.phase) ")" } }
            tr { td.l { "Takeovers / handovers:" } td { (p.takeovers) " / " (p.handovers) } }
            tr {
                td.l { "Partner:" }
                td {
                    @match &p.partner {
                        Some(pt) => {
                            (pt.address) " "
                            @if pt.alive { span.up id="partner" { "alive" } } @else { span.down id="partner" { "not heard" } }
                        }
                        None => "none (backup_active = 0)",
                    }
                }
            }
        }
        @if let Some(pt) = &p.partner {
            table.list id="channels" {
                tr { th { "HEARTBEAT CHANNEL" } th { "LAST HEARD" } }
                @for ch in &pt.channels {
                    tr {
                        td { (ch.name) }
                        td { @match ch.last_heard { Some(s) => { (span(s)) " ago" }, None => span.down { "never" } } }
                    }
                }
            }
        }
        table.list id="addresses" {
            tr { th { "VIRTUAL ADDRESS HELD" } th { "DEVICE" } }
            @for a in &p.addresses { tr { td { (a.address) } td { (a.device) } } }
            @if p.addresses.is_empty() { tr { td colspan="2" { "none" } } }
        }
    }
}

fn lvs_part(
    c: &Chrome<'_>,
    l: &piranha_status::model::Lvs,
    now: f64,
    cfg: Option<&Config>,
    auto: bool,
    rate: u32,
) -> Markup {
    let n = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    html! {
        p id="lvs" {
            "lvs (pid " (l.pid) ") is " b { (l.role) } ", running " code { (l.config) } "; overrides in " code { (l.overrides) } "."
            @if !l.counters { " The kernel's counters could not be read (a foreign ipvsadm): connections are not shown." }
        }
        @for svc in &l.services {
            div.svc id={"service-" (svc.name)} {
                h3 { (svc.name) " " code { (svc.key) } }
                table.f {
                    tr {
                        td.l { "Scheduler:" } td { (svc.scheduler) @if let Some(p) = svc.persistent { ", persistent " (p) " s" } }
                        td.l { "In the kernel's table:" } td { @if svc.in_kernel { "yes" } @else { span.down { "no" } } @if svc.disabled { " " span.down { "(disabled by the administrator)" } } }
                    }
                    tr {
                        td.l { "Sorry server:" }
                        td {
                            @match &svc.sorry_server {
                                Some(s) => { (s.address) " " @if s.serving { span.down { "(serving)" } } @else { "(standing by)" } }
                                None => "none",
                            }
                        }
                        td.l { "Quorum:" }
                        td {
                            @match &svc.quorum {
                                Some(q) => { (q.have) " of " (q.need) " needed: " @if q.up { span.up { "HOLDS" } } @else { span.down.quorum { "LOST" } } }
                                None => "none",
                            }
                        }
                    }
                }
                table.list.servers {
                    tr {
                        th { "REAL SERVER" } th { "ADDRESS" } th { "CONFIGURED ACTIVE" } th { "CONFIGURED WEIGHT" } th { "KERNEL WEIGHT" }
                        th { "STATE" } th { "HEALTH (CHECKS)" } th { "LAST CHECK" } th { "ADMIN OVERRIDE" } th { "ACTIVE CONN" } th { "INACTIVE CONN" } th { "CHANGE" }
                    }
                    @for s in &svc.servers {
                        tr data-server={(svc.name) "/" (s.name)} {
                            td { (s.name) }
                            td { (s.address) }
                            td.configured { (configured_active(cfg, &svc.name, &s.name)) }
                            td { (s.weight) }
                            td.kernel-weight { @match s.kernel_weight { Some(w) => (w), None => span.down { "not in table" } } }
                            td.state { span class=[state_class(&s.state)] { (s.state) } }
                            td.health { span class=[state_class(&s.check.state)] { (s.check.state) } @if let Some(p) = s.check.nanny { " (nanny " (p) ")" } }
                            td.last-check {
                                @match &s.check.last {
                                    Some(r) => {
                                        @if r.ok { span.up { "passed" } } @else { span.down { "failed" } }
                                        ": " (r.reason) ", " (ago(now, r.at)) " (took " (span(r.took)) ")"
                                    }
                                    None => "none yet",
                                }
                            }
                            td.admin {
                                @match &s.admin {
                                    Some(a) => {
                                        (a.kind)
                                        @if let Some(w) = a.weight { " to " (w) }
                                        " since " (ago(now, a.since))
                                        @if let Some(d) = a.deadline { ", deadline " (ago(now, d)) }
                                    }
                                    None => "none",
                                }
                            }
                            td { (n(s.active_connections)) }
                            td { (n(s.inactive_connections)) }
                            td { (server_actions(c, &svc.name, s, auto, rate)) }
                        }
                    }
                }
            }
        }
    }
}

/// What lvs.cf configures, for when lvs does not answer.
fn config_view(cfg: &Result<Config, String>) -> Markup {
    html! {
        h2 { "CONFIGURED IN LVS.CF" }
        @match cfg {
            Err(m) => p.bad { "lvs.cf cannot be read: " (m) },
            Ok(cfg) => {
                p.hint { "What lvs.cf configures; whether a real server passes its checks is known only to a running lvs." }
                table.list id="configured" {
                    tr { th { "VIRTUAL SERVER" } th { "CONFIGURED ACTIVE" } th { "SERVICE" } th { "SCHEDULER" } th { "REAL SERVER" } th { "ADDRESS" } th { "CONFIGURED ACTIVE" } th { "WEIGHT" } th { "HEALTH (CHECKS)" } }
                    @for vs in &cfg.virtual_servers {
                        @let head = html! {
                            td { (vs.name.value) }
                            td { @if vs.active() { "yes" } @else { "no" } }
                            td { (crate::forms::protocol_word(vs.protocol())) " " (std::net::SocketAddr::new(vs.vip(), vs.port())) }
                            td { (vs.scheduler().as_str()) }
                        };
                        @if vs.servers.is_empty() {
                            tr { (head) td colspan="5" { "no real servers" } }
                        }
                        @for s in &vs.servers {
                            tr {
                                (head)
                                td { (s.name.value) }
                                td { (s.addr()) }
                                td { @if s.active() { "yes" } @else { "no" } }
                                td { (s.weight()) }
                                td { span.warn { "unknown" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// CONTROL/MONITORING.
pub fn control(c: &Chrome<'_>, view: &View, auto: bool, rate: u32) -> Markup {
    let d = view.live.director.as_ref();
    let cfg = view.config.as_ref().ok();
    page(
        c,
        "control",
        "CONTROL/MONITORING",
        html! {
            h1 { "CONTROL/MONITORING" }
            @if let Some(o) = &view.outcome {
                div id="answer" class=(if o.ok { "answer ok" } else { "answer bad" }) {
                    p {
                        @match &o.request {
                            Some(r) => { "lvs was asked: " code { (r) } @if o.ok { " — done:" } @else { " — refused or not sent:" } }
                            None => "Nothing was sent to lvs:",
                        }
                    }
                    pre id="answer-text" { (o.text) }
                }
            }
            h2 { "CONTROL" }
            table.list id="daemons" {
                tr { th { "DAEMON" } th { "PIDFILE" } th { "PID" } th { "STATE" } }
                @for dm in &view.daemons {
                    tr id={"daemon-" (dm.name)} {
                        td { (dm.name) }
                        td { code { (dm.pidfile.display().to_string()) } }
                        td { @match dm.state.pid() { Some(p) => (p), None => "-" } }
                        td { @if dm.state.running() { span.up { (dm.state.describe()) } } @else { span.down { (dm.state.describe()) } } }
                    }
                }
            }
            form method="get" action="/control" {
                table.f {
                    tr {
                        td.l { label for="auto" { "Auto update" } }
                        td { input type="checkbox" name="auto" id="auto" value="1" checked[auto]; }
                        td.l { label for="rate" { "Update frequency in seconds:" } }
                        td { input type="text" name="rate" id="rate" value=(rate) size="4"; }
                    }
                }
                div.buttons {
                    input type="submit" id="update" value="Update information now";
                    " "
                    a href="/passwd" id="change-password" { "CHANGE PASSWORD" }
                }
            }
            h2 { "MONITOR" }
            @if d.is_none() {
                div.bad id="no-status" {
                    "The director's status is not available: neither pulse nor lvs answers on its control socket (are they running, and may piranha-gui's user open their sockets?). The view below is lvs.cf's; drain and weight need a running lvs."
                }
            }
            @if !view.live.problems.is_empty() {
                ul id="status-problems" {
                    @for m in &view.live.problems { li { (m) } }
                }
            }
            @if let Some(d) = d {
                div id="director" {
                    @for n in &d.notes { p.hint.note-daemon { (n) } }
                    @if let Some(p) = &d.pulse {
                        h3 { "pulse (pid " (p.pid) ")" }
                        (pulse_part(p))
                    }
                    @match &d.lvs {
                        Some(l) => {
                            h3 { "CURRENT LVS ROUTING TABLE" }
                            (lvs_part(c, l, d.taken_at, cfg, auto, rate))
                        }
                        None => p.hint id="no-lvs" { "lvs does not run on this director (a backup without hot standby, or it is stopped)." },
                    }
                }
            }
            @if d.and_then(|d| d.lvs.as_ref()).is_none() {
                (config_view(&view.config))
            }
        },
    )
}

/// CHANGE PASSWORD help.
pub fn passwd_help(c: &Chrome<'_>, passwd_file: &str) -> Markup {
    page(
        c,
        "control",
        "CHANGE PASSWORD",
        html! {
            h1 { "CHANGE PASSWORD" }
            p { "The password of the " b { "piranha" } " user is not changed from the browser. As root on this director, run:" }
            pre { "piranha-passwd" }
            p { "It asks for the new password twice and stores its hash in " code { (passwd_file) } ". The next login uses it; open sessions stay open until they expire or log out." }
            p { a href="/control" { "Back to CONTROL/MONITORING" } }
        },
    )
}

/// GLOBAL SETTINGS.
pub fn global(c: &Chrome<'_>, vals: &Vals, errs: &[FieldError]) -> Markup {
    let net = v(vals, "network");
    page(
        c,
        "global",
        "GLOBAL SETTINGS",
        html! {
            h1 { "GLOBAL SETTINGS" }
            (general_errors(errs, &["primary", "primary_private", "network", "nat_router_ip", "nat_router_dev", "nat_nmask", "tcp_timeout", "tcpfin_timeout", "udp_timeout"]))
            form method="post" action="/global_settings" {
                (csrf_input(c.csrf))
                (shown_input(vals))
                h2 { "Environment" }
                table.f {
                    (text_row("Primary server public IP:", "primary", vals, errs))
                    (text_row("Primary server private IP: (may be blank)", "primary_private", vals, errs))
                    (text_row("TCP Timeout (seconds):", "tcp_timeout", vals, errs))
                    (text_row("TCP FIN Timeout (seconds):", "tcpfin_timeout", vals, errs))
                    (text_row("UDP Timeout (seconds):", "udp_timeout", vals, errs))
                    tr {
                        td.l { "Use network type:" }
                        td {
                            @for (val, label) in [("nat", "NAT"), ("direct", "Direct Routing"), ("tunnel", "Tunneling")] {
                                label { input type="radio" name="network" id={"network-" (val)} value=(val) checked[net == val]; " " (label) } " "
                            }
                            (err_for(errs, "network"))
                        }
                    }
                }
                h2 { "NAT router" }
                table.f {
                    (text_row("NAT Router IP:", "nat_router_ip", vals, errs))
                    (mask_row("NAT Router netmask:", "nat_nmask", vals, errs, true))
                    (text_row("NAT Router device:", "nat_router_dev", vals, errs))
                }
                (accept(html! {}))
            }
        },
    )
}

/// REDUNDANCY.
pub fn redundancy(c: &Chrome<'_>, vals: &Vals, errs: &[FieldError], show_private: bool) -> Markup {
    let active = v(vals, "backup_active") == "1";
    page(
        c,
        "redundancy",
        "REDUNDANCY",
        html! {
            h1 { "REDUNDANCY" }
            (general_errors(errs, &["backup", "backup_private", "keepalive", "deadtime", "heartbeat_port", "monitor_links", "syncdaemon", "syncd_iface", "syncd_id", "hot_standby"]))
            form method="post" action="/redundancy" {
                (csrf_input(c.csrf))
                (shown_input(vals))
                @if !active {
                    p { "Backup: " b.down id="backup-status" { "inactive" } }
                    div.buttons { button type="submit" name="action" value="enable" id="enable" { "ENABLE" } }
                } @else {
                    p { "Backup: " b.up id="backup-status" { "active" } }
                    table.f {
                        (text_row("Redundant server public IP:", "backup", vals, errs))
                        @if show_private { (text_row("Redundant server private IP:", "backup_private", vals, errs)) }
                        (text_row("Heartbeat Interval (seconds):", "keepalive", vals, errs))
                        (text_row("Assume dead after (seconds):", "deadtime", vals, errs))
                        (text_row("Heartbeat runs on port:", "heartbeat_port", vals, errs))
                        tr { td.l { label for="monitor_links" { "Monitor NIC links for failures:" } } td { input type="checkbox" name="monitor_links" id="monitor_links" value="1" checked[v(vals, "monitor_links") == "1"]; (err_for(errs, "monitor_links")) } }
                        tr { td.l { label for="syncdaemon" { "Use sync daemon:" } } td { input type="checkbox" name="syncdaemon" id="syncdaemon" value="1" checked[v(vals, "syncdaemon") == "1"]; (err_for(errs, "syncdaemon")) } }
                        (text_row("Sync daemon interface:", "syncd_iface", vals, errs))
                        (text_row("Sync daemon id:", "syncd_id", vals, errs))
                        tr { td.l { label for="hot_standby" { "Hot standby (lvs and table ready on the backup):" } } td { input type="checkbox" name="hot_standby" id="hot_standby" value="1" checked[v(vals, "hot_standby") == "1"]; (err_for(errs, "hot_standby")) } }
                    }
                    (accept(html! {
                        button type="submit" name="action" value="reset" id="reset" title="Heartbeat interval 6, assume dead after 18, port 539" { "RESET" } " "
                        button type="submit" name="action" value="disable" id="disable" { "DISABLE" }
                    }))
                }
            }
        },
    )
}

fn vs_tabs(vs: &str, on: &str) -> Markup {
    html! {
        nav.sub {
            @for (id, path, label) in [("virt", "/virtual_edit_virt", "VIRTUAL SERVER"), ("real", "/virtual_edit_real", "REAL SERVER"), ("services", "/virtual_edit_services", "MONITORING SCRIPTS")] {
                a class=[(id == on).then_some("on")] id={"sub-" (id)} href={(path) "?vs=" (urlenc(vs))} { (label) }
            }
        }
    }
}

/// Percent-encode a query value.
pub fn urlenc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// The VIRTUAL SERVERS list's VIP: lvs.cf's "unset" of the service's
/// family when it has none (0.0.0.0, as Piranha showed it, or `::`).
fn vip_shown(vs: &VirtualServer) -> String {
    let vip = vs.vip();
    if vip.is_unspecified() {
        vs.family().unspecified().to_string()
    } else {
        vip.to_string()
    }
}

/// The VIRTUAL SERVERS list's NETMASK: the mask as lvs.cf holds it (dotted,
/// or `/N`); unset, 0.0.0.0 for an IPv4 service as Piranha showed it and
/// `unset` for an IPv6 one (which takes no dotted mask).
fn nmask_shown(vs: &VirtualServer) -> String {
    match (vs.vip_nmask(), vs.family()) {
        (Some(m), _) => m.to_string(),
        (None, lvs_config::value::Family::Inet) => "0.0.0.0".to_string(),
        (None, lvs_config::value::Family::Inet6) => "unset".to_string(),
    }
}

/// VIRTUAL SERVERS.
pub fn virtual_main(
    c: &Chrome<'_>,
    cfg: &Config,
    selected: Option<&str>,
    errs: &[FieldError],
) -> Markup {
    let sel = selected.or(cfg.virtual_servers.first().map(|v| v.name.value.as_str()));
    page(
        c,
        "virtual",
        "VIRTUAL SERVERS",
        html! {
            h1 { "VIRTUAL SERVERS" }
            (general_errors(errs, &[]))
            form method="post" action="/virtual_main" {
                (csrf_input(c.csrf))
                table.list id="virtual-servers" {
                    tr { th {} th { "STATUS" } th { "NAME" } th { "VIP" } th { "NETMASK" } th { "PORT" } th { "PROTOCOL" } th { "INTERFACE" } }
                    @for vs in &cfg.virtual_servers {
                        @let n = vs.name.value.as_str();
                        tr {
                            td { input type="radio" name="vs" value=(n) checked[Some(n) == sel]; }
                            td { @if vs.active() { span.up title="active = 1 in lvs.cf; health is on CONTROL/MONITORING" { "active" } } @else { span.down { "inactive" } } }
                            td { (n) }
                            td { (vip_shown(vs)) }
                            td { (nmask_shown(vs)) }
                            td { (vs.port()) }
                            td { (crate::forms::protocol_word(vs.protocol())) }
                            td { (vs.address.as_ref().map(|a| a.value.dev.as_str()).unwrap_or("")) }
                        }
                    }
                }
                div.buttons {
                    button type="submit" name="action" value="add" id="add" { "ADD" } " "
                    button type="submit" name="action" value="delete" id="delete" { "DELETE" } " "
                    button type="submit" name="action" value="edit" id="edit" { "EDIT" } " "
                    button type="submit" name="action" value="toggle" id="toggle" { "(DE)ACTIVATE" }
                }
            }
        },
    )
}

/// VIRTUAL SERVER sub-panel.
pub fn virtual_edit(c: &Chrome<'_>, vs: &str, vals: &Vals, errs: &[FieldError]) -> Markup {
    let q = v(vals, "quiesce_server");
    page(
        c,
        "virtual",
        "VIRTUAL SERVER",
        html! {
            h1 { "EDIT VIRTUAL SERVER: " (vs) }
            (vs_tabs(vs, "virt"))
            (general_errors(errs, &["name", "port", "protocol", "vip", "device", "vip_nmask", "fwmark", "reentry", "timeout", "quiesce_server", "load_monitor", "scheduler", "persistent", "pmask", "sorry_server"]))
            form method="post" action={"/virtual_edit_virt?vs=" (urlenc(vs))} {
                (csrf_input(c.csrf))
                (shown_input(vals))
                table.f {
                    (text_row("Name:", "name", vals, errs))
                    (text_row("Application port:", "port", vals, errs))
                    (select_row("Protocol:", "protocol", vals, errs, &[("tcp", "tcp"), ("udp", "udp")]))
                    (text_row("Virtual IP Address:", "vip", vals, errs))
                    (mask_row("Virtual IP Network Mask:", "vip_nmask", vals, errs, true))
                    (text_row("Sorry Server:", "sorry_server", vals, errs))
                    (text_row("Firewall Mark:", "fwmark", vals, errs))
                    (text_row("Device:", "device", vals, errs))
                    (text_row("Re-entry Time:", "reentry", vals, errs))
                    (text_row("Service Timeout:", "timeout", vals, errs))
                    tr {
                        td.l { "Quiesce server:" }
                        td {
                            label { input type="radio" name="quiesce_server" id="quiesce-yes" value="1" checked[q == "1"]; " Yes" } " "
                            label { input type="radio" name="quiesce_server" id="quiesce-no" value="0" checked[q != "1"]; " No" }
                            (err_for(errs, "quiesce_server"))
                        }
                    }
                    (select_row("Load monitoring tool:", "load_monitor", vals, errs, &[("none", "none"), ("uptime", "uptime"), ("rup", "rup"), ("ruptime", "ruptime")]))
                    (select_row("Scheduling:", "scheduler", vals, errs, &SCHEDULERS))
                    (text_row("Persistence:", "persistent", vals, errs))
                    (mask_row("Persistence Network Mask:", "pmask", vals, errs, true))
                }
                (accept(html! {}))
            }
        },
    )
}

/// REAL SERVER sub-panel: the list.
pub fn real_list(
    c: &Chrome<'_>,
    vs: &VirtualServer,
    selected: Option<&str>,
    errs: &[FieldError],
) -> Markup {
    let name = vs.name.value.as_str();
    let sel = selected.or(vs.servers.first().map(|s| s.name.value.as_str()));
    page(
        c,
        "virtual",
        "REAL SERVER",
        html! {
            h1 { "EDIT REAL SERVERS: " (name) }
            (vs_tabs(name, "real"))
            (general_errors(errs, &[]))
            form method="post" action={"/virtual_edit_real?vs=" (urlenc(name))} {
                (csrf_input(c.csrf))
                table.list id="real-servers" {
                    tr { th {} th { "STATUS" } th { "NAME" } th { "ADDRESS" } th { "WEIGHT" } }
                    @for s in &vs.servers {
                        @let n = s.name.value.as_str();
                        tr {
                            td { input type="radio" name="rs" value=(n) checked[Some(n) == sel]; }
                            td { @if s.active() { span.up title="active = 1 in lvs.cf; health is on CONTROL/MONITORING" { "active" } } @else { span.down { "inactive" } } }
                            td { (n) }
                            td { (s.addr()) }
                            td { (s.weight()) }
                        }
                    }
                }
                div.buttons {
                    button type="submit" name="action" value="add" id="add" { "ADD" } " "
                    button type="submit" name="action" value="delete" id="delete" { "DELETE" } " "
                    button type="submit" name="action" value="edit" id="edit" { "EDIT" } " "
                    button type="submit" name="action" value="toggle" id="toggle" { "(DE)ACTIVATE" }
                }
            }
        },
    )
}

/// REAL SERVER sub-panel: one server's form.
pub fn real_edit(c: &Chrome<'_>, vs: &str, rs: &str, vals: &Vals, errs: &[FieldError]) -> Markup {
    page(
        c,
        "virtual",
        "REAL SERVER",
        html! {
            h1 { "EDIT REAL SERVER: " (rs) " of " (vs) }
            (vs_tabs(vs, "real"))
            (general_errors(errs, &["name", "address", "weight"]))
            form method="post" action={"/virtual_edit_real_server?vs=" (urlenc(vs)) "&rs=" (urlenc(rs))} {
                (csrf_input(c.csrf))
                (shown_input(vals))
                table.f {
                    (text_row("Name:", "name", vals, errs))
                    (text_row("Address:", "address", vals, errs))
                    (text_row("Weight:", "weight", vals, errs))
                }
                (accept(html! {}))
            }
        },
    )
}

/// MONITORING SCRIPTS sub-panel.
pub fn services(c: &Chrome<'_>, vs: &str, vals: &Vals, errs: &[FieldError]) -> Markup {
    page(
        c,
        "virtual",
        "MONITORING SCRIPTS",
        html! {
            h1 { "EDIT MONITORING SCRIPTS: " (vs) }
            (vs_tabs(vs, "services"))
            (general_errors(errs, &["send_program", "send", "expect", "use_regex"]))
            form method="post" action={"/virtual_edit_services?vs=" (urlenc(vs))} {
                (csrf_input(c.csrf))
                (shown_input(vals))
                table.f {
                    (text_row("Sending Program:", "send_program", vals, errs))
                    (text_row("Send:", "send", vals, errs))
                    (text_row("Expect:", "expect", vals, errs))
                    tr { td.l { label for="use_regex" { "Treat expect string as a regular expression:" } } td { input type="checkbox" name="use_regex" id="use_regex" value="1" checked[v(vals, "use_regex") == "1"]; (err_for(errs, "use_regex")) } }
                }
                (accept(html! {
                    button type="submit" name="action" value="blank_send" id="blank-send" { "BLANK SEND" } " "
                    button type="submit" name="action" value="blank_expect" id="blank-expect" { "BLANK EXPECT" } " "
                    button type="submit" name="action" value="no_send_program" id="no-send-program" { "NO SEND PROGRAM" } " "
                    a href={"/virtual_edit_services?vs=" (urlenc(vs))} id="cancel" { "CANCEL" }
                }))
            }
        },
    )
}

/// A page for a file that cannot be read or parsed.
pub fn file_problem(c: &Chrome<'_>, tab: &str, msg: &str) -> Markup {
    page(
        c,
        tab,
        "configuration problem",
        html! {
            h1 { "The configuration file cannot be used" }
            pre.bad id="file-error" { (msg) }
            p { "Fix the file by hand (" code { "lvs --config-test" } " shows every problem), then reload this page." }
        },
    )
}
