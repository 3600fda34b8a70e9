//! The session: the token cache shared by every clone of a client (one login for all tasks,
//! renewed once on `401`, a refused login shared for a while) and the login itself, over the
//! send loop. [`ClientRef`] is what a [`Client`](crate::Client) holds: its settings and its
//! session.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderValue;
use tokio::sync::Mutex;

use super::config::Settings;
use super::execute::{AuthMode, Prepared, Resend, Target, Tokens};
use super::secret::{Credentials, Secret};
use crate::error::{Error, ErrorKind, Result};

/// The token cache, shared by every clone of a [`Client`](crate::Client).
pub(crate) struct Auth {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) token: Mutex<Option<Secret>>,
    /// The last failed login and when it failed. Callers that were waiting for that attempt get
    /// its error instead of an attempt of their own; when the credentials were refused (`401`,
    /// `403`), so does every caller within `failure_ttl` (many tasks with a wrong password must
    /// not make many attempts, which can lock the account).
    pub(crate) failure: std::sync::Mutex<Option<(Instant, Error)>>,
    pub(crate) failure_ttl: Duration,
    /// The token of this client's last login, and when it was obtained.
    pub(crate) logged_in: std::sync::Mutex<Option<(Secret, Instant)>>,
    /// See [`ClientBuilder::revoked_within`](crate::ClientBuilder::revoked_within).
    pub(crate) revoked_within: Duration,
}

/// The default of [`ClientBuilder::revoked_within`](crate::ClientBuilder::revoked_within).
pub const DEFAULT_REVOKED_WITHIN: Duration = Duration::from_secs(30);

impl Auth {
    /// The token to send, logging in first if there is none yet. Concurrent callers wait for the
    /// one login in progress (the lock is held across it), so there is exactly one.
    pub(crate) async fn current(&self, client: &ClientRef) -> Result<Option<Secret>> {
        let waiting_since = Instant::now();
        let mut guard = self.token.lock().await;
        if let Some(t) = &*guard {
            return Ok(Some(t.clone()));
        }
        let Some(credentials) = &self.credentials else {
            return Ok(None);
        };
        let token = self
            .login_shared(client, credentials, waiting_since)
            .await?;
        self.note_login(&token);
        *guard = Some(token.clone());
        Ok(Some(token))
    }

    fn note_login(&self, token: &Secret) {
        *self.logged_in.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((token.clone(), Instant::now()));
    }

    /// Whether `token`, just refused with `401`, came from this client's own login less than
    /// `revoked_within` ago: then it was not expired but revoked, by another login as the same
    /// user, on an instance with "Only one auth token per user" (`authTokenPreventConcurrent`:
    /// a new login deactivates the user's other tokens; atrocore-legacy's `Auth::login`, last
    /// in-tree copy `app/Espo/Core/Utils/Auth.php` before commit `b33a0dffc`). Logging in again
    /// would revoke the other session in turn, and so on.
    fn revoked_by_another_login(&self, token: &Secret) -> bool {
        self.logged_in
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|(t, at)| t.same(token) && at.elapsed() < self.revoked_within)
    }

    /// Logs in, unless a login failed less than `failure_ttl` ago: then that failure again.
    /// Called with the token lock held, so concurrent callers share one attempt.
    async fn login_shared(
        &self,
        client: &ClientRef,
        credentials: &Credentials,
        waiting_since: Instant,
    ) -> Result<Secret> {
        if let Some((at, e)) = &*self.failure.lock().unwrap_or_else(|p| p.into_inner()) {
            let refused = e.is_auth() || e.is_forbidden();
            let waited_for_it = *at >= waiting_since;
            if waited_for_it || (refused && at.elapsed() < self.failure_ttl) {
                return Err(e.duplicate());
            }
        }
        match client.login(credentials).await {
            Ok(token) => {
                *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(token)
            }
            Err(e) => {
                *self.failure.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), e.duplicate()));
                Err(e)
            }
        }
    }

    /// After a `401` with `stale`: log in again, unless another task already did.
    async fn renew(&self, client: &ClientRef, stale: Option<&Secret>) -> Result<()> {
        let Some(credentials) = &self.credentials else {
            return Ok(());
        };
        let waiting_since = Instant::now();
        let mut guard = self.token.lock().await;
        match (&*guard, stale) {
            (Some(current), Some(stale)) if !current.same(stale) => return Ok(()),
            (Some(_), None) => return Ok(()),
            _ => {}
        }
        *guard = None;
        let token = self
            .login_shared(client, credentials, waiting_since)
            .await?;
        self.note_login(&token);
        *guard = Some(token);
        Ok(())
    }

    fn can_renew(&self) -> bool {
        self.credentials.is_some()
    }
}

/// What every clone of a [`Client`](crate::Client) shares: the settings (reached through
/// `Deref`) and the session.
pub(crate) struct ClientRef {
    pub(crate) settings: Settings,
    pub(crate) auth: Auth,
    /// Attribute ids by `(entity, code)`, once read (`attribute_index.rs`).
    pub(crate) attribute_ids: std::sync::Mutex<Option<Arc<AttributeIds>>>,
    /// Ids of list options and units by `(entity, code)`, as looked up (`code_refs.rs`).
    pub(crate) code_ids: std::sync::Mutex<CodeIds>,
}

/// Attribute ids by `(entity wire name, code)`.
pub(crate) type AttributeIds = std::collections::BTreeMap<(String, String), String>;

/// Record ids by `(entity wire name, code)` (options, units).
pub(crate) type CodeIds = std::collections::BTreeMap<(&'static str, String), String>;

impl Deref for ClientRef {
    type Target = Settings;
    fn deref(&self) -> &Settings {
        &self.settings
    }
}

impl Tokens for ClientRef {
    fn current(&self) -> Pin<Box<dyn Future<Output = Result<Option<Secret>>> + Send + '_>> {
        Box::pin(self.auth.current(self))
    }

    fn renew<'a>(
        &'a self,
        stale: Option<&'a Secret>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(self.auth.renew(self, stale))
    }

    fn can_renew(&self) -> bool {
        self.auth.can_renew()
    }

    fn revoked_by_another_login(&self, token: &Secret) -> bool {
        self.auth.revoked_by_another_login(token)
    }
}

impl ClientRef {
    /// The attribute index, when read.
    pub(crate) fn attribute_ids(&self) -> Option<Arc<AttributeIds>> {
        self.attribute_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keeps the attribute index.
    pub(crate) fn set_attribute_ids(&self, ids: Arc<AttributeIds>) {
        *self.attribute_ids.lock().unwrap_or_else(|e| e.into_inner()) = Some(ids);
    }

    /// Exchanges credentials for a token at the generation's token route. (Boxed: sending a
    /// request may log in, so the future types would otherwise contain themselves.)
    fn login<'a>(
        &'a self,
        credentials: &'a Credentials,
    ) -> Pin<Box<dyn Future<Output = Result<Secret>> + Send + 'a>> {
        Box::pin(self.login_inner(credentials))
    }

    async fn login_inner(&self, credentials: &Credentials) -> Result<Secret> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(rename = "authorizationToken")]
            authorization_token: String,
        }
        let path = self.generation.token_path();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("Authorization-Token-Only", HeaderValue::from_static("true"));
        let prepared = Prepared {
            method: Method::GET,
            target: Target::Api(path.to_owned()),
            query: Vec::new(),
            headers,
            body: None,
            // Never sent again after a 401 or a 429.
            resend: Resend::Login,
            extra_retries: 0,
            timeout: None,
            idle_body: false,
        };
        tracing::debug!(user = %credentials.user, path, "logging in to AtroCore");
        let bytes = prepared
            .execute_bytes(self, AuthMode::Basic(credentials))
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::Auth => {
                    e.with_message(format!("could not log in as `{}`", credentials.user))
                }
                // A refused login is an authentication failure, whatever its status. AtroCore
                // answers 403 "Max failed login attempts exceeded." to every login from an
                // address with more than `authMaxFailedAttemptNumber` (10) refused logins within
                // `authFailedAttemptsPeriod` (60 s), before it checks the password
                // (atrocore-legacy `Auth::checkFailedAttemptsLimit`; last in-tree copy
                // `app/Espo/Core/Utils/Auth.php` before commit `b33a0dffc`). Never retried.
                ErrorKind::Forbidden => {
                    let limit = e
                        .reason()
                        .is_some_and(|r| r.contains("Max failed login attempts"));
                    let message = if limit {
                        format!(
                            "could not log in as `{}`: the server refuses logins from this address \
                             after too many failed ones (AtroCore: more than 10 within 60 s); \
                             fix the credentials and wait a minute",
                            credentials.user
                        )
                    } else {
                        format!(
                            "could not log in as `{}`: the login was refused",
                            credentials.user
                        )
                    };
                    e.with_kind(ErrorKind::Auth).with_message(message)
                }
                _ => e,
            })?;
        // No serde error as source: its message could quote the answer, which holds the token.
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| {
            Error::new(ErrorKind::Decode)
                .with_message("the token route answered without `authorizationToken`")
                .with_request(&Method::GET, path)
        })?;
        Ok(Secret::new(answer.authorization_token))
    }
}
