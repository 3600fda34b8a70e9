//! The request core, the runtime's lowest layer (it imports nothing above it): `config` (API
//! generation, retry policy, connection settings), `secret`, `session` (token cache and login)
//! and the send loop.
//!
//! The send loop: every request the runtime sends (JSON calls, logins, file chunks,
//! downloads) goes through [`execute::Prepared::execute`], so one set of rules holds for all of
//! them: authentication and its renewal on `401`, which failures are retried and how long to
//! wait (`Retry-After` capped), redirects (never to another origin or from `https` to `http`),
//! how much of an answer is read, and one tracing span per request.
//!
//! Bodies plug in as sources ([`body::RequestBody`]: buffered JSON, or a stream made afresh for
//! every attempt) and answers are read buffered with a size limit or handed over as a stream.

pub(crate) mod body;
pub(crate) mod config;
pub(crate) mod execute;
pub(crate) mod retry_after;
pub(crate) mod secret;
pub(crate) mod session;
