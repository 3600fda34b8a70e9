//! Places in the input ([`Span`]) and errors at them ([`LangError`]), for every stage.

use std::fmt::Write as _;

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
