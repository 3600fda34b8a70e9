//! From flags, environment and profile to a logged-in runtime [`Client`], with the API
//! generation detected from the instance when not given.
//!
//! Precedence for each setting: the flag (or its environment variable, `ATROCORE_URL`,
//! `ATROCORE_USER`), then the profile. Secrets come only from the environment:
//! `ATROCORE_PASSWORD` / `ATROCORE_TOKEN`, or the variables the profile names. They are handed
//! to the runtime, which never prints them; this module never formats them either.

use std::time::Duration;

use atrocore_runtime::{ApiGeneration, Client, ErrorKind};

use crate::args::{ConnectionArgs, GenerationArg};
use crate::exit::{CliError, CliResult, Exit};
use crate::profiles;

/// How to authenticate.
enum Secret {
    Password(String),
    Token(String),
}

/// The resolved settings (no secret is ever printed: there is no `Debug`).
pub struct Settings {
    url: String,
    user: Option<String>,
    secret: Option<Secret>,
    generation: Option<ApiGeneration>,
    timeout: Duration,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn parse_generation(text: &str) -> CliResult<ApiGeneration> {
    match text.trim() {
        "2.2" => Ok(ApiGeneration::V2_2),
        "2.3" => Ok(ApiGeneration::V2_3),
        other => Err(CliError::usage(format!(
            "unknown API generation `{other}`: expected 2.2 or 2.3"
        ))),
    }
}

impl Settings {
    /// Resolves flags, environment and profile.
    ///
    /// A flag always wins. A profile named with `--profile` (or `ATRO_PROFILE`) wins over the
    /// `ATROCORE_*` environment; the config file's default profile only fills what the
    /// environment leaves open. Secrets come as a pair from one place: the named profile's
    /// variables when they are set, else `ATROCORE_PASSWORD` / `ATROCORE_TOKEN`, else the
    /// default profile's variables.
    pub fn resolve(args: &ConnectionArgs) -> CliResult<Settings> {
        let config = profiles::load(args.config.as_deref())?;
        let explicit = args.profile.is_some();
        let profile = config
            .profile(args.profile.as_deref())?
            .cloned()
            .unwrap_or_default();
        let pick = |flag: Option<String>, from_profile: Option<String>, var: &str| {
            flag.or(if explicit {
                from_profile.or_else(|| env(var))
            } else {
                env(var).or(from_profile)
            })
        };
        let url = pick(args.url.clone(), profile.url.clone(), "ATROCORE_URL").ok_or_else(|| {
            CliError::usage(
                "no instance URL: pass --url, set ATROCORE_URL, or name a profile with --profile",
            )
        })?;
        check_url(&url)?;
        let user = pick(args.user.clone(), profile.user.clone(), "ATROCORE_USER");
        let from_profile = (
            profile.password_env.as_deref().and_then(env),
            profile.token_env.as_deref().and_then(env),
        );
        let from_env = (env("ATROCORE_PASSWORD"), env("ATROCORE_TOKEN"));
        let set = |s: &(Option<String>, Option<String>)| s.0.is_some() || s.1.is_some();
        let (password, token) = if (explicit && set(&from_profile)) || !set(&from_env) {
            from_profile
        } else {
            from_env
        };
        let secret = match (token, password) {
            (Some(t), _) => Some(Secret::Token(t)),
            (None, Some(p)) => {
                if user.is_none() {
                    return Err(CliError::usage(
                        "a password is set but no user: pass --user or set ATROCORE_USER",
                    ));
                }
                Some(Secret::Password(p))
            }
            (None, None) => None,
        };
        let generation = match (args.generation, profile.generation) {
            (Some(GenerationArg::V22), _) => Some(ApiGeneration::V2_2),
            (Some(GenerationArg::V23), _) => Some(ApiGeneration::V2_3),
            (None, Some(g)) => Some(parse_generation(&g)?),
            (None, None) => None,
        };
        Ok(Settings {
            url,
            user,
            secret,
            generation,
            timeout: Duration::from_secs(args.timeout.max(1)),
        })
    }

    fn client(&self, generation: ApiGeneration) -> CliResult<Client> {
        let mut b = Client::builder(&self.url)
            .generation(generation)
            .timeout(self.timeout)
            .user_agent(concat!("atro/", env!("CARGO_PKG_VERSION")));
        match (&self.secret, &self.user) {
            (Some(Secret::Token(t)), _) => b = b.token(t.clone()),
            (Some(Secret::Password(p)), Some(u)) => b = b.basic_auth(u.clone(), p.clone()),
            _ => {}
        }
        Ok(b.build()?)
    }

    /// A client that has logged in (or, with a token, whose token was accepted), for the given
    /// generation or the one the instance answers to.
    ///
    /// Detection: the generation's token route (`/api/v1/App/user`, `/api/userSession`) is asked
    /// for the session; the one that answers is the instance's. A route that does not exist
    /// answers `404` (or a page that is not JSON); wrong credentials answer `401` on the right
    /// route, which is reported as an authentication failure.
    pub async fn connect(&self) -> CliResult<Client> {
        if self.secret.is_none() {
            return Err(CliError::new(
                Exit::Auth,
                "no credentials: set ATROCORE_PASSWORD (with --user / ATROCORE_USER) or \
                 ATROCORE_TOKEN, or name a profile that points at them",
            ));
        }
        let candidates = match self.generation {
            Some(g) => vec![g],
            None => vec![ApiGeneration::V2_3, ApiGeneration::V2_2],
        };
        let mut errors = Vec::new();
        for g in candidates {
            let client = self.client(g)?;
            match probe(&client, matches!(self.secret, Some(Secret::Password(_)))).await {
                Ok(()) => return Ok(client),
                Err(e) => errors.push(e),
            }
        }
        // A refused login on one generation's route is the answer; else the first failure.
        let refused = errors.iter().position(|e| e.kind() == ErrorKind::Auth);
        let pick = refused.unwrap_or(0);
        let e = errors.swap_remove(pick);
        let err = CliError::from(e);
        if self.generation.is_none() && refused.is_none() {
            Err(err.context(
                "cannot reach the API of this instance as AtroCore 2.2 (/api/v1) or 2.3 (/api); \
                 check --url, or pass --generation",
            ))
        } else {
            Err(err.context("login failed"))
        }
    }
}

/// Logs in with the password, or asks the generation's token route for the session of the
/// token.
async fn probe(client: &Client, with_password: bool) -> Result<(), atrocore_runtime::Error> {
    if with_password {
        return client.login().await;
    }
    let path = client.generation().token_path();
    let _: serde_json::Value = client
        .request(atrocore_runtime::Method::GET, path)
        .send_json()
        .await?;
    Ok(())
}

/// Refuses URLs that carry credentials (they would end up in shell history and logs) and
/// anything that is not an http(s) URL, without repeating the URL.
fn check_url(url: &str) -> CliResult<()> {
    let url = url.trim();
    // `127.0.0.1:8080` or `pim.example.com` lack only the scheme: say which to add (never
    // echoing what may hold credentials).
    let hint = || {
        if url.contains("://") || url.contains('@') || url.is_empty() {
            return String::new();
        }
        let local = url.starts_with("localhost") || url.starts_with("127.") || url.starts_with('[');
        let scheme = if local { "http" } else { "https" };
        format!(": add the scheme, e.g. {scheme}://{url}")
    };
    let parsed = url::Url::parse(url)
        .map_err(|e| CliError::usage(format!("the instance URL is not a URL ({e}){}", hint())))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CliError::usage(format!(
            "the instance URL must start with http:// or https://{}",
            hint()
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(CliError::usage(
            "the instance URL must not hold credentials: use ATROCORE_USER and \
             ATROCORE_PASSWORD (or ATROCORE_TOKEN)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_without_a_scheme_say_which_to_add() {
        let e = check_url("127.0.0.1:8080").unwrap_err();
        assert!(e.message.contains("http://127.0.0.1:8080"), "{e}");
        let e = check_url("localhost:8080").unwrap_err();
        assert!(e.message.contains("http://localhost:8080"), "{e}");
        let e = check_url("pim.example.com").unwrap_err();
        assert!(e.message.contains("https://pim.example.com"), "{e}");
        let e = check_url("bob:hunter2@pim.example.com").unwrap_err();
        assert!(!e.message.contains("hunter2"), "{e}");
        assert!(check_url("https://pim.example.com").is_ok());
    }

    #[test]
    fn urls_with_credentials_are_refused_without_echo() {
        let e = check_url("https://bob:hunter2@pim.example.com").unwrap_err();
        assert!(!e.message.contains("hunter2"), "{e}");
        assert_eq!(e.code, Exit::Usage);
        assert!(check_url("ftp://x.example").is_err());
        assert!(check_url("pim.example.com").is_err());
        check_url("https://pim.example.com/atro").unwrap();
    }

    #[test]
    fn generations() {
        assert_eq!(parse_generation("2.2").unwrap(), ApiGeneration::V2_2);
        assert_eq!(parse_generation(" 2.3").unwrap(), ApiGeneration::V2_3);
        assert!(parse_generation("3").is_err());
    }
}
