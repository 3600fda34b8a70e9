//! The simulator as a test server for users' integration tests: records seeded without HTTP,
//! faults changed while serving, and what was received ([`crate::request_log`]).

use serde_json::Value;

use crate::request_log::LoggedRequest;
use crate::services::records;
use crate::{Faults, Simulator};

/// Why [`Simulator::seed`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The spec has no such entity.
    #[error("seeding {0}: the spec has no entity of that name")]
    UnknownEntity(String),
    /// A record is not a JSON object.
    #[error("seeding {entity}, record {index}: not a JSON object")]
    NotAnObject {
        /// The entity.
        entity: String,
        /// The record's position in the input (from 0).
        index: usize,
    },
    /// The server refused a record, as it would refuse `POST /{entity}`.
    #[error("seeding {entity}, record {index}: {status} {message}")]
    Refused {
        /// The entity.
        entity: String,
        /// The record's position in the input (from 0).
        index: usize,
        /// The status `POST /{entity}` would answer.
        status: u16,
        /// The server's message (its `X-Status-Reason`).
        message: String,
    },
}

impl Simulator {
    /// Creates `records` of `entity` as `POST /{entity}` by the administrator would: required
    /// fields, unique values and link ids checked, defaults applied, links given by id (or, like
    /// the API, found or created by their fields), an `id` kept when one is given. No HTTP is
    /// involved: seeding is neither faulted nor logged. Returns the created records as the API
    /// answers a read (ids included). Stops at the first record the server refuses; those before
    /// it stay.
    pub fn seed(
        &self,
        entity: &str,
        records: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<Value>, SeedError> {
        let e = self
            .app
            .model
            .entity(entity)
            .ok_or_else(|| SeedError::UnknownEntity(entity.to_owned()))?;
        self.app.as_admin(|ctx| {
            let mut created = Vec::new();
            for (index, record) in records.into_iter().enumerate() {
                if !record.is_object() {
                    return Err(SeedError::NotAnObject {
                        entity: entity.to_owned(),
                        index,
                    });
                }
                let answer =
                    records::create(ctx, e, record, true).map_err(|err| SeedError::Refused {
                        entity: entity.to_owned(),
                        index,
                        status: err.status.as_u16(),
                        message: err.message,
                    })?;
                created.push(answer);
            }
            Ok(created)
        })
    }

    /// Replaces the injected faults while serving (latency, dropped connections, 503 and 429
    /// answers, lost write answers), the random generator seeded anew from `faults.seed`. The
    /// token limits (`token_max_requests`, `token_ttl`) stay as the simulator started.
    pub fn set_faults(&self, faults: Faults) {
        self.app.faults.set(faults);
    }

    /// The requests received so far, oldest first: the last [`SimConfig::request_log`]
    /// (default 1000) of them, secrets redacted (see [`crate::request_log`]).
    ///
    /// [`SimConfig::request_log`]: crate::SimConfig::request_log
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.app.request_log.snapshot()
    }

    /// Like [`Simulator::requests`], and empties the log: each step of a test can look at its
    /// own requests only.
    pub fn take_requests(&self) -> Vec<LoggedRequest> {
        self.app.request_log.take()
    }
}
