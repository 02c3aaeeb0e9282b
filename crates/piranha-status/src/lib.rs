//! What a running director says about itself, and how an administrator
//! asks it and steers it.
//!
//! - [`model`]: the state of the director (pulse's role and partner,
//!   lvs's services and real servers with their checks, overrides and
//!   kernel counters), with its versioned JSON form;
//! - [`text`]: the same for a terminal;
//! - [`protocol`]: the control socket's request lines and answers;
//! - [`socket`]: the control socket itself (server and client);
//! - [`report`]: the datagram each nanny sends lvs after a check;
//! - [`overrides`]: the administrator's drains, weights and disables, kept
//!   in a file lvs writes and each nanny reads;
//! - [`metrics`]: the status as Prometheus metrics;
//! - [`http`]: the metrics endpoint, served from a poll loop.

pub mod http;
pub mod metrics;
pub mod model;
pub mod overrides;
pub mod protocol;
pub mod report;
pub mod socket;
pub mod text;

pub use model::{Director, VERSION};
pub use protocol::{Answer, Request, RequestError, Target};
