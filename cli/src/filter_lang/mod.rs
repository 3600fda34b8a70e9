//! The `--where` language: a small expression language parsed into the runtime's `where` tree
//! and checked against the instance's metadata.
//!
//! ```text
//! name like "%chair%" and isActive and (brand in (b1, b2) or not sortOrder > 5)
//! createdAt in last 7 days
//! attr:weight > 2.5 and attr:color@de_DE = rot
//! ```
//!
//! [`lexer`] → [`parser`] (→ [`ast`], which prints back to text the parser reads to the same
//! tree) → [`lower`] (metadata checks, the runtime's `Where`). Every error carries the span of
//! the input it is about and renders with a caret under it.

pub mod ast;
pub mod error;
pub mod lexer;
pub mod lower;
pub mod parser;
#[cfg(test)]
mod roundtrip;

use atrocore_runtime::Where;

use crate::exit::CliError;
use crate::metadata::Entity;

/// Parses `input` and checks it against `entity`: the runtime's `where`, or a usage error whose
/// message points at the column.
pub fn compile(input: &str, entity: &Entity) -> Result<Where, CliError> {
    let expr = parser::parse(input).map_err(|e| CliError::usage(e.render(input)))?;
    lower::lower(&expr, entity).map_err(|e| CliError::usage(e.render(input)))
}
