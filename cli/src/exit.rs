//! Exit codes and the one error type of the tool: every failure carries the code it exits with.

use std::fmt;

use atrocore_runtime::ErrorKind;

/// What `atro` exits with; listed in `atro --help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything worked.
    Ok = 0,
    /// Some items failed (import rows, uploads), the others worked.
    Partial = 1,
    /// The command line, a `--where` expression, a file or a name is wrong; nothing was changed.
    Usage = 2,
    /// The instance refused the credentials (`401`) or the user's role (`403`).
    Auth = 3,
    /// The record, entity or route does not exist (`404`).
    NotFound = 4,
    /// Any other failure: the server (`4xx`, `5xx`), the network, a local file.
    Other = 5,
}

/// The text of `atro --help` about exit codes.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  partial failure: some rows or files failed (see the reject file / messages), the rest worked
  2  usage: bad arguments, --where expression, field or entity name, or input file
  3  authentication or permission refused (401, 403)
  4  not found (404): no such record, entity or route
  5  other error: server error, network, timeout, local file";

/// A failure of a command: the message shown on stderr and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: Exit,
    /// What went wrong, in one or more lines (never a secret).
    pub message: String,
}

impl CliError {
    /// A failure with this code.
    pub fn new(code: Exit, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A usage failure (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// Any other failure (exit code 5).
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(Exit::Other, message)
    }

    /// The same failure with `context` in front (`context: message`).
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// The exit code for a runtime error kind.
pub fn code_of(kind: ErrorKind) -> Exit {
    match kind {
        ErrorKind::Auth | ErrorKind::Forbidden => Exit::Auth,
        ErrorKind::NotFound => Exit::NotFound,
        // Refused before sending: the input cannot be sent as meant.
        ErrorKind::Builder | ErrorKind::Query => Exit::Usage,
        _ => Exit::Other,
    }
}

impl From<atrocore_runtime::Error> for CliError {
    /// The runtime's error text never holds a password, token or query string.
    fn from(e: atrocore_runtime::Error) -> Self {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            let text = s.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = s.source();
        }
        Self::new(code_of(e.kind()), message)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        Self::other(e.to_string())
    }
}

/// A `Result` with a [`CliError`].
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_documented_codes() {
        assert_eq!(code_of(ErrorKind::Auth), Exit::Auth);
        assert_eq!(code_of(ErrorKind::Forbidden), Exit::Auth);
        assert_eq!(code_of(ErrorKind::NotFound), Exit::NotFound);
        assert_eq!(code_of(ErrorKind::Query), Exit::Usage);
        assert_eq!(code_of(ErrorKind::Server), Exit::Other);
        assert_eq!(code_of(ErrorKind::Transport), Exit::Other);
        assert_eq!(code_of(ErrorKind::Validation), Exit::Other);
        for code in 0..=5 {
            assert!(EXIT_CODES_HELP.contains(&format!("  {code}  ")));
        }
    }
}
