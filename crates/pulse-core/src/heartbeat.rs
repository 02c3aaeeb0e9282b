//! The heartbeat datagram, wire-compatible with Piranha 0.8.6.
//!
//! A Piranha heartbeat is a UDP datagram whose payload is exactly one 32-bit
//! magic number in the sender's host byte order (little-endian on x86).  We
//! send in host order like the original and accept both byte orders, so a
//! little-endian director pairs with a big-endian one.  Any other length is a
//! "bad heartbeat packet"; four bytes that are no known magic in either order
//! are an "incompatible heartbeat".
//!
//! With `heartbeat_key` (our extension) the datagram grows to
//! [`AUTH_LEN`] bytes: the magic (host order), a big-endian 64-bit sequence
//! number, a big-endian 64-bit timestamp in milliseconds since the epoch, and
//! an HMAC-SHA256 over those 20 bytes.  See [`Authenticator`].

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// LVS mode: the sender is active.
pub const LVS_RUNNING: u32 = 0xbdad_dbda;
/// LVS mode: the sender is inactive.
pub const LVS_STOPPED: u32 = 0xadbd_dabd;
/// FOS mode: running.
pub const FOS_RUNNING: u32 = 0xbeef_babe;
/// FOS mode: stopped.
pub const FOS_STOPPED: u32 = 0xdead_beef;
/// FOS mode: "stop, I take over".
pub const FOS_STOPME: u32 = 0xdead_dada;
/// Hold request (disabled logic in Piranha, accepted).
pub const HOLD: u32 = 0xdeaf_babe;
/// Hold acknowledgement (disabled logic in Piranha, accepted).
pub const HELD: u32 = 0xdeaf_dada;

/// Length of a Piranha heartbeat.
pub const PLAIN_LEN: usize = 4;
/// Length of an authenticated heartbeat.
pub const AUTH_LEN: usize = 4 + 8 + 8 + 32;

/// A known heartbeat magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Magic {
    /// [`LVS_RUNNING`]
    LvsRunning,
    /// [`LVS_STOPPED`]
    LvsStopped,
    /// [`FOS_RUNNING`]
    FosRunning,
    /// [`FOS_STOPPED`]
    FosStopped,
    /// [`FOS_STOPME`]
    FosStopMe,
    /// [`HOLD`]
    Hold,
    /// [`HELD`]
    Held,
}

impl Magic {
    /// The number on the wire.
    pub fn value(self) -> u32 {
        match self {
            Magic::LvsRunning => LVS_RUNNING,
            Magic::LvsStopped => LVS_STOPPED,
            Magic::FosRunning => FOS_RUNNING,
            Magic::FosStopped => FOS_STOPPED,
            Magic::FosStopMe => FOS_STOPME,
            Magic::Hold => HOLD,
            Magic::Held => HELD,
        }
    }

    /// The magic with this value, if any.
    pub fn from_value(v: u32) -> Option<Magic> {
        Some(match v {
            LVS_RUNNING => Magic::LvsRunning,
            LVS_STOPPED => Magic::LvsStopped,
            FOS_RUNNING => Magic::FosRunning,
            FOS_STOPPED => Magic::FosStopped,
            FOS_STOPME => Magic::FosStopMe,
            HOLD => Magic::Hold,
            HELD => Magic::Held,
            _ => return None,
        })
    }
}

/// Byte order a received magic was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The same as ours.
    Native,
    /// Swapped (a director of the other endianness).
    Swapped,
}

/// Why a datagram is not a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Wrong length.
    #[error("bad heartbeat packet")]
    BadLength(usize),
    /// Four bytes but no known magic.
    #[error("Incompatible heartbeat received -- other system not using identical services")]
    Incompatible(u32),
    /// Authenticated packet whose MAC does not verify.
    #[error("heartbeat authentication failed")]
    BadMac,
    /// Authenticated packet replayed or out of order.
    #[error("replayed heartbeat (sequence {0})")]
    Replay(u64),
    /// Authenticated packet whose timestamp is too far from our clock.
    #[error("stale heartbeat (clock skew {0} ms)")]
    Stale(i64),
}

/// Encode a Piranha heartbeat (host byte order, as 0.8.6 sends).
pub fn encode(m: Magic) -> [u8; PLAIN_LEN] {
    m.value().to_ne_bytes()
}

/// Decode four bytes in either byte order.
pub fn decode_magic(b: [u8; 4]) -> Result<(Magic, Order), DecodeError> {
    let native = u32::from_ne_bytes(b);
    if let Some(m) = Magic::from_value(native) {
        return Ok((m, Order::Native));
    }
    if let Some(m) = Magic::from_value(native.swap_bytes()) {
        return Ok((m, Order::Swapped));
    }
    Err(DecodeError::Incompatible(native))
}

/// Decode a Piranha heartbeat datagram.
pub fn decode(buf: &[u8]) -> Result<(Magic, Order), DecodeError> {
    let b: [u8; 4] = buf
        .try_into()
        .map_err(|_| DecodeError::BadLength(buf.len()))?;
    decode_magic(b)
}

type HmacSha256 = Hmac<Sha256>;

/// How far a timestamp may be from our clock, in milliseconds.
pub const MAX_SKEW_MS: i64 = 30_000;

/// The authenticated heartbeat (extension): sign outgoing packets and verify
/// incoming ones with a shared key, rejecting replays.
///
/// The sequence number starts at the wall-clock time in microseconds when
/// the authenticator is made and grows by one per packet, so it keeps
/// growing across restarts; a receiver accepts only sequence numbers above
/// the last one it accepted and timestamps within [`MAX_SKEW_MS`] of its
/// own clock (so a packet captured before a receiver restart cannot be
/// replayed later either).
#[derive(Clone)]
pub struct Authenticator {
    key: Vec<u8>,
    next_seq: u64,
    last_seen: Option<u64>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("next_seq", &self.next_seq)
            .field("last_seen", &self.last_seen)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// A new authenticator with `key`, numbering from `first_seq`.
    pub fn new(key: &[u8], first_seq: u64) -> Self {
        Authenticator {
            key: key.to_vec(),
            next_seq: first_seq,
            last_seen: None,
        }
    }

    fn mac(&self, body: &[u8]) -> [u8; 32] {
        let mut m = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(body);
        m.finalize().into_bytes().into()
    }

    /// Sign `m` with timestamp `now_ms`.
    pub fn encode(&mut self, m: Magic, now_ms: u64) -> [u8; AUTH_LEN] {
        let mut out = [0u8; AUTH_LEN];
        out[..4].copy_from_slice(&m.value().to_ne_bytes());
        out[4..12].copy_from_slice(&self.next_seq.to_be_bytes());
        out[12..20].copy_from_slice(&now_ms.to_be_bytes());
        self.next_seq += 1;
        let mac = self.mac(&out[..20]);
        out[20..].copy_from_slice(&mac);
        out
    }

    /// Verify and decode; `now_ms` is our clock.
    pub fn decode(&mut self, buf: &[u8], now_ms: u64) -> Result<(Magic, Order), DecodeError> {
        if buf.len() != AUTH_LEN {
            return Err(DecodeError::BadLength(buf.len()));
        }
        let mut m = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        m.update(&buf[..20]);
        m.verify_slice(&buf[20..])
            .map_err(|_| DecodeError::BadMac)?;
        let seq = u64::from_be_bytes(buf[4..12].try_into().expect("8 bytes"));
        let ts = u64::from_be_bytes(buf[12..20].try_into().expect("8 bytes"));
        let skew = ts as i64 - now_ms as i64;
        if skew.abs() > MAX_SKEW_MS {
            return Err(DecodeError::Stale(skew));
        }
        if self.last_seen.is_some_and(|l| seq <= l) {
            return Err(DecodeError::Replay(seq));
        }
        let r = decode_magic(buf[..4].try_into().expect("4 bytes"))?;
        self.last_seen = Some(seq);
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_host_order_like_piranha() {
        assert_eq!(encode(Magic::LvsRunning), LVS_RUNNING.to_ne_bytes());
        #[cfg(target_endian = "little")]
        assert_eq!(encode(Magic::LvsRunning), [0xda, 0xdb, 0xad, 0xbd]);
    }

    #[test]
    fn accepts_both_byte_orders() {
        for m in [
            Magic::LvsRunning,
            Magic::LvsStopped,
            Magic::FosRunning,
            Magic::FosStopped,
            Magic::FosStopMe,
            Magic::Hold,
            Magic::Held,
        ] {
            assert_eq!(
                decode(&m.value().to_le_bytes()).unwrap().0,
                m,
                "little-endian {m:?}"
            );
            assert_eq!(
                decode(&m.value().to_be_bytes()).unwrap().0,
                m,
                "big-endian {m:?}"
            );
        }
        assert_eq!(decode(&LVS_STOPPED.to_ne_bytes()).unwrap().1, Order::Native);
        assert_eq!(
            decode(&LVS_STOPPED.swap_bytes().to_ne_bytes()).unwrap().1,
            Order::Swapped
        );
    }

    #[test]
    fn bad_and_incompatible_packets() {
        assert_eq!(decode(&[1, 2, 3]), Err(DecodeError::BadLength(3)));
        assert_eq!(decode(&[0; 5]), Err(DecodeError::BadLength(5)));
        assert!(matches!(
            decode(&[1, 2, 3, 4]),
            Err(DecodeError::Incompatible(_))
        ));
        assert_eq!(
            DecodeError::BadLength(3).to_string(),
            "bad heartbeat packet"
        );
        assert_eq!(
            DecodeError::Incompatible(0).to_string(),
            "Incompatible heartbeat received -- other system not using identical services"
        );
    }

    #[test]
    fn authenticated_round_trip_and_replay() {
        let mut a = Authenticator::new(b"secret", 1000);
        let mut b = Authenticator::new(b"secret", 0);
        let p1 = a.encode(Magic::LvsRunning, 50_000);
        let p2 = a.encode(Magic::LvsStopped, 51_000);
        assert_eq!(b.decode(&p1, 50_100).unwrap().0, Magic::LvsRunning);
        assert_eq!(b.decode(&p2, 51_100).unwrap().0, Magic::LvsStopped);
        assert_eq!(b.decode(&p1, 51_200), Err(DecodeError::Replay(1000)));
        let p3 = a.encode(Magic::LvsRunning, 52_000);
        assert!(matches!(
            b.decode(&p3, 52_000 + 31_000),
            Err(DecodeError::Stale(_))
        ));
        let mut bad = a.encode(Magic::LvsRunning, 53_000);
        bad[0] ^= 1;
        assert_eq!(b.decode(&bad, 53_000), Err(DecodeError::BadMac));
        let mut wrong_key = Authenticator::new(b"other", 0);
        let p4 = a.encode(Magic::LvsRunning, 54_000);
        assert_eq!(wrong_key.decode(&p4, 54_000), Err(DecodeError::BadMac));
        assert_eq!(b.decode(&[0; 4], 0), Err(DecodeError::BadLength(4)));
    }
}
