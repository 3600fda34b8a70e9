//! The state a running simulator shares between requests (model, store, users, faults), and
//! [`Ctx`], one request's view of it: what the services take.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use axum::body::Bytes;
use serde_json::Value;

use crate::SimConfig;
use crate::file_store::FileDir;
use crate::http::auth::{Auth, Caller};
use crate::http::faults::FaultState;
use crate::http::request::Req;
use crate::http::spec_check::SpecCheck;
use crate::model::{Generation, Model};
use crate::request_log::RequestLog;
use crate::store::Store;
use crate::util::{ApiError, truthy};

/// Everything a running simulator shares between requests.
#[derive(Debug)]
pub struct App {
    /// The learnt model.
    pub model: Model,
    store: Mutex<Store>,
    /// File contents and upload chunks, written without the database's lock.
    pub(crate) files: Arc<FileDir>,
    pub(crate) spec: Arc<Value>,
    pub(crate) spec_text: OnceLock<Bytes>,
    pub(crate) metadata_text: OnceLock<Bytes>,
    /// Users and tokens.
    pub auth: Auth,
    pub(crate) faults: FaultState,
    /// The instance root URL (`http://127.0.0.1:PORT`).
    pub root: String,
    pub(crate) requests: AtomicU64,
    /// Client used to fetch files by URL.
    pub http: reqwest::Client,
    /// Request validation and the optional response check.
    pub check: SpecCheck,
    /// PHP's `max_input_vars`: query variables past this many are dropped.
    pub max_input_vars: usize,
    /// File names are unique per folder (a folder-syncing storage).
    pub unique_file_names: bool,
    /// The largest request body read (413 above it).
    pub max_body_bytes: usize,
    /// Queued jobs stay `Pending` (AtroCore's cron is not running).
    pub cron_stopped: bool,
    /// The modelled AtroCore release as (major, minor, patch).
    pub version: (u32, u32, u32),
    /// Entities whose lists are not counted (`total` -1 or -2).
    pub count_disabled: std::collections::BTreeSet<String>,
    /// What stamps and `Date` headers read.
    pub clock: crate::clock::Clock,
    /// What was received, for tests.
    pub(crate) request_log: RequestLog,
    /// Ids of the jobs run while the model has no `Job` entity (a spec cut without it): their
    /// status is still answered.
    pub(crate) untracked_jobs: Mutex<std::collections::HashMap<String, bool>>,
}

impl App {
    /// Builds the state.
    pub fn new(
        model: Model,
        store: Store,
        spec: Arc<Value>,
        config: &SimConfig,
        root: String,
        check: SpecCheck,
    ) -> App {
        let (users, faults) = (config.users.clone(), config.faults.clone());
        let version = release(
            config
                .atrocore_version
                .as_deref()
                .or_else(|| spec.pointer("/info/version").and_then(Value::as_str)),
            model.generation,
        );
        App {
            check,
            model,
            files: store.files().clone(),
            store: Mutex::new(store),
            spec,
            spec_text: OnceLock::new(),
            metadata_text: OnceLock::new(),
            auth: Auth::new(
                users,
                &faults,
                crate::http::auth::AuthSettings {
                    prevent_concurrent: config.auth_token_prevent_concurrent,
                    failed_login_limit: config.failed_login_limit,
                    cron_period: config.cron_period,
                },
            ),
            faults: FaultState::new(faults),
            root,
            requests: AtomicU64::new(0),
            http: reqwest::Client::new(),
            max_input_vars: config.max_input_vars,
            unique_file_names: config.unique_file_names,
            count_disabled: config.count_disabled.iter().cloned().collect(),
            clock: crate::clock::Clock::default(),
            max_body_bytes: config.max_body_bytes,
            cron_stopped: config.cron_stopped,
            version,
            request_log: RequestLog::new(config.request_log),
            untracked_jobs: Mutex::default(),
        }
    }

    /// Locks the database.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` as the built-in administrator, outside any request (seeding).
    pub(crate) fn as_admin<R>(&self, f: impl FnOnce(&Ctx) -> R) -> R {
        let store = self.store();
        let caller = Caller {
            user: crate::SimUser::admin("admin", "admin"),
            user_id: "1".into(),
            token: None,
            delegation: None,
        };
        f(&Ctx {
            app: self,
            store: &store,
            caller: &caller,
            with_meta: false,
            flatten: false,
            language: None,
            timezone: None,
        })
    }

    /// Requests that reached the API base.
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// One request's view of the state.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// Shared state.
    pub app: &'a App,
    /// The locked database.
    pub store: &'a Store,
    /// Who is calling.
    pub caller: &'a Caller,
    /// `With-Meta` was sent.
    pub with_meta: bool,
    /// `Flatten-Attributes` was sent.
    pub flatten: bool,
    /// The `language` header (`services::language`).
    pub language: Option<String>,
    /// The `timezone` query parameter (`services::timezone`).
    pub timezone: Option<String>,
}

impl<'a> Ctx<'a> {
    /// The simulator's time as AtroCore stamps it (`Y-m-d H:i:s`, UTC).
    pub fn now_ts(&self) -> String {
        crate::util::format_ts(self.app.clock.now())
    }

    /// Stamps the record `id` of `e` as saved now by the caller: what `RDB::save` does to a
    /// record whose save went through `updateEntity`
    /// (`app/Atro/Core/ORM/Repositories/RDB.php::save`, 2.2.31 and 2.3.13), even when only its
    /// attribute values changed.
    pub fn stamp(&self, e: &crate::model::Entity, id: &str) -> Result<(), crate::util::ApiError> {
        let mut upd = crate::store::Record::new();
        upd.insert("modifiedAt".into(), Value::String(self.now_ts()));
        upd.insert(
            "modifiedById".into(),
            Value::String(self.caller.user_id.clone()),
        );
        self.store.update(e, id, &upd)?;
        Ok(())
    }

    /// The generation being served.
    pub fn generation(&self) -> Generation {
        self.app.model.generation
    }

    /// The view of `app` for a request of `caller` (its `With-Meta` and `Flatten-Attributes`
    /// headers), with the store locked.
    pub fn for_request(app: &'a App, store: &'a Store, caller: &'a Caller, req: &Req) -> Ctx<'a> {
        Ctx {
            app,
            store,
            caller,
            with_meta: truthy(req.header("with-meta")),
            flatten: truthy(req.header("flatten-attributes")),
            language: req.header("language").map(str::to_owned),
            timezone: req.param("timezone").map(str::to_owned),
        }
    }

    /// Fails with 403 unless the caller may change records of `entity`.
    pub fn check_write(&self, entity: &str, action: &str) -> Result<(), ApiError> {
        if self.caller.user.can_write(entity) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "No '{action}' access to '{entity}'."
            )))
        }
    }
}

/// `"2.3.16-beta14"` → `(2, 3, 16)`; what cannot be read is the newest release the generation's
/// reference specs come from (2.2.31, 2.3.16).
fn release(version: Option<&str>, generation: crate::model::Generation) -> (u32, u32, u32) {
    let parsed = version.and_then(|v| {
        let mut parts = v.trim().split(['.', '-']).map(|p| p.parse::<u32>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    });
    parsed.unwrap_or(match generation {
        crate::model::Generation::V22 => (2, 2, 31),
        crate::model::Generation::V23 => (2, 3, 16),
    })
}
