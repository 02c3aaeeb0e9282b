//! Piranha's `pulse`: heartbeat, failover and floating addresses.
//!
//! * [`guard`]: the takeover guard (nftables): segments of connections
//!   whose state has not arrived yet are dropped, not reset.
//! * [`heartbeat`]: the 4-byte wire format of Piranha 0.8.6 (both byte
//!   orders) and the authenticated extension.
//! * [`machine`]: the pure state machine (flags and timers) tested against a
//!   fake clock.
//! * [`lease`]: floating addresses with a lifetime the active pulse renews.
//! * [`switchover`]: `pulse --switchover`, the client side.
//! * [`daemon`]: the process: sockets, signals, lvs child, activation.

pub mod daemon;
pub mod guard;
pub mod heartbeat;
pub mod lease;
pub mod machine;
pub mod switchover;
pub use piranha_runtime::{arp, net};
