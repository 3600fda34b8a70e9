//! Named connection profiles in a TOML config file.
//!
//! ```toml
//! default = "prod"
//!
//! [profiles.prod]
//! url = "https://pim.example.com"
//! user = "api"
//! password_env = "PROD_PIM_PASSWORD"   # the variable that holds the password
//! generation = "2.3"                   # optional: skips detection
//!
//! [profiles.staging]
//! url = "https://staging.pim.example.com"
//! token_env = "STAGING_PIM_TOKEN"
//! ```
//!
//! A profile names the environment variables that hold secrets, never the secrets themselves, so
//! the file can be shared and kept in version control.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exit::{CliError, CliResult};

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The profile used when none is named.
    pub default: Option<String>,
    /// Profiles by name.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One named connection.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The instance's web root.
    pub url: Option<String>,
    /// The user name.
    pub user: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// The environment variable holding an API token.
    pub token_env: Option<String>,
    /// `2.2` or `2.3`.
    pub generation: Option<String>,
}

/// The default location: `<config dir>/atro/config.toml` (e.g. `~/.config/atro/config.toml`).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "atro").map(|d| d.config_dir().join("config.toml"))
}

/// Reads the config file at `path`; a missing file at the default location is an empty config,
/// a missing file named explicitly is an error.
pub fn load(path: Option<&Path>) -> CliResult<Config> {
    let (path, explicit) = match path {
        Some(p) => (p.to_owned(), true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(Config::default()),
        },
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Ok(Config::default());
        }
        Err(e) => {
            return Err(CliError::usage(format!(
                "cannot read the config file {}: {e}",
                path.display()
            )));
        }
    };
    parse(&text).map_err(|e| e.context(format!("config file {}", path.display())))
}

/// Parses a config file's text.
///
/// The error names the line and column but does not quote the file: a line could hold a secret.
pub fn parse(text: &str) -> CliResult<Config> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| {
            let before = text.get(..s.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!(" (line {line}, column {column})")
        });
        CliError::usage(format!(
            "{}{}",
            e.message().trim_end(),
            at.unwrap_or_default()
        ))
    })
}

impl Config {
    /// The profile `name`, or the default one; `None` when neither is set.
    pub fn profile(&self, name: Option<&str>) -> CliResult<Option<&Profile>> {
        let Some(name) = name.or(self.default.as_deref()) else {
            return Ok(None);
        };
        match self.profiles.get(name) {
            Some(p) => Ok(Some(p)),
            None => {
                let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
                Err(CliError::usage(format!(
                    "no profile `{name}` in the config file (profiles: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_default() {
        let c = parse(
            r#"
default = "prod"
[profiles.prod]
url = "https://pim.example.com"
user = "api"
password_env = "PIM_PW"
generation = "2.3"
[profiles.dev]
url = "http://localhost:8080"
"#,
        )
        .unwrap();
        assert_eq!(
            c.profile(None).unwrap().unwrap().url.as_deref(),
            Some("https://pim.example.com")
        );
        assert_eq!(
            c.profile(Some("dev")).unwrap().unwrap().url.as_deref(),
            Some("http://localhost:8080")
        );
        let e = c.profile(Some("nope")).unwrap_err();
        assert!(e.message.contains("dev, prod"), "{e}");
        assert!(Config::default().profile(None).unwrap().is_none());
    }

    #[test]
    fn secrets_are_not_accepted_inline() {
        let e = parse("[profiles.x]\npassword = \"hunter2\"\n").unwrap_err();
        assert!(
            e.message.contains("password") && e.message.contains("line 2"),
            "{e}"
        );
        assert!(!e.message.contains("hunter2"), "{e}");
    }
}
