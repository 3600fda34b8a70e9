//! Authentication as AtroCore does it: Basic credentials, tokens from the token endpoint
//! (`Authorization-Token: base64(userName:token)`), and token expiry.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;

use crate::util::ApiError;
use crate::{Faults, SimUser};

#[derive(Debug)]
struct Token {
    user: usize,
    issued: Instant,
    uses: u64,
    lifetime: Option<Duration>,
}

/// Users and the tokens issued to them.
#[derive(Debug)]
pub struct Auth {
    users: Vec<SimUser>,
    tokens: Mutex<HashMap<String, Token>>,
    max_uses: Option<u64>,
    ttl: Option<Duration>,
    settings: AuthSettings,
    /// When the simulator started: the cron's ticks count from here.
    started: Instant,
    /// When logins were refused, oldest first (within the failed-login period).
    denied: Mutex<VecDeque<Instant>>,
}

/// AtroCore's authentication settings the simulator models (see [`crate::SimConfig`]).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// "Only one auth token per user" (`authTokenPreventConcurrent`).
    pub prevent_concurrent: bool,
    /// `authMaxFailedAttemptNumber` and `authFailedAttemptsPeriod`; `None` turns the limit off.
    pub failed_login_limit: Option<(usize, Duration)>,
    /// The period of AtroCore's cron, which expires tokens; `None`: at once.
    pub cron_period: Option<Duration>,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: SimUser,
    /// The user's record id (`1` for the first administrator).
    pub user_id: String,
    /// The token used, if any.
    pub token: Option<String>,
    /// Set in a delegated session: the user acts on behalf of another one.
    pub delegation: Option<Delegation>,
}

/// A delegated session: `actor` performs the request on behalf of `delegator`, whose id the
/// records get as `createdById`/`modifiedById`; `_meta.audit` names both.
#[derive(Debug, Clone)]
pub struct Delegation {
    /// The user who really acts (the authenticated one).
    pub actor_id: String,
    /// Their name.
    pub actor_name: String,
    /// The user on whose behalf they act.
    pub delegator_id: String,
    /// Their name.
    pub delegator_name: String,
}

/// An `Authorization-Token` value: base64 of `userName:token` (the user name and the token), or
/// a bare token.
fn split_token(raw: &str) -> (Option<String>, String) {
    let raw = raw.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    match decoded.as_deref().and_then(|d| d.split_once(':')) {
        Some((n, t)) => (Some(n.to_string()), t.to_string()),
        None => (None, raw.to_string()),
    }
}

fn unauthorized() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized")
}

impl Auth {
    /// Sets up users and the token expiry faults.
    pub fn new(users: Vec<SimUser>, faults: &Faults, settings: AuthSettings) -> Auth {
        Auth {
            users,
            tokens: Mutex::new(HashMap::new()),
            max_uses: faults.token_max_requests,
            ttl: faults.token_ttl,
            settings,
            started: Instant::now(),
            denied: Mutex::new(VecDeque::new()),
        }
    }

    /// Before a login (the token route): 403 "Max failed login attempts exceeded." when more
    /// than the allowed refused logins happened within the period, checked before the
    /// credentials (atrocore-legacy `Auth::checkFailedAttemptsLimit`: defaults 10 and
    /// `'60 seconds'`, counted by client address, strictly more than the maximum; the refused
    /// attempt itself is not recorded). All the simulator's clients are one address.
    pub fn check_login_limit(&self) -> Result<(), ApiError> {
        let Some((max, period)) = self.settings.failed_login_limit else {
            return Ok(());
        };
        let mut denied = self.denied.lock().unwrap_or_else(|p| p.into_inner());
        while denied.front().is_some_and(|t| t.elapsed() > period) {
            denied.pop_front();
        }
        if denied.len() > max {
            return Err(ApiError::forbidden("Max failed login attempts exceeded."));
        }
        Ok(())
    }

    /// Records a refused login (wrong credentials on the token route).
    pub fn note_denied_login(&self) {
        self.denied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(Instant::now());
    }

    /// Whether a token that expires at `deadline` is still accepted: with a cron period, until
    /// the cron's first run at or after the deadline (`Console/Cron.php::authTokenControl`
    /// deactivates expired tokens; nothing checks expiry per request).
    fn expired(&self, deadline: Instant) -> bool {
        let now = Instant::now();
        match self.settings.cron_period.filter(|p| !p.is_zero()) {
            None => now > deadline,
            Some(period) => {
                let since = deadline.saturating_duration_since(self.started).as_nanos();
                let ticks = since.div_ceil(period.as_nanos());
                let run = self.started
                    + Duration::from_nanos(
                        u64::try_from(ticks.saturating_mul(period.as_nanos())).unwrap_or(u64::MAX),
                    );
                now >= run
            }
        }
    }

    /// The record id of user number `i`.
    pub fn user_id(&self, i: usize) -> String {
        if i == 0 && self.users[0].is_admin {
            "1".to_string()
        } else {
            self.users[i].user_name.clone()
        }
    }

    fn caller(&self, i: usize, token: Option<String>) -> Caller {
        let user = self.users[i].clone();
        let delegator = user
            .on_behalf_of
            .as_deref()
            .and_then(|n| self.users.iter().position(|u| u.user_name == n))
            .filter(|j| *j != i);
        match delegator {
            Some(j) => Caller {
                user_id: self.user_id(j),
                delegation: Some(Delegation {
                    actor_id: self.user_id(i),
                    actor_name: user.user_name.clone(),
                    delegator_id: self.user_id(j),
                    delegator_name: self.users[j].user_name.clone(),
                }),
                user,
                token,
            },
            None => Caller {
                user,
                user_id: self.user_id(i),
                token,
                delegation: None,
            },
        }
    }

    fn basic(&self, headers: &HeaderMap) -> Option<Result<usize, ApiError>> {
        let h = headers.get("authorization")?.to_str().ok()?;
        let (scheme, rest) = h.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let Some((name, pass)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
            return Some(Err(unauthorized()));
        };
        Some(
            self.users
                .iter()
                .position(|u| u.user_name == name && u.password == pass)
                .ok_or_else(unauthorized),
        )
    }

    /// Whether the request carries credentials this server knows (a token it issued, or a
    /// user's name and password), without counting a use of the token: the check made before
    /// its body is read.
    pub fn recognizes(&self, headers: &HeaderMap) -> bool {
        if let Some(raw) = headers.get("authorization-token") {
            let Ok(raw) = raw.to_str() else {
                return false;
            };
            let (_, token) = split_token(raw);
            return self
                .tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains_key(&token);
        }
        matches!(self.basic(headers), Some(Ok(_)))
    }

    /// Authenticates a request by `Authorization-Token` or Basic credentials.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        if let Some(raw) = headers.get("authorization-token") {
            let raw = raw.to_str().map_err(|_| unauthorized())?;
            let (name, token) = split_token(raw);
            let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            let Some(t) = tokens.get_mut(&token) else {
                return Err(unauthorized());
            };
            if name.is_some_and(|n| n != self.users[t.user].user_name) {
                return Err(unauthorized());
            }
            t.uses += 1;
            let expired_by_uses = self.max_uses.is_some_and(|m| t.uses > m);
            let ttl = t.lifetime.or(self.ttl);
            let expired_by_time = ttl.is_some_and(|d| self.expired(t.issued + d));
            if expired_by_uses || expired_by_time {
                tokens.remove(&token);
                return Err(unauthorized());
            }
            let user = t.user;
            return Ok(self.caller(user, Some(token)));
        }
        match self.basic(headers) {
            Some(Ok(i)) => Ok(self.caller(i, None)),
            Some(Err(e)) => Err(e),
            None => Err(unauthorized()),
        }
    }

    /// Issues a token for the caller (the token endpoint). `lifetime_hours` 0 = never expires.
    pub fn issue(&self, caller: &Caller, lifetime_hours: Option<u64>) -> String {
        if let Some(t) = &caller.token {
            return t.clone();
        }
        let token = format!("{:032x}", rand::random::<u128>());
        let user = self
            .users
            .iter()
            .position(|u| u.user_name == caller.user.user_name)
            .unwrap_or(0);
        let lifetime = lifetime_hours
            .filter(|h| *h > 0)
            .map(|h| Duration::from_secs(h.saturating_mul(3600)));
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        // "Only one auth token per user": a new login deactivates all the user's other tokens
        // (atrocore-legacy `Auth::preventConcurrent`, called by `login()` before it creates a
        // token; last in-tree copy `app/Espo/Core/Utils/Auth.php` before commit `b33a0dffc`).
        if self.settings.prevent_concurrent {
            tokens.retain(|_, t| t.user != user);
        }
        tokens.insert(
            token.clone(),
            Token {
                user,
                issued: Instant::now(),
                uses: 0,
                lifetime,
            },
        );
        token
    }

    /// The header value a client sends: base64 of `userName:token`.
    pub fn header_value(caller: &Caller, token: &str) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", caller.user.user_name, token))
    }
}
