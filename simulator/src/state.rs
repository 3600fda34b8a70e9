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
use crate::model::Entity;
use crate::model::{Generation, Model};
use crate::request_log::RequestLog;
use crate::roles::{AccessLevel, Action};
use crate::store::Record;
use crate::store::Store;
use crate::util::{ApiError, truthy};
use rusqlite::types::Value as SqlValue;
use std::collections::BTreeSet;

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

    /// Fails with 403 unless the caller's role allows `action` on some records of `entity`: the
    /// scope-level check of AtroCore's handlers and controllers (`$this->getAcl()->check($name,
    /// 'edit')`; `own` and `team` pass, `Acl/Base.php::checkScope` without an entity). The body is
    /// empty: every such check throws a message-less `Forbidden` (`Core/Exceptions/Forbidden.php`,
    /// code 403), e.g. 2.3 `Core/EntityTypeHandlers/ListHandler.php`, 2.2
    /// `Controllers/AbstractRecordController.php::actionList`.
    pub fn check_scope(&self, entity: &str, action: Action) -> Result<(), ApiError> {
        if self.caller.user.access(entity).level(action).any() {
            Ok(())
        } else {
            Err(ApiError::forbidden(""))
        }
    }

    /// Whether the caller's role allows `action` on the record `rec` of `e`: `all` always, `own`
    /// and `team` when the caller owns it (the simulator has no teams), `no` never
    /// (`Acl/Base.php::checkScope` with the entity; atrocore-legacy, last in-tree copy before
    /// `b33a0dffc`).
    pub fn allows_record(&self, e: &Entity, rec: &Record, action: Action) -> bool {
        match self.caller.user.access(&e.name).level(action) {
            AccessLevel::All => true,
            AccessLevel::Own | AccessLevel::Team => self.is_owner(rec),
            AccessLevel::No => false,
        }
    }

    /// Fails with the message-less 403 unless [`Ctx::allows_record`]: the record service's
    /// `$this->getAcl()->check($entity, 'read' | 'edit' | 'delete')` (atrocore-legacy,
    /// `Services/Record.php::getEntity`, `updateEntity`, `deleteEntity`, `linkEntity`).
    pub fn check_record(&self, e: &Entity, rec: &Record, action: Action) -> Result<(), ApiError> {
        if self.allows_record(e, rec, action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(""))
        }
    }

    /// The caller owns `rec`: its `ownerUserId`, `assignedUserId` or `createdById` is the
    /// caller (`Acl/Base.php::checkIsOwner`, atrocore-legacy).
    pub fn is_owner(&self, rec: &Record) -> bool {
        let me = self.caller.user_id.as_str();
        ["ownerUserId", "assignedUserId", "createdById"]
            .iter()
            .any(|k| rec.get(*k).and_then(Value::as_str) == Some(me))
    }

    /// The SQL (over alias `t`) that limits a list of `e` to the records the caller may read:
    /// none for `all`; for `own` (and `team`, there being no teams) `ownerUserId` or
    /// `assignedUserId` is the caller, or `createdById` when the entity has neither; for `no`
    /// nothing matches (`Core/SelectManagers/Base.php::access`, `accessOnlyOwn`,
    /// `applyAccessOnlyTeam`, `accessNo`, 2.2.31 and 2.3.13).
    pub fn read_access_sql(&self, e: &Entity) -> Option<(String, Vec<SqlValue>)> {
        match self.caller.user.access(&e.name).read {
            AccessLevel::All => None,
            AccessLevel::No => Some(("t.\"id\" IS NULL".into(), Vec::new())),
            AccessLevel::Own | AccessLevel::Team => {
                let mut cols: Vec<&str> = ["ownerUserId", "assignedUserId"]
                    .into_iter()
                    .filter(|c| e.field(c).is_some())
                    .collect();
                if cols.is_empty() && e.field("createdById").is_some() {
                    cols.push("createdById");
                }
                if cols.is_empty() {
                    return Some(("t.\"id\" IS NULL".into(), Vec::new()));
                }
                let me = SqlValue::Text(self.caller.user_id.clone());
                let sql = cols
                    .iter()
                    .map(|c| format!("t.{} = ?", crate::store::ident(c)))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                Some((format!("({sql})"), vec![me; cols.len()]))
            }
        }
    }

    /// The fields of `e` the caller's role refuses for reading (`read`) or editing (`!read`)
    /// (`Acl/Table.php::getScopeForbiddenFieldList`, atrocore-legacy). Empty for administrators.
    pub fn forbidden_fields(&self, e: &Entity, read: bool) -> BTreeSet<String> {
        if self.caller.user.is_admin {
            return BTreeSet::new();
        }
        self.caller.user.role.forbidden_fields(&e.name, read)
    }

    /// The attributes (JSON keys) of those fields (`getScopeForbiddenAttributeList`): a
    /// link's `<link>Id` and `<link>Name` besides the field, a multilingual field's variants.
    pub fn forbidden_attributes(&self, e: &Entity, read: bool) -> BTreeSet<String> {
        self.forbidden_fields(e, read)
            .iter()
            .flat_map(|f| crate::roles::field_attributes(e, f))
            .collect()
    }

    /// Fails with the message-less 403 when `where` names a field the caller may not read:
    /// every item's `attribute` (or `field`) is looked up among the forbidden attributes, or for
    /// `isLinked`, `isNotLinked`, `linkedWith`, `notLinkedWith` among the forbidden fields, and
    /// an array `value` is searched the same way (`Core/SelectManagers/Base.php::checkWhere`,
    /// 2.2.31 and 2.3.13, run by `getSelectParams` with `$checkWherePermission` for lists and
    /// mass actions).
    pub fn check_where(&self, e: &Entity, where_: &Value) -> Result<(), ApiError> {
        let fields = self.forbidden_fields(e, true);
        if fields.is_empty() {
            return Ok(());
        }
        let attributes = self.forbidden_attributes(e, true);
        fn walk(items: &Value, fields: &BTreeSet<String>, attributes: &BTreeSet<String>) -> bool {
            let list: Vec<&Value> = match items {
                Value::Array(a) => a.iter().collect(),
                Value::Object(o) => o.values().collect(),
                _ => return false,
            };
            list.into_iter().any(|w| {
                let Some(o) = w.as_object() else {
                    return false;
                };
                let name = o
                    .get("attribute")
                    .or_else(|| o.get("field"))
                    .and_then(Value::as_str);
                let linked = matches!(
                    o.get("type").and_then(Value::as_str),
                    Some("isLinked" | "isNotLinked" | "linkedWith" | "notLinkedWith")
                );
                let refused = name.is_some_and(|n| {
                    if linked {
                        fields.contains(n)
                    } else {
                        attributes.contains(n)
                    }
                });
                refused
                    || o.get("value").is_some_and(|v| {
                        (v.is_array() || v.is_object()) && walk(v, fields, attributes)
                    })
            })
        }
        if walk(where_, &fields, &attributes) {
            Err(ApiError::forbidden(""))
        } else {
            Ok(())
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
