//! [`Operation`]: the request builder every generated route returns (besides the entity CRUD
//! builders), so that all routes share one style: options (`with_meta`, `timeout`, `header`),
//! `into_request()` for anything else, and `.await` to send.
//!
//! The answer's decoding is chosen when the operation is made ([`Operation::json`],
//! [`Operation::empty`], …) and stored as a plain function pointer, so a generated crate
//! instantiates one small function per answer type instead of one `async fn` state machine per
//! route (less code to type-check and compile).

use std::fmt;
use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::entity::BoxFuture;
use crate::error::Result;
use crate::outcome::WriteOutcome;
use crate::request::RequestBuilder;

/// A prepared call of one API route. `.await` sends it and decodes the answer as `T`.
///
/// ```no_run
/// # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
/// use std::time::Duration;
/// use atrocore_runtime::{Method, Operation};
///
/// let op: Operation<serde_json::Value> =
///     Operation::json(client.request(Method::GET, "/Metadata"));
/// let metadata = op.timeout(Duration::from_secs(5)).await?;
/// # let _ = metadata;
/// # Ok(())
/// # }
/// ```
#[must_use = "an operation does nothing until it is awaited"]
pub struct Operation<T> {
    request: RequestBuilder,
    decode: fn(RequestBuilder) -> BoxFuture<T>,
}

impl<T> Operation<T> {
    /// Ask for `_meta` in the answer (header `With-Meta: true`), or not.
    pub fn with_meta(self, on: bool) -> Self {
        self.map_request(|r| r.header_opt("With-Meta", on.then_some("true")))
    }

    /// The time limit of each attempt, instead of the client's.
    pub fn timeout(self, d: Duration) -> Self {
        self.map_request(|r| r.timeout(d))
    }

    /// Sets the header `name` (replacing an earlier value).
    pub fn header(self, name: &str, value: impl fmt::Display) -> Self {
        self.map_request(|r| r.header(name, value))
    }

    /// The plain request, to change it further or send it with another decoding.
    pub fn into_request(self) -> RequestBuilder {
        self.request
    }

    fn map_request(self, f: impl FnOnce(RequestBuilder) -> RequestBuilder) -> Self {
        Self {
            request: f(self.request),
            decode: self.decode,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> Operation<T> {
    /// Decodes the JSON body of a `2xx` answer as `T`.
    pub fn json(request: RequestBuilder) -> Self {
        Self {
            request,
            decode: send_json::<T>,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> Operation<Option<T>> {
    /// Decodes the JSON body of a `2xx` answer as `T`; a `304 Not Modified` answer is `None`.
    pub fn json_unless_not_modified(request: RequestBuilder) -> Self {
        Self {
            request,
            decode: send_json_unless_not_modified::<T>,
        }
    }
}

impl Operation<()> {
    /// Ignores the body of a `2xx` answer.
    pub fn empty(request: RequestBuilder) -> Self {
        Self {
            request,
            decode: send_empty,
        }
    }
}

impl Operation<WriteOutcome> {
    /// A write whose answer only says it was done, or that it changed nothing (`304`).
    pub fn outcome(request: RequestBuilder) -> Self {
        Self {
            request,
            decode: send_outcome,
        }
    }
}

impl Operation<crate::RemovedAttributes> {
    /// `DELETE …/attributeValues`: 2.2's `{count, errors}`, 2.3's `true`, or `304` when none
    /// of the attributes was on the record, read as one [`RemovedAttributes`](crate::RemovedAttributes).
    pub fn removed_attributes(request: RequestBuilder) -> Self {
        Self {
            request,
            decode: send_removed_attributes,
        }
    }
}

impl Operation<Bytes> {
    /// The body of a `2xx` answer as bytes, read whole within the client's size limit.
    pub fn bytes(request: RequestBuilder) -> Self {
        Self {
            request,
            decode: send_bytes,
        }
    }
}

fn send_json<T: DeserializeOwned + Send + 'static>(request: RequestBuilder) -> BoxFuture<T> {
    Box::pin(request.send_json())
}

fn send_json_unless_not_modified<T: DeserializeOwned + Send + 'static>(
    request: RequestBuilder,
) -> BoxFuture<Option<T>> {
    Box::pin(request.send_json_unless_not_modified())
}

fn send_empty(request: RequestBuilder) -> BoxFuture<()> {
    Box::pin(request.send_empty())
}

fn send_outcome(request: RequestBuilder) -> BoxFuture<WriteOutcome> {
    Box::pin(request.send_outcome())
}

fn send_removed_attributes(request: RequestBuilder) -> BoxFuture<crate::RemovedAttributes> {
    Box::pin(async move {
        let answer = request.send_json_unless_not_modified().await?;
        Ok(crate::attributes::removed_from(answer))
    })
}

fn send_bytes(request: RequestBuilder) -> BoxFuture<Bytes> {
    Box::pin(request.send_bytes())
}

impl<T: Send + 'static> IntoFuture for Operation<T> {
    type Output = Result<T>;
    type IntoFuture = BoxFuture<T>;
    fn into_future(self) -> Self::IntoFuture {
        (self.decode)(self.request)
    }
}

impl<T> fmt::Debug for Operation<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Operation")
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}
