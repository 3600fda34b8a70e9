//! PHP's limits on the query string (`php.ini`), which AtroCore's server applies silently:
//! checked before every request is sent.

use crate::error::{Error, Result};

/// PHP's limits on the query string (`php.ini`), which AtroCore's server applies silently.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhpLimits {
    pub(crate) max_input_vars: usize,
    pub(crate) max_input_nesting_level: usize,
}

impl Default for PhpLimits {
    fn default() -> Self {
        Self {
            max_input_vars: 1000,
            max_input_nesting_level: 64,
        }
    }
}

impl PhpLimits {
    /// Fails when PHP would not read all of `query` (see `main/php_variables.c`: every non-empty
    /// `&`-separated variable counts one, and a variable nested deeper than the limit is dropped
    /// with its whole top-level array).
    ///
    /// One of PHP's `max_input_vars` is the web server's: AtroCore's rewrite turns every request
    /// into `index.php?atroq=<path>&<the client's query>` (`copy/public/.htaccess`,
    /// `RewriteRule ^(.*)$ index.php?atroq=$1 [L,QSA]`), so the client has one fewer.
    pub(crate) fn check(&self, query: &[(String, String)]) -> Result<()> {
        let room = self.max_input_vars.saturating_sub(1);
        if query.len() > room {
            return Err(Error::query(format!(
                "the query string has {} variables but the server reads at most {room} of them \
                 (PHP max_input_vars {}, one taken by the web server's rewrite) and would silently \
                 drop the rest; shorten the filter or raise the limit with \
                 ClientBuilder::max_input_vars if the server's php.ini allows more",
                query.len(),
                self.max_input_vars
            )));
        }
        if let Some((name, depth)) = query
            .iter()
            .map(|(k, _)| (k, k.matches('[').count()))
            .find(|(_, d)| *d > self.max_input_nesting_level)
        {
            let base = name.split('[').next().unwrap_or_default();
            return Err(Error::query(format!(
                "query parameter `{base}` nests {depth} levels deep but the server reads at most \
                 {} (PHP max_input_nesting_level) and would silently drop all of `{base}`",
                self.max_input_nesting_level
            )));
        }
        Ok(())
    }
}
