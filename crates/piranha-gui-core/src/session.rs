//! Sessions, CSRF tokens and the failed-login back-off.
//!
//! A session is a random 256-bit id in a cookie (`HttpOnly`,
//! `SameSite=Strict`, `Path=/`) naming a server-side record with its own
//! random CSRF token. The login form gets an anonymous session first, so
//! the login POST is CSRF-checked too; a successful login replaces it with
//! a fresh id (no session fixation). Sessions end after an idle timeout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// Name of the session cookie.
pub const COOKIE: &str = "piranha_session";

/// At most this many sessions are kept; beyond it the least recently used
/// anonymous (then authenticated) ones are dropped.
const MAX_SESSIONS: usize = 4096;

/// A random token: 32 bytes, hex.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the kernel's random source is available");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Compare two tokens in constant time.
pub fn token_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// One session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    /// Logged in as `piranha` (false: the login form's anonymous session).
    pub authed: bool,
    last_seen: Instant,
}

/// Every live session.
#[derive(Debug)]
pub struct Sessions {
    map: HashMap<String, Session>,
    idle: Duration,
}

impl Sessions {
    /// An empty store whose sessions end after `idle` without a request.
    pub fn new(idle: Duration) -> Self {
        Sessions {
            map: HashMap::new(),
            idle,
        }
    }

    /// The session `id`, touched; `None` if unknown or expired (an expired
    /// one is removed).
    pub fn get(&mut self, id: &str, now: Instant) -> Option<Session> {
        let s = self.map.get_mut(id)?;
        if now.duration_since(s.last_seen) > self.idle {
            self.map.remove(id);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    /// Create a session; returns its id.
    pub fn create(&mut self, authed: bool, now: Instant) -> (String, Session) {
        if self.map.len() >= MAX_SESSIONS {
            self.prune(now);
        }
        let id = new_token();
        let s = Session {
            csrf: new_token(),
            authed,
            last_seen: now,
        };
        self.map.insert(id.clone(), s.clone());
        (id, s)
    }

    /// End a session.
    pub fn remove(&mut self, id: &str) {
        self.map.remove(id);
    }

    fn prune(&mut self, now: Instant) {
        let idle = self.idle;
        self.map
            .retain(|_, s| now.duration_since(s.last_seen) <= idle);
        while self.map.len() >= MAX_SESSIONS {
            let victim = self
                .map
                .iter()
                .min_by_key(|(_, s)| (s.authed, s.last_seen))
                .map(|(k, _)| k.clone());
            match victim {
                Some(k) => {
                    self.map.remove(&k);
                }
                None => break,
            }
        }
    }

    /// How many sessions are live (for tests).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when there is no session.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Failed logins per client address: each failure doubles the wait before
/// that client's next answer (from `base`, at most `max`); other clients
/// are not slowed. A success clears the record.
#[derive(Debug)]
pub struct Throttle {
    base: Duration,
    max: Duration,
    map: HashMap<IpAddr, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    next_slot: Instant,
}

impl Throttle {
    /// A throttle starting at `base` and capped at `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Throttle {
            base,
            max,
            map: HashMap::new(),
        }
    }

    fn delay(&self, count: u32) -> Duration {
        if count == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32 << (count - 1).min(16);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// When an attempt from `ip` may be checked: now for a client without
    /// failures, otherwise after its pending delay (attempts in parallel
    /// queue one delay apart).
    pub fn slot(&mut self, ip: IpAddr, now: Instant) -> Instant {
        let d = match self.map.get(&ip) {
            Some(f) if f.count > 0 => self.delay(f.count),
            _ => return now,
        };
        let f = self.map.get_mut(&ip).expect("present");
        let slot = f.next_slot.max(now);
        f.next_slot = slot + d;
        slot
    }

    /// Record a failure; returns how long to wait before answering.
    pub fn failed(&mut self, ip: IpAddr, now: Instant) -> Duration {
        if self.map.len() > 65536 {
            let max = self.max;
            self.map.retain(|_, f| f.next_slot + max * 4 > now);
        }
        let f = self.map.entry(ip).or_insert(Failures {
            count: 0,
            next_slot: now,
        });
        f.count = f.count.saturating_add(1);
        let count = f.count;
        let d = self.delay(count);
        let f = self.map.get_mut(&ip).expect("present");
        f.next_slot = f.next_slot.max(now + d);
        d
    }

    /// Record a success.
    pub fn succeeded(&mut self, ip: IpAddr) {
        self.map.remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle() {
        let mut s = Sessions::new(Duration::from_secs(10));
        let t0 = Instant::now();
        let (id, _) = s.create(true, t0);
        assert!(s.get(&id, t0 + Duration::from_secs(9)).is_some());
        assert!(s.get(&id, t0 + Duration::from_secs(18)).is_some());
        assert!(s.get(&id, t0 + Duration::from_secs(29)).is_none());
        assert!(s.is_empty());
    }

    #[test]
    fn throttle_doubles_per_client() {
        let mut t = Throttle::new(Duration::from_secs(1), Duration::from_secs(5));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let now = Instant::now();
        assert_eq!(t.failed(a, now), Duration::from_secs(1));
        assert_eq!(t.failed(a, now), Duration::from_secs(2));
        assert_eq!(t.failed(a, now), Duration::from_secs(4));
        assert_eq!(t.failed(a, now), Duration::from_secs(5));
        assert_eq!(t.slot(b, now), now);
        assert!(t.slot(a, now) > now);
        t.succeeded(a);
        assert_eq!(t.slot(a, now), now);
    }

    #[test]
    fn tokens_are_random_and_compare() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert!(token_eq(&a, &a.clone()));
        assert!(!token_eq(&a, &new_token()));
        assert!(!token_eq(&a, ""));
    }
}
