//! Which real servers of a virtual service are live, read from the state
//! lines its nannies print (`[ active ] making RIP:PORT available`,
//! `[inactive] shutting down RIP:PORT ...`), for the sorry server.
//!
//! Piranha counted substrings in whatever it read from the pipe, with a
//! garbled ipvsadm call after (B11). Here a line is one complete line, the
//! address is parsed, and a count is a set, so a repeated line cannot
//! count twice.

use std::collections::BTreeSet;
use std::net::SocketAddr;

/// A state change found in one nanny output line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The real server was added.
    Up(SocketAddr),
    /// The real server was removed (or quiesced).
    Down(SocketAddr),
}

/// Read one nanny output line (with or without the `nanny: ` prefix).
pub fn parse_line(line: &str) -> Option<Event> {
    if let Some(rest) = line.split_once("[ active ] making ").map(|x| x.1) {
        let addr = rest.split_whitespace().next()?;
        return addr.parse().ok().map(Event::Up);
    }
    if let Some(rest) = line.split_once("[inactive] shutting down ").map(|x| x.1) {
        let addr = rest.split_whitespace().next()?;
        return addr.parse().ok().map(Event::Down);
    }
    None
}

/// The live real servers of one virtual service.
#[derive(Clone, Debug, Default)]
pub struct Live {
    up: BTreeSet<SocketAddr>,
}

impl Live {
    /// Apply an event; returns the live count after it.
    pub fn apply(&mut self, e: Event) -> usize {
        match e {
            Event::Up(a) => {
                self.up.insert(a);
            }
            Event::Down(a) => {
                self.up.remove(&a);
            }
        }
        self.up.len()
    }

    /// Forget a real server (its nanny is gone and removed it).
    pub fn forget(&mut self, a: SocketAddr) -> usize {
        self.up.remove(&a);
        self.up.len()
    }

    /// How many are live.
    pub fn count(&self) -> usize {
        self.up.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let a: SocketAddr = "10.0.0.1:80".parse().unwrap();
        assert_eq!(
            parse_line("nanny: [ active ] making 10.0.0.1:80 available"),
            Some(Event::Up(a))
        );
        assert_eq!(
            parse_line("[ active ] making 10.0.0.1:80 available"),
            Some(Event::Up(a))
        );
        assert_eq!(
            parse_line("nanny: [inactive] shutting down 10.0.0.1:80 due to connection failure"),
            Some(Event::Down(a))
        );
        assert_eq!(parse_line("nanny: READ to 10.0.0.1:80 timed out"), None);
        let v6: SocketAddr = "[2001:db8::2]:80".parse().unwrap();
        assert_eq!(
            parse_line("nanny: [ active ] making [2001:db8::2]:80 available"),
            Some(Event::Up(v6))
        );
        assert_eq!(
            parse_line("[inactive] shutting down [2001:db8::2]:80 due to connection failure"),
            Some(Event::Down(v6))
        );
        assert_eq!(parse_line("[ active ] making garbage available"), None);
        // Extension (issue 9): the lines of the extended checks carry the
        // deciding check after the address; the weight line is no event.
        assert_eq!(
            parse_line("nanny: [ active ] making 10.0.0.1:80 available (http check: status 200)"),
            Some(Event::Up(a))
        );
        assert_eq!(
            parse_line("nanny: [inactive] shutting down 10.0.0.1:80 due to connection failure (misc check: exit 1, after 2 retries)"),
            Some(Event::Down(a))
        );
        assert_eq!(
            parse_line(
                "nanny: [ weight ] setting 10.0.0.1:80 weight to 5 (misc check: exit 7, weight 5)"
            ),
            None
        );
        let mut l = Live::default();
        assert_eq!(l.apply(Event::Up(a)), 1);
        assert_eq!(l.apply(Event::Up(a)), 1);
        assert_eq!(l.apply(Event::Down(a)), 0);
    }
}
