//! The HTTP layer: router and dispatch, parsed requests, authentication, faults, spec checks.
//! Handlers call the services; nothing below calls back up.

pub(crate) mod admission;
pub mod auth;
pub mod faults;
pub(crate) mod record;
pub mod request;
pub mod router;
pub mod spec_check;
