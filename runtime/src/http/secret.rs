//! What authenticates a client, never printed: a password or token ([`Secret`]) and the
//! credentials exchanged for a token.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;

use crate::error::{Error, Result};

/// A password or token: never printed.
#[derive(Clone)]
pub(crate) struct Secret(Arc<str>);

impl Secret {
    pub(crate) fn new(s: impl Into<String>) -> Self {
        Self(Arc::from(s.into()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The value as a header value flagged sensitive (kept out of HTTP/2 header tables).
    pub(crate) fn header_value(&self) -> Result<HeaderValue> {
        let mut v = HeaderValue::from_str(&self.0)
            .map_err(|_| Error::builder("the token is not a valid header value"))?;
        v.set_sensitive(true);
        Ok(v)
    }

    pub(crate) fn same(&self, other: &Secret) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// User name and password, exchanged for a token.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &self.password)
            .finish()
    }
}
