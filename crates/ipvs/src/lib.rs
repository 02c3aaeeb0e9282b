//! Linux IPVS from user space: the table model, a typed generic-netlink
//! client and an in-memory fake of the kernel table.
//!
//! - [`model`]: services, destinations, daemons, timeouts, counters.
//! - [`IpvsBackend`]: what the kernel offers, implemented over netlink by
//!   [`netlink::NetlinkIpvs`] and in memory by [`fake::FakeIpvs`] for tests.
//! - [`Error`]: a failed request (errno, socket, malformed reply), with
//!   ipvsadm 1.31's wording for it ([`Error::ipvsadm_message`]).
//! - [`sync`]: the connection table sent at once in the sync daemon's
//!   protocol (a director handing over).
//!
//! The ipvsadm command line (parser, usage, text formats, exit codes) is the
//! `ipvsadm-cli` crate, built on this one.

pub mod error;
pub mod fake;
pub mod model;
pub mod netlink;
pub mod procfs;
pub mod sync;

pub use error::{Error, OpKind};
pub use model::*;

/// One change to the kernel table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Remove every service.
    Flush,
    /// Add a service.
    AddService(Service),
    /// Replace a service's scheduler, flags, timeout and netmask.
    EditService(Service),
    /// Delete a service and its destinations.
    DelService(Service),
    /// Zero the counters of one service, or of all when `None`.
    Zero(Option<Service>),
    /// Add a destination to a service.
    AddDest(Service, Destination),
    /// Change a destination.
    EditDest(Service, Destination),
    /// Remove a destination.
    DelDest(Service, Destination),
    /// Set protocol timeouts (0 leaves a value unchanged).
    SetTimeouts(Timeouts),
    /// Start a sync daemon.
    StartDaemon(Daemon),
    /// Stop a sync daemon.
    StopDaemon(Daemon),
}

impl Op {
    /// The operation kind, for error wording.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Flush => OpKind::Flush,
            Op::AddService(_) => OpKind::AddService,
            Op::EditService(_) => OpKind::EditService,
            Op::DelService(_) => OpKind::DelService,
            Op::Zero(_) => OpKind::Zero,
            Op::AddDest(..) => OpKind::AddDest,
            Op::EditDest(..) => OpKind::EditDest,
            Op::DelDest(..) => OpKind::DelDest,
            Op::SetTimeouts(_) => OpKind::SetTimeouts,
            Op::StartDaemon(_) => OpKind::StartDaemon,
            Op::StopDaemon(_) => OpKind::StopDaemon,
        }
    }
}

/// The kernel's IPVS control interface.
pub trait IpvsBackend {
    /// Version and connection table size.
    fn info(&mut self) -> Result<Info, Error>;
    /// All services, in kernel order.
    fn services(&mut self) -> Result<Vec<Service>, Error>;
    /// One service, looked up by its identity.
    fn service(&mut self, id: &Service) -> Result<Service, Error>;
    /// The destinations of a service, in kernel order (newest first).
    fn dests(&mut self, svc: &Service) -> Result<Vec<Destination>, Error>;
    /// Protocol timeouts.
    fn timeouts(&mut self) -> Result<Timeouts, Error>;
    /// Running sync daemons (master first).
    fn daemons(&mut self) -> Result<Vec<Daemon>, Error>;
    /// Apply changes in order; one result per change. Later changes are
    /// attempted even when earlier ones fail.
    fn apply(&mut self, ops: &[Op]) -> Vec<Result<(), Error>>;

    /// Apply one change.
    fn apply_one(&mut self, op: &Op) -> Result<(), Error> {
        self.apply(std::slice::from_ref(op)).pop().unwrap_or(Ok(()))
    }

    /// Every service with its destinations, in kernel order.
    fn table(&mut self) -> Result<Vec<ServiceEntry>, Error> {
        let services = self.services()?;
        let mut out = Vec::with_capacity(services.len());
        for service in services {
            let dests = self.dests(&service)?;
            out.push(ServiceEntry { service, dests });
        }
        Ok(out)
    }
}
