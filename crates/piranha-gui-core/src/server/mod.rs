//! The gate every request passes, and the handlers of every page.
//!
//! [`router()`] puts every page behind the gate (allow-list, authentication,
//! CSRF); the handlers of each panel live in their own file.

mod app;
mod control;
mod gate;
mod global;
mod helpers;
mod login;
mod redundancy;
mod router;
mod virtual_servers;

pub use app::{App, Ctx};
pub use gate::{safe_next, MAX_FIELD_LEN};
pub use router::{router, serve};
