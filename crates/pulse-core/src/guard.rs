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
//! The rule lives in an nftables table of its own, in the input hook at
//! priority 150, after IPVS (98, 99), so that it sees only what IPVS passed
//! to the local stack.  It is made with `nft -f -`.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

/// The nftables table (family ip).
pub const TABLE: &str = "piranha_takeover";

/// How long the guard stays after a takeover (the sync daemon's worst
/// delay is about 3 s, and a client retries after 0.2, 0.6, 1.4, 3 s...).
pub const GUARD_MS: u64 = 5000;

/// The `nft -f` script installing the guard for these TCP virtual services
/// (replacing any guard already there).
pub fn script(services: &[(Ipv4Addr, u16)]) -> String {
    let set = services
        .iter()
        .map(|(a, p)| format!("{a} . {p}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n\
         \tchain input {{\n\
         \t\ttype filter hook input priority 150; policy accept;\n\
         \t\tip daddr . tcp dport {{ {set} }} tcp flags & (syn | rst) == 0 counter drop\n\
         \t}}\n}}\n"
    )
}

/// The script removing the guard (whether there is one or not).
pub fn removal() -> String {
    format!("table ip {TABLE}\ndelete table ip {TABLE}\n")
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

    #[test]
    fn the_rule_matches_non_syn_segments_to_each_service_after_ipvs() {
        let s = script(&[
            (Ipv4Addr::new(10, 9, 0, 100), 80),
            (Ipv4Addr::new(10, 9, 0, 100), 443),
        ]);
        assert!(s.starts_with("table ip piranha_takeover\ndelete table ip piranha_takeover\n"));
        assert!(s.contains("type filter hook input priority 150; policy accept;"));
        assert!(s.contains(
            "ip daddr . tcp dport { 10.9.0.100 . 80, 10.9.0.100 . 443 } tcp flags & (syn | rst) == 0 counter drop"
        ));
    }
}
