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
pub mod lexer;
pub mod lower;
pub mod parser;
#[cfg(test)]
mod roundtrip;

use std::fmt::Write as _;

use atrocore_runtime::Where;

use crate::exit::CliError;
use crate::metadata::Entity;

/// A byte range of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
}

/// A parse or name error at a place of the input.
#[derive(Debug, Clone, PartialEq)]
pub struct LangError {
    /// Where.
    pub span: Span,
    /// What is wrong, and what was expected.
    pub message: String,
}

impl LangError {
    /// An error about `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
        }
    }

    /// The 1-based column (in characters) where the error starts.
    pub fn column(&self, input: &str) -> usize {
        input
            .get(..self.span.start.min(input.len()))
            .map_or(0, |s| s.chars().count())
            + 1
    }

    /// The message, then the input with carets under the span:
    ///
    /// ```text
    /// --where, column 6: expected a test: = != < …, found `lik`
    ///   name lik "x"
    ///        ^^^
    /// ```
    pub fn render(&self, input: &str) -> String {
        let column = self.column(input);
        let width = input
            .get(self.span.start.min(input.len())..self.span.end.min(input.len()))
            .map_or(0, |s| s.chars().count())
            .max(1);
        // Tabs and newlines would shift the caret: show them as spaces.
        let shown: String = input
            .chars()
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .collect();
        let mut out = format!("--where, column {column}: {}\n  {shown}\n  ", self.message);
        let _ = write!(out, "{}{}", " ".repeat(column - 1), "^".repeat(width));
        out
    }
}

/// Parses `input` and checks it against `entity`: the runtime's `where`, or a usage error whose
/// message points at the column.
pub fn compile(input: &str, entity: &Entity) -> Result<Where, CliError> {
    let expr = parser::parse(input).map_err(|e| CliError::usage(e.render(input)))?;
    lower::lower(&expr, entity).map_err(|e| CliError::usage(e.render(input)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_puts_the_caret_under_the_span() {
        let e = LangError::new(Span::new(5, 8), "expected a test");
        assert_eq!(
            e.render("name lik \"x\""),
            "--where, column 6: expected a test\n  name lik \"x\"\n       ^^^"
        );
        // Columns count characters, not bytes.
        let e = LangError::new(Span::new(9, 10), "here");
        assert_eq!(e.column("näme = x!"), 9);
        let end = LangError::new(Span::new(4, 4), "at the end");
        assert!(end.render("name").ends_with("\n      ^"));
    }
}
