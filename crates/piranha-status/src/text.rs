//! The text form of the status: what an administrator reads in a
//! terminal (`lvs --status`, `pulse --status`, `service pulse status`).

use std::fmt::Write;

use crate::model::{Director, Lvs, Pulse, Server, Service, Stats};

/// Render `d` for a terminal.
pub fn render(d: &Director) -> String {
    let mut s = String::new();
    if let Some(p) = &d.pulse {
        pulse(&mut s, p);
    }
    match &d.lvs {
        Some(l) => lvs(&mut s, l),
        None if d.pulse.is_some() => s.push_str("lvs: not running on this director\n"),
        None => {}
    }
    for n in &d.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// A duration in seconds, for people: `0.4 s`, `42 s`, `3 min`, `5 h`,
/// `3 days` (negative as 0).
pub fn span(x: f64) -> String {
    let x = x.max(0.0);
    if x < 10.0 {
        format!("{x:.1} s")
    } else if x < 120.0 {
        format!("{x:.0} s")
    } else if x < 7200.0 {
        format!("{:.0} min", x / 60.0)
    } else if x < 172_800.0 {
        format!("{:.0} h", x / 3600.0)
    } else {
        format!("{:.0} days", x / 86400.0)
    }
}

fn pulse(s: &mut String, p: &Pulse) {
    let _ = writeln!(
        s,
        "pulse: pid {}, role {} for {} ({}); {} takeover(s), {} handover(s)",
        p.pid,
        p.role,
        span(p.role_for),
        p.phase,
        p.takeovers,
        p.handovers
    );
    match &p.partner {
        Some(partner) => {
            // An IPv6 address in brackets, so that the colon before the
            // state reads as one.
            let address = if partner.address.contains(':') {
                format!("[{}]", partner.address)
            } else {
                partner.address.clone()
            };
            let _ = writeln!(
                s,
                "partner {address}: {}",
                if partner.alive { "alive" } else { "not heard" }
            );
            for c in &partner.channels {
                let _ = writeln!(
                    s,
                    "  heartbeat {}: {}",
                    c.name,
                    match c.last_heard {
                        Some(t) => format!("last heard {} ago", span(t)),
                        None => "never heard".into(),
                    }
                );
            }
        }
        None => s.push_str("partner: none (backup_active = 0)\n"),
    }
    if p.addresses.is_empty() {
        s.push_str("virtual addresses held: none\n");
    } else {
        let list: Vec<String> = p
            .addresses
            .iter()
            .map(|a| format!("{} on {}", a.address, a.device))
            .collect();
        let _ = writeln!(s, "virtual addresses held: {}", list.join(", "));
    }
}

fn lvs(s: &mut String, l: &Lvs) {
    let _ = writeln!(
        s,
        "lvs: pid {}, {}, {} virtual service(s) from {} (status taken in {:.0} ms){}",
        l.pid,
        l.role,
        l.services.len(),
        l.config,
        l.took * 1000.0,
        if l.counters {
            ""
        } else {
            " (no kernel counters: lvs.cf names a foreign ipvsadm)"
        }
    );
    for v in &l.services {
        service(s, v);
    }
}

fn counters(st: &Stats) -> String {
    format!(
        "{} conns, {} pkts in, {} pkts out, {} B in, {} B out; {} conn/s, {} B/s in, {} B/s out",
        st.connections,
        st.packets_in,
        st.packets_out,
        st.bytes_in,
        st.bytes_out,
        st.cps,
        st.bps_in,
        st.bps_out
    )
}

fn service(s: &mut String, v: &Service) {
    let mut head = format!("\nvirtual {} ({}) scheduler {}", v.name, v.key, v.scheduler);
    if let Some(p) = v.persistent {
        let _ = write!(head, ", persistent {p} s");
    }
    if v.disabled {
        head.push_str(", DISABLED by the administrator");
    } else if !v.in_kernel {
        head.push_str(", NOT in the kernel's table");
    }
    let _ = writeln!(s, "{head}");
    if let Some(sorry) = &v.sorry_server {
        let _ = writeln!(
            s,
            "  sorry server {}: {}",
            sorry.address,
            if sorry.serving {
                "SERVING"
            } else {
                "standing by"
            }
        );
    }
    if let Some(a) = &v.announcement {
        let _ = writeln!(
            s,
            "  route {}: {}",
            a.address,
            match (a.announced, &a.why_not) {
                (true, _) => "ANNOUNCED".to_string(),
                (false, Some(w)) => format!("withdrawn ({w})"),
                (false, None) => "withdrawn".to_string(),
            }
        );
    }
    if let Some(q) = &v.quorum {
        let _ = writeln!(
            s,
            "  quorum {} of {} needed: {}",
            q.have,
            q.need,
            if q.up { "up" } else { "LOST" }
        );
    }
    if let Some(st) = &v.stats {
        let _ = writeln!(s, "  {}", counters(st));
    }
    let _ = writeln!(
        s,
        "  {:<24} {:>6} {:>6} {:<9} {:>7} {:>7}  LAST CHECK",
        "REAL SERVER", "WEIGHT", "KERNEL", "STATE", "ACTIVE", "INACT"
    );
    for r in &v.servers {
        server(s, r);
    }
}

fn server(s: &mut String, r: &Server) {
    let who = format!("{} {}", r.name, r.address);
    let kernel = r
        .kernel_weight
        .map(|w| w.to_string())
        .unwrap_or_else(|| "-".into());
    let n = |x: Option<u32>| x.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    let (act, inact) = (n(r.active_connections), n(r.inactive_connections));
    let last = match &r.check.last {
        Some(c) => format!(
            "{} in {:.0} ms, {} ago: {}",
            if c.ok { "pass" } else { "FAIL" },
            c.took * 1000.0,
            span((crate::model::unix_now() - c.at).max(0.0)),
            c.reason
        ),
        None => "none yet".into(),
    };
    let mut state = r.state.clone();
    if let Some(a) = &r.admin {
        if let Some(d) = a.deadline {
            let left = d - crate::model::unix_now();
            if left > 0.0 && a.kind == "drain" {
                state = format!("{state} ({} left)", span(left));
            }
        }
        if r.state != r.check.state && !matches!(r.check.state.as_str(), "up") {
            state = format!("{state}/{}", r.check.state);
        }
    }
    let _ = writeln!(
        s,
        "  {:<24} {:>6} {:>6} {:<9} {:>7} {:>7}  {}",
        who, r.weight, kernel, state, act, inact, last
    );
}
