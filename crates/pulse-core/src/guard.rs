//! The takeover guard: for a few seconds after a director brings the
//! virtual addresses up, a TCP segment that is not a SYN, for a virtual
//! service, that no IPVS connection claims, is dropped instead of being
//! answered with a RST by the local stack.
//!
//! Such a segment belongs to a connection the partner opened and whose
//! state has not arrived yet (the kernel's sync daemon sends a connection
//! at its third packet and holds a partly filled buffer up to two seconds;
//! a partner handing over sends its table at once, [`ipvs::sync`]).  A RST
//! would end that connection; dropped, the client sends the segment again
//! (after 200 ms or more) and by then the connection is known.  Only with
//! `syncdaemon = 1`: without connection state, holding a client's segments
//! only delays the end of its connection.
//!
//! With NAT (`network = nat`) two more rules, in the forward hook after
//! IPVS, cover the real servers' answers, which pass through the director:
//!
//! * a segment from a real server's service port that IPVS did not
//!   translate and that no routed connection of the director's own expects
//!   (conntrack: new or invalid) is dropped. It answers a connection this
//!   director has no entry for yet (the real servers' gateway moved here
//!   first); forwarded untranslated it reached the client from the real
//!   server's own address, and the client's RST aborted the connection on
//!   the real server. Dropped, the real server sends it again once the
//!   entry is here;
//! * a RST from a real server to a client (translated: from a VIP and
//!   port) is dropped. It comes from a real server that a stale entry
//!   sent a segment of another connection: a client reusing its port
//!   while the taking-over director still holds the finished connection
//!   of that port (TIME_WAIT, two minutes) reaches that connection's real
//!   server until the partner's connections arrive. Dropped, the client
//!   sends the segment again, and by then the entry points to the right
//!   real server. A real server's genuine RST is late by the client's
//!   retransmission, during the guard only.
//!
//! A director arms the guard for a handover it leaves too.
//!
//! The rules live in an nftables table of its own, in the input hook at
//! priority 150, after IPVS (98, 99), so that it sees only what IPVS passed
//! to the local stack: `table ip piranha_takeover` for the IPv4 services
//! (`ip daddr . tcp dport`), and when there are IPv6 services a separate
//! `table ip6 piranha_takeover` (`ip6 daddr . tcp dport`).  It is made
//! with `nft -f -`.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

/// The nftables table (in family ip, and ip6 for IPv6 services).
pub const TABLE: &str = "piranha_takeover";

/// How long the guard stays after a takeover (the sync daemon's worst
/// delay is about 3 s, and a client retries after 0.2, 0.6, 1.4, 3 s...).
pub const GUARD_MS: u64 = 5000;

/// The `nft -f` script installing the guard for these TCP virtual services
/// and, with NAT, the real servers (address and port) whose untranslated
/// answers are dropped (replacing any guard already there): the `ip`
/// table for IPv4, then the `ip6` table for IPv6, each only when its
/// family has a service or a real server.
pub fn script(services: &[(IpAddr, u16)], nat_servers: &[(IpAddr, u16)]) -> String {
    let set_of = |list: &[(IpAddr, u16)], v4: bool| {
        // each element once (nft refuses a set with one twice), in order
        let mut words: Vec<String> = Vec::new();
        for (a, p) in list.iter().filter(|(a, _)| a.is_ipv4() == v4) {
            let w = format!("{a} . {p}");
            if !words.contains(&w) {
                words.push(w);
            }
        }
        words.join(", ")
    };
    let mut out = String::new();
    for (family, v4) in [("ip", true), ("ip6", false)] {
        let set = set_of(services, v4);
        let servers = set_of(nat_servers, v4);
        if set.is_empty() && servers.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "table {family} {TABLE}\ndelete table {family} {TABLE}\ntable {family} {TABLE} {{\n"
        ));
        if !set.is_empty() {
            out.push_str(&format!(
                "\tchain input {{\n\
                 \t\ttype filter hook input priority 150; policy accept;\n\
                 \t\t{family} daddr . tcp dport {{ {set} }} tcp flags & (syn | rst) == 0 counter drop\n\
                 \t}}\n"
            ));
        }
        if !servers.is_empty() {
            out.push_str(&format!(
                "\tchain forward {{\n\
                 \t\ttype filter hook forward priority 150; policy accept;\n\
                 \t\t{family} saddr . tcp sport {{ {servers} }} ct state new,invalid counter drop\n"
            ));
            if !set.is_empty() {
                out.push_str(&format!(
                    "\t\t{family} saddr . tcp sport {{ {set} }} tcp flags & rst == rst counter drop\n"
                ));
            }
            out.push_str("\t}\n");
        }
        out.push_str("}\n");
    }
    out
}

/// The script removing the guard of both families (whether there is one
/// or not).
pub fn removal() -> String {
    format!("{}{}", removal_of("ip"), removal_of("ip6"))
}

/// The script removing the guard's table of one family.
fn removal_of(family: &str) -> String {
    format!("table {family} {TABLE}\ndelete table {family} {TABLE}\n")
}

/// Remove the guard of both families ([`removal`]).  nft applies a script
/// as one transaction: where the `ip6` family cannot be used (a kernel
/// without IPv6 netfilter) the whole script fails, so each family is
/// then removed on its own, and only the `ip` table's failure counts.
pub fn remove() -> Result<(), NftError> {
    if nft(&removal()).is_ok() {
        return Ok(());
    }
    let v4 = nft(&removal_of("ip"));
    let _ = nft(&removal_of("ip6"));
    v4
}

/// Why `nft` did not apply a script.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    /// The program could not be started.
    #[error("failed to run nft")]
    Spawn(#[source] std::io::Error),
    /// Waiting for it failed.
    #[error("failed to wait for nft")]
    Wait(#[source] std::io::Error),
    /// It ran and refused the script; its standard error.
    #[error("nft failed: {0}")]
    Refused(String),
}

/// Run `nft -f -` with `script`.
pub fn nft(script: &str) -> Result<(), NftError> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(NftError::Spawn)?;
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(script.as_bytes());
    }
    let out = child.wait_with_output().map_err(NftError::Wait)?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NftError::Refused(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(a: [u8; 4], p: u16) -> (IpAddr, u16) {
        (IpAddr::from(a), p)
    }

    /// The IPv4 script as it was before IPv6 services existed, byte for
    /// byte.
    const V4_SCRIPT: &str = "table ip piranha_takeover\ndelete table ip piranha_takeover\ntable ip piranha_takeover {\n\
\tchain input {\n\
\t\ttype filter hook input priority 150; policy accept;\n\
\t\tip daddr . tcp dport { 10.9.0.100 . 80, 10.9.0.100 . 443 } tcp flags & (syn | rst) == 0 counter drop\n\
\t}\n}\n";

    #[test]
    fn the_rule_matches_non_syn_segments_to_each_service_after_ipvs() {
        let s = script(&[v4([10, 9, 0, 100], 80), v4([10, 9, 0, 100], 443)], &[]);
        assert_eq!(s, V4_SCRIPT);
        assert!(s.starts_with("table ip piranha_takeover\ndelete table ip piranha_takeover\n"));
        assert!(s.contains("type filter hook input priority 150; policy accept;"));
        assert!(s.contains(
            "ip daddr . tcp dport { 10.9.0.100 . 80, 10.9.0.100 . 443 } tcp flags & (syn | rst) == 0 counter drop"
        ));
        assert!(!s.contains("ip6"), "no IPv6 table without IPv6 services");
    }

    #[test]
    fn ipv6_services_get_a_table_of_their_own() {
        let v6: IpAddr = "2001:db8::100".parse().unwrap();
        let both = script(
            &[
                v4([10, 9, 0, 100], 80),
                (v6, 80),
                v4([10, 9, 0, 100], 443),
                (v6, 443),
            ],
            &[],
        );
        let v6_script = "table ip6 piranha_takeover\ndelete table ip6 piranha_takeover\ntable ip6 piranha_takeover {\n\
\tchain input {\n\
\t\ttype filter hook input priority 150; policy accept;\n\
\t\tip6 daddr . tcp dport { 2001:db8::100 . 80, 2001:db8::100 . 443 } tcp flags & (syn | rst) == 0 counter drop\n\
\t}\n}\n";
        // the IPv4 table unchanged, then the IPv6 one
        assert_eq!(both, format!("{V4_SCRIPT}{v6_script}"));
        assert_eq!(script(&[(v6, 80), (v6, 443)], &[]), v6_script);
        assert_eq!(script(&[], &[]), "");
    }

    #[test]
    fn with_nat_untranslated_answers_of_real_servers_are_dropped() {
        let s = script(
            &[v4([10, 9, 0, 100], 80)],
            &[
                v4([10, 8, 0, 21], 80),
                v4([10, 8, 0, 22], 80),
                v4([10, 8, 0, 21], 80),
            ],
        );
        assert_eq!(
            s,
            "table ip piranha_takeover\ndelete table ip piranha_takeover\ntable ip piranha_takeover {\n\
\tchain input {\n\
\t\ttype filter hook input priority 150; policy accept;\n\
\t\tip daddr . tcp dport { 10.9.0.100 . 80 } tcp flags & (syn | rst) == 0 counter drop\n\
\t}\n\
\tchain forward {\n\
\t\ttype filter hook forward priority 150; policy accept;\n\
\t\tip saddr . tcp sport { 10.8.0.21 . 80, 10.8.0.22 . 80 } ct state new,invalid counter drop\n\
\t\tip saddr . tcp sport { 10.9.0.100 . 80 } tcp flags & rst == rst counter drop\n\
\t}\n}\n"
        );
        // a mark service without an address: the forward rule alone
        let only = script(&[], &[v4([10, 8, 0, 21], 80)]);
        assert!(only.contains("chain forward") && !only.contains("chain input"));
        assert!(!only.contains("rst == rst"), "no service, no RST rule");
    }

    #[test]
    fn removal_deletes_both_tables() {
        assert_eq!(
            removal(),
            "table ip piranha_takeover\ndelete table ip piranha_takeover\n\
             table ip6 piranha_takeover\ndelete table ip6 piranha_takeover\n"
        );
    }

    /// The scripts as nft reads them (`nft -c`: checked, nothing applied),
    /// where nft runs (root, nftables in the kernel); skipped otherwise.
    #[test]
    fn nft_accepts_the_scripts() {
        let v6: IpAddr = "2001:db8::100".parse().unwrap();
        let s = script(
            &[v4([10, 9, 0, 100], 80), (v6, 80)],
            &[
                v4([10, 8, 0, 21], 80),
                ("2001:db8:8::21".parse().unwrap(), 80),
            ],
        );
        let check = |text: &str| -> Option<Result<(), String>> {
            let mut child = Command::new("nft")
                .args(["-c", "-f", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .ok()?;
            child.stdin.take()?.write_all(text.as_bytes()).ok()?;
            let out = child.wait_with_output().ok()?;
            Some(if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            })
        };
        match check("table ip piranha_probe\ndelete table ip piranha_probe\n") {
            Some(Ok(())) => {}
            other => {
                eprintln!("skipped: nft cannot check scripts here ({other:?})");
                return;
            }
        }
        assert_eq!(check(&s), Some(Ok(())), "{s}");
        assert_eq!(check(&removal()), Some(Ok(())));
    }
}
