//! What most programs using a generated client need, in one import:
//!
//! ```
//! use atrocore_runtime::prelude::*;
//!
//! # async fn demo(stream: atrocore_runtime::BoxStream<serde_json::Value>) -> Result<()> {
//! let mut records = stream;
//! while let Some(record) = records.try_next().await? { // `TryStreamExt` is in scope
//!     println!("{record}");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Generated crates re-export the runtime as `runtime`, so `use my_client::runtime::prelude::*`
//! works without a direct dependency on `atrocore-runtime` or `futures-util`.

pub use futures_util::{StreamExt, TryStreamExt};

pub use crate::{
    AttributeValue, Date, DateTime, Error, ErrorKind, Filter, LinkMany, LinkOne, LinkTo, Lookup,
    NameConflict, Patch, Result, UpsertItem, UpsertStatus, WriteOutcome,
};
