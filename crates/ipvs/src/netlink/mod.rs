//! The generic-netlink `IPVS` family: typed messages and the blocking client.
//!
//! Framing, attribute alignment and header layout come from the rust-netlink
//! crates (`netlink-packet-core`, `netlink-packet-generic`, `netlink-sys`);
//! this module only defines the IPVS commands and attribute spaces
//! (`include/uapi/linux/ip_vs.h`) and the request/acknowledge loop.
//!
//! One [`NetlinkIpvs`] holds one socket and resolves the family once. Bulk
//! changes go through [`crate::IpvsBackend::apply`], which writes many requests
//! per `send` and collects their acknowledgements in order, so a restore of
//! thousands of entries costs a few hundred system calls, not a socket (or a
//! process) per entry.

mod attrs;
mod client;
mod convert;
#[cfg(test)]
mod tests;

pub use attrs::{
    cmd, CmdNla, DaemonNla, DestNla, IpvsMessage, StatsNla, SvcNla, IPVS_GENL_NAME,
    IPVS_GENL_VERSION,
};
pub use client::NetlinkIpvs;
pub use convert::{
    daemon_from_nlas, dest_from_nlas, dest_nlas, op_message, service_from_nlas, service_id_nlas,
    service_nlas,
};
