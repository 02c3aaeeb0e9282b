//! Extension (issue 9): the checks beyond Piranha's send/expect, with
//! keepalived's semantics (reference keepalived.md §1): `tcp` (connect),
//! `http`/`https` (GET, status codes, MD5 of the body, Host header, SNI,
//! optional certificate verification), `smtp` (220, HELO, 250, QUIT), `dns`
//! (one UDP query, the reply checked) and `misc` (a program: exit 0 up, 1
//! down, 2-255 up with weight exit - 2 in dynamic mode; on timeout its whole
//! process group is killed).
//!
//! Every check has one deadline (the I/O timeout) for all its steps, reads
//! at most a bounded number of bytes, and gives up at once when a stop
//! signal arrives. The parsers of what the server says
//! ([`parse_status_line`], [`smtp_reply`], [`check_dns_reply`]) are pure
//! functions over bytes, property-tested never to panic.

mod checker;
mod dns;
mod http;
mod io;
mod misc;
mod smtp;

pub use checker::*;
pub use dns::*;
pub use http::*;
pub use io::*;
pub use misc::*;
pub use smtp::*;

#[cfg(test)]
mod tests;
