//! AtroCore simulator: an AtroCore stand-in over real HTTP, driven by any AtroCore OpenAPI spec.
//!
//! The simulator learns entities, fields and required fields from the spec, detects the
//! generation (2.2 `/api/v1` or 2.3 `/api`) and serves the API the way AtroCore does: token
//! authentication, CRUD with SQLite storage, `where` filters in PHP bracket notation, bulk upsert
//! (also queued: 2.2 `Use-Queue`, 2.3 `/upsertAsync`), find-or-create links, linked records (2.2
//! `/{E}/{id}/{link}`, 2.3 `/entityRelation`), files (Base64, URL, chunks), sharing links,
//! attributes, `With-Meta` (permissions, options, `audit` for delegated sessions) and configurable
//! faults. It shares no code with `atrocore-runtime`, on purpose.
//!
//! Like the real server it validates requests against the spec it serves (2.3: every documented
//! route; 2.2: the routes its route config documents) and answers 400 with the PHP validator's
//! message. [`SimConfig::validate_responses`] (or `ATROCORE_SIM_VALIDATE_RESPONSES=1` in the
//! environment, for any test) adds a debug layer that checks every JSON answer against the
//! route's documented schema; [`openapi`] holds the validator.
//!
//! ```no_run
//! # async fn demo() -> Result<(), atrocore_sim::SimError> {
//! use atrocore_sim::{SimConfig, Simulator};
//! let config = SimConfig::from_spec_path("specs/atrocore-pim-multilang.json").validate_responses(true);
//! let sim = Simulator::start(config).await?;
//! println!("{} (API at {})", sim.base_url(), sim.api_url());
//! assert!(sim.response_violations().is_empty());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # A test server for your integration tests
//!
//! Start it with the spec (and metadata) your client was generated from, seed the records a
//! test starts from ([`Simulator::seed`], checked like `POST /{entity}`), point your code at
//! [`Simulator::base_url`] (users `admin`/`admin` and `reader`/`reader` unless
//! [`SimConfig::users`]), inject faults ([`SimConfig::faults`] at start,
//! [`Simulator::set_faults`] while serving), and assert on what it received
//! ([`Simulator::requests`], [`Simulator::take_requests`]: method, path, decoded query,
//! headers and JSON body, secrets redacted, the status answered). Add it as a dev-dependency
//! (`atrocore-sim`, from this repository by git or path); `examples/user-crate/` is a complete
//! crate testing its own code on a generated client this way.
//!
//! ```
//! use atrocore_sim::{Faults, SimConfig, Simulator};
//! use serde_json::json;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let specs = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");
//! let sim = Simulator::start(
//!     SimConfig::from_spec_path(format!("{specs}/atrocore-2.2-pim-default.json"))
//!         .metadata_path(format!("{specs}/atrocore-2.2-pim-default.metadata.json")),
//! )
//! .await?;
//!
//! // The records the test starts from; the answers carry their ids.
//! let brands = sim.seed("Brand", [json!({"name": "Acme", "code": "acme"}), json!({"name": "Globex"})])?;
//! let acme = brands[0]["id"].as_str().unwrap_or_default();
//! sim.seed("Product", [json!({"name": "Chair", "number": "C-1", "status": "draft", "brandId": acme})])?;
//!
//! // The code under test talks to `sim.base_url()`; here it is plain HTTP.
//! let http = reqwest::Client::new();
//! let page: serde_json::Value = http
//!     .get(format!("{}/Product", sim.api_url()))
//!     .basic_auth("admin", Some("admin"))
//!     .query(&[("where[0][type]", "equals"), ("where[0][attribute]", "brandId"), ("where[0][value]", acme)])
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(page["total"], 1);
//!
//! // What the server received (secrets redacted) and what it answered.
//! let seen = sim.take_requests();
//! assert_eq!(seen.len(), 1);
//! assert_eq!(seen[0].line(), "GET /api/v1/Product");
//! assert_eq!(seen[0].query_value("where[0][value]"), Some(acme));
//! assert_eq!(seen[0].header("authorization"), Some("Basic [redacted]"));
//! assert_eq!(seen[0].status, Some(200));
//!
//! // Faults from now on: every request answered 503.
//! sim.set_faults(Faults { error_rate: 1.0, ..Faults::default() });
//! let answer = http.get(format!("{}/Brand", sim.api_url())).basic_auth("admin", Some("admin")).send().await?;
//! assert_eq!(answer.status(), 503);
//! assert_eq!(sim.take_requests()[0].status, Some(503));
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Confirmed defaults (AtroCore source paths in the code comments)
//! - Lists: `maxSize` defaults to 200 and is not capped; `asc` is ascending unless it is anything
//!   but the exact string `true`.
//! - An update that changes nothing answers 304 with an empty body (upsert reports `NotModified`),
//!   and so does an attribute upsert (both generations) or a 2.3 attribute removal that changes
//!   nothing; adding attributes already present answers `true`.
//! - 2.3 reads (`GET /E/{id}`, `GET /entityRelation`) take the value of the entity's `isCode`
//!   field in place of the id; every other route, and 2.2, takes ids only.
//! - A create or update whose link id names no record answers 400 (the REST guide; see
//!   `FIDELITY.md`).
//! - `where` as AtroCore evaluates it, defects included: `not` never negates (at the top level
//!   nothing matches, inside a group it is dropped), unknown or missing types are skipped,
//!   positive operators never match `NULL`, `like` is case-sensitive unless the value holds `%`,
//!   date operators use the item's `timeZone`; the query string is cut at PHP's
//!   `max_input_vars` ([`SimConfig::max_input_vars`]).
//! - Link and unlink requests that name no record answer 500 without a message, as AtroCore's
//!   `throw new Error()`; `massRelate` with `where` links every match; 2.2 has
//!   `POST /{E}/action/unlinkAll`, 2.3 `DELETE /entityRelation?…&all=true`. 2.3 has no
//!   per-entity link routes (`/{E}/{id}/{link}` is a 404 there), only `/entityRelation`.
//! - Mass update and delete: 2.2 answers `{count, sync, errors}` (its spec says a boolean), 2.3
//!   `{updated | deleted, errors}` for at most 200 ids and `{jobId}` from the `…Async` routes;
//!   a selection above 200 records (2.2) or any filter (2.3) runs as a job, which the simulator
//!   runs at once.
//! - File names are unique per folder only with [`SimConfig::unique_file_names`] (a storage
//!   that syncs folders; the default local storage checks nothing).
//! - Faults can strike after a write was stored ([`Faults::after_write_drop_rate`]).
//! - Duplicate ids and unique values answer 400 ("The record cannot be created/updated due to
//!   database constraints. …"), not 409; empty required fields answer 400 "Validation failed.
//!   'Name' is required.".
//!
//! # Not modelled
//! - Request validation of headers, path parameters, `Content-Type` and `format`; the real 2.3
//!   server also checks its own answers and turns a mismatch into a 400, the simulator answers
//!   conformingly instead (see the debug layer).
//! - Translated labels: messages capitalise the field name where the server uses its label.
//! - `language` header/parameter, `totalOnly`, `collectionOnly`, `q`,
//!   `primaryFilter`, `boolFilterList`, `withRelationships`; sorting by a link sorts by its id.
//! - Mass restore, merge, follow, stream, layouts, i18n, settings, the
//!   `entityRelationBulk*` routes and other administrative routes.
//! - ACL beyond "read-only on these entities" (teams, owners, field level); edit-conflict
//!   detection (`_prev` → 409); `Authorization-Token-Idletime`, expired passwords, login limits.
//! - The job manager: queued upserts run at once and their `Job` is already `Success`.
//! - How a delegated session is started on the real system: a [`SimUser`] is configured to act
//!   [`on behalf of`](SimUser::on_behalf_of) another.
//! - Files: thumbnails, `duplicate` detection by hash, `reupload`, `localFileName`, storages,
//!   folders and file types.
//! - Attributes: channels, inheritance, attribute groups and panels, unit conversion.

pub mod clock;
mod demo;
pub mod file_store;
mod http;
pub mod model;
pub mod openapi;
pub mod query;
pub mod request_log;
mod roles;
mod services;
mod state;
pub mod store;
mod test_server;
mod util;

pub use query::{phpqs, where_sql};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use model::Generation;
pub use request_log::{LoggedBody, LoggedRequest};
pub use roles::{AccessLevel, Action, EntityAccess, FieldAccess, SimRole};
pub use test_server::SeedError;

/// Where a JSON document (spec or metadata) comes from.
#[derive(Debug, Clone)]
pub enum JsonSource {
    /// A file on disk.
    Path(PathBuf),
    /// An already parsed document (cheap to share between many simulators in one test binary).
    Value(Arc<Value>),
}

impl JsonSource {
    fn load(&self) -> Result<Arc<Value>, SimError> {
        match self {
            JsonSource::Value(v) => Ok(v.clone()),
            JsonSource::Path(p) => {
                let text = std::fs::read(p).map_err(|e| SimError::Io(p.clone(), e))?;
                let v = serde_json::from_slice(&text)
                    .map_err(|e| SimError::Json(p.display().to_string(), e))?;
                Ok(Arc::new(v))
            }
        }
    }
}

/// A user the simulator accepts.
///
/// Administrators may do everything; every other user acts within its [`SimRole`]: entity-level
/// access (`create`, and `read`/`edit`/`delete`/`stream` on all, the user's own, or no records)
/// and field-level `read`/`edit` denials, enforced as AtroCore does (see `FIDELITY.md`,
/// "Permissions"). Configure users with [`SimConfig::users`]:
///
/// ```
/// use atrocore_sim::{EntityAccess, FieldAccess, SimConfig, SimRole, SimUser};
/// let config = SimConfig::from_spec_path("specs/atrocore-2.2-pim-default.json").users(vec![
///     SimUser::admin("admin", "admin"),
///     // Read-only on products, full access elsewhere.
///     SimUser::limited("reader", "reader", ["Product"]),
///     // No brands at all, product prices hidden.
///     SimUser::with_role(
///         "clerk",
///         "secret",
///         SimRole::new()
///             .entity("Brand", EntityAccess::NONE)
///             .field("Product", "price", FieldAccess::HIDDEN),
///     ),
/// ]);
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct SimUser {
    /// Login name.
    pub user_name: String,
    /// Password for Basic authentication.
    pub password: String,
    /// Administrators may do everything; the role does not apply to them.
    pub is_admin: bool,
    /// What a non-admin user may do.
    pub role: SimRole,
    /// A delegated session: this user acts on behalf of the user with this name (records get that
    /// user as creator/modifier, `_meta.audit` names both).
    pub on_behalf_of: Option<String>,
}

impl SimUser {
    /// An administrator.
    pub fn admin(user_name: impl Into<String>, password: impl Into<String>) -> SimUser {
        SimUser {
            user_name: user_name.into(),
            password: password.into(),
            is_admin: true,
            role: SimRole::new(),
            on_behalf_of: None,
        }
    }

    /// A non-admin user, read-only on the given entities (`"*"` = all) and with full access
    /// elsewhere: a shorthand for [`SimUser::with_role`] with [`EntityAccess::READ_ONLY`] on
    /// those entities.
    pub fn limited(
        user_name: impl Into<String>,
        password: impl Into<String>,
        read_only: impl IntoIterator<Item = impl Into<String>>,
    ) -> SimUser {
        let mut role = SimRole::new();
        for e in read_only {
            let e: String = e.into();
            role = if e == "*" {
                role.others(EntityAccess::READ_ONLY)
            } else {
                role.entity(e, EntityAccess::READ_ONLY)
            };
        }
        SimUser::with_role(user_name, password, role)
    }

    /// A non-admin user with `role`.
    pub fn with_role(
        user_name: impl Into<String>,
        password: impl Into<String>,
        role: SimRole,
    ) -> SimUser {
        SimUser {
            user_name: user_name.into(),
            password: password.into(),
            is_admin: false,
            role,
            on_behalf_of: None,
        }
    }

    /// Makes this user act on behalf of the user named `delegator` (a delegated session).
    pub fn on_behalf_of(mut self, delegator: impl Into<String>) -> SimUser {
        self.on_behalf_of = Some(delegator.into());
        self
    }

    /// The user's access to `entity` (everything for an administrator).
    pub fn access(&self, entity: &str) -> EntityAccess {
        if self.is_admin {
            EntityAccess::FULL
        } else {
            self.role.access(entity)
        }
    }

    /// Whether this user may change (edit) some records of `entity`.
    pub fn can_write(&self, entity: &str) -> bool {
        self.access(entity).edit.any()
    }
}

/// Faults injected into API requests (under the API base), all deterministic for a seed.
///
/// For every API request one random number decides, in this order: drop the connection
/// (`drop_rate`), answer 503 (`error_rate`), answer 429 with `Retry-After: 1` (`throttle_rate`).
/// Those faults strike before the server acts. A write that succeeded draws once more: its
/// answer is lost after the change was stored (`after_write_drop_rate`, `after_write_error_rate`),
/// the case where a client must not repeat what it cannot repeat safely.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Delay added before every API answer.
    pub latency: Duration,
    /// Share of requests answered with 503 Service Unavailable (0.0–1.0).
    pub error_rate: f64,
    /// Share of requests answered with 429 Too Many Requests (0.0–1.0).
    pub throttle_rate: f64,
    /// Share of requests whose connection is closed without a complete answer (0.0–1.0).
    pub drop_rate: f64,
    /// Seed of the random generator deciding which requests fail.
    pub seed: u64,
    /// Share of writes (`POST`, `PUT`, `PATCH`, `DELETE` answered with a success) whose
    /// connection is closed after the write was carried out: the change is stored, the client
    /// never hears of it (0.0–1.0).
    pub after_write_drop_rate: f64,
    /// Share of writes answered with 503 after they were carried out (0.0–1.0).
    pub after_write_error_rate: f64,
    /// 2.3: share of writes whose answer fails the server's own check against the spec, after
    /// the write was carried out (0.0–1.0): `Core/Middleware/ApiValidationMiddleware.php`
    /// validates every answer after the handler ran, with no transaction around it, and a
    /// mismatch becomes a 400 whose message names the response (`… for Response [post
    /// /{entityName} 200] …`). Happens on a real server whenever an answer and the spec disagree.
    pub after_write_invalid_answer_rate: f64,
    /// A token stops working after this many authenticated requests.
    pub token_max_requests: Option<u64>,
    /// A token stops working this long after it was issued.
    pub token_ttl: Option<Duration>,
}

/// Settings of one simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The OpenAPI spec to serve.
    pub spec: JsonSource,
    /// The instance metadata (`GET /Metadata`); derived from the spec when absent.
    pub metadata: Option<JsonSource>,
    /// Accepted users, each with its role ([`SimUser`]); default `admin`/`admin` (admin) and
    /// `reader`/`reader` (read-only everywhere).
    pub users: Vec<SimUser>,
    /// Injected faults; none by default.
    pub faults: Faults,
    /// SQLite file that survives restarts; in memory when absent. Uploaded file contents live
    /// beside it in `<db>.files` (in a temporary folder removed on shutdown when absent).
    pub db_path: Option<PathBuf>,
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Fill the database with demo brands, categories, products and files on start.
    pub seed_demo_data: bool,
    /// Validate requests to documented routes like the real server (400 with the validator's
    /// message); on by default.
    pub validate_requests: bool,
    /// Debug layer: check every JSON answer to a documented route against its 200 schema and
    /// answer 500 (naming route, JSON pointer and reason) when it does not match. Off by default
    /// unless the environment variable `ATROCORE_SIM_VALIDATE_RESPONSES` is `1` or `true`.
    pub validate_responses: bool,
    /// PHP's `max_input_vars` (default 1000): a query string with more variables is cut there,
    /// silently, the way PHP's query parser does (see [`phpqs::parse_str_limited`]).
    pub max_input_vars: usize,
    /// File names are unique per folder, as on an AtroCore storage that syncs folders (or is
    /// not local): a second file of the same name in the same folder is a 400, on create, on
    /// rename or move, and on every chunk, including a chunk sent after its file was completed.
    /// Off by default, like AtroCore's default local storage, which checks nothing.
    pub unique_file_names: bool,
    /// How many of the last requests [`Simulator::requests`] keeps (default 1000; 0: no log).
    pub request_log: usize,
    /// AtroCore's `disabledCountQueryEntityList` setting: lists of these entities are not
    /// counted. Their `total` is -1 when more records follow the page, -2 when none do (also
    /// for `totalOnly`), as the record service's `findEntities` answers. Empty by default.
    pub count_disabled: Vec<String>,
    /// AtroCore's "Only one auth token per user" (`authTokenPreventConcurrent`, off by
    /// default): a login on the token route deactivates the user's other tokens, which then
    /// answer 401.
    pub auth_token_prevent_concurrent: bool,
    /// More than this many refused logins within the period make every login a 403 "Max failed
    /// login attempts exceeded." until old ones age out; AtroCore's defaults (10, 60 s), `None`
    /// for no limit.
    pub failed_login_limit: Option<(usize, Duration)>,
    /// The period of AtroCore's cron, which expires tokens (`Console/Cron.php`; installations
    /// run it every minute): an expired token ([`Faults::token_ttl`] or its
    /// `Authorization-Token-Lifetime`) keeps working until the cron's next run. `None` (the
    /// default): it stops at once.
    pub cron_period: Option<Duration>,
    /// The largest request body read, in bytes (default 256 MiB; PHP's `post_max_size` plays
    /// this part on a real server): a larger one is answered 413 without being read whole.
    pub max_body_bytes: usize,
    /// AtroCore's cron is not running: jobs the server queues (queued upserts, mass actions)
    /// stay `Pending` and their work is not done (default false: they run at once).
    pub cron_stopped: bool,
    /// The AtroCore release modelled where releases of one generation differ (`2.3.13`,
    /// `2.3.16-beta14`, …); default: the spec's `info.version`, which AtroCore's spec generator
    /// sets to the core's version. What depends on it: reads by code arrived in 2.3.14
    /// (`2.3.14-rc2`: `Services/Record.php::resolveIdByCode`); before, `GET /E/{code}` is a 404.
    pub atrocore_version: Option<String>,
}

impl SimConfig {
    /// Settings for the spec at `path`, with default users and no faults.
    pub fn from_spec_path(path: impl Into<PathBuf>) -> SimConfig {
        SimConfig::new(JsonSource::Path(path.into()))
    }

    /// Settings for an already parsed spec.
    pub fn from_spec_value(spec: Arc<Value>) -> SimConfig {
        SimConfig::new(JsonSource::Value(spec))
    }

    fn new(spec: JsonSource) -> SimConfig {
        SimConfig {
            spec,
            metadata: None,
            users: vec![
                SimUser::admin("admin", "admin"),
                SimUser::limited("reader", "reader", ["*"]),
            ],
            faults: Faults::default(),
            db_path: None,
            port: 0,
            seed_demo_data: false,
            validate_requests: true,
            validate_responses: std::env::var("ATROCORE_SIM_VALIDATE_RESPONSES")
                .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
            max_input_vars: 1000,
            unique_file_names: false,
            request_log: 1000,
            count_disabled: Vec::new(),
            auth_token_prevent_concurrent: false,
            failed_login_limit: Some((10, Duration::from_secs(60))),
            cron_period: None,
            max_body_bytes: 256 << 20,
            cron_stopped: false,
            atrocore_version: None,
        }
    }

    /// Uses the metadata file at `path`.
    pub fn metadata_path(mut self, path: impl Into<PathBuf>) -> SimConfig {
        self.metadata = Some(JsonSource::Path(path.into()));
        self
    }

    /// Uses an already parsed metadata document.
    pub fn metadata_value(mut self, metadata: Arc<Value>) -> SimConfig {
        self.metadata = Some(JsonSource::Value(metadata));
        self
    }

    /// Replaces the accepted users.
    pub fn users(mut self, users: Vec<SimUser>) -> SimConfig {
        self.users = users;
        self
    }

    /// Sets the injected faults.
    pub fn faults(mut self, faults: Faults) -> SimConfig {
        self.faults = faults;
        self
    }

    /// Stores records in the SQLite file at `path`.
    pub fn db_path(mut self, path: impl Into<PathBuf>) -> SimConfig {
        self.db_path = Some(path.into());
        self
    }

    /// Listens on `port` (0 = any free port).
    pub fn port(mut self, port: u16) -> SimConfig {
        self.port = port;
        self
    }

    /// Seeds demo data on start.
    pub fn seed_demo_data(mut self, yes: bool) -> SimConfig {
        self.seed_demo_data = yes;
        self
    }

    /// Validates requests to documented routes like the real server (default on).
    pub fn validate_requests(mut self, yes: bool) -> SimConfig {
        self.validate_requests = yes;
        self
    }

    /// Sets PHP's `max_input_vars` (default 1000).
    pub fn max_input_vars(mut self, n: usize) -> SimConfig {
        self.max_input_vars = n;
        self
    }

    /// Makes file names unique per folder (see [`SimConfig::unique_file_names`]).
    pub fn unique_file_names(mut self, yes: bool) -> SimConfig {
        self.unique_file_names = yes;
        self
    }

    /// Keeps the last `capacity` requests for [`Simulator::requests`] (default 1000; 0 turns
    /// the log off).
    pub fn request_log(mut self, capacity: usize) -> SimConfig {
        self.request_log = capacity;
        self
    }

    /// Turns "Only one auth token per user" on or off (see
    /// [`SimConfig::auth_token_prevent_concurrent`]).
    pub fn auth_token_prevent_concurrent(mut self, yes: bool) -> SimConfig {
        self.auth_token_prevent_concurrent = yes;
        self
    }

    /// Sets the failed-login limit (see [`SimConfig::failed_login_limit`]).
    pub fn failed_login_limit(mut self, limit: Option<(usize, Duration)>) -> SimConfig {
        self.failed_login_limit = limit;
        self
    }

    /// Models the AtroCore release `version` (see [`SimConfig::atrocore_version`]).
    pub fn atrocore_version(mut self, version: impl Into<String>) -> SimConfig {
        self.atrocore_version = Some(version.into());
        self
    }

    /// Stops or starts AtroCore's cron (see [`SimConfig::cron_stopped`]).
    pub fn cron_stopped(mut self, yes: bool) -> SimConfig {
        self.cron_stopped = yes;
        self
    }

    /// Sets the largest request body read (see [`SimConfig::max_body_bytes`]).
    pub fn max_body_bytes(mut self, n: usize) -> SimConfig {
        self.max_body_bytes = n;
        self
    }

    /// Sets the cron period that expires tokens (see [`SimConfig::cron_period`]).
    pub fn cron_period(mut self, period: Option<Duration>) -> SimConfig {
        self.cron_period = period;
        self
    }

    /// Turns counting off for the lists of `entities` (see [`SimConfig::count_disabled`]).
    pub fn count_disabled<I, S>(mut self, entities: I) -> SimConfig
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.count_disabled = entities.into_iter().map(Into::into).collect();
        self
    }

    /// Checks every JSON answer against the spec (default off); see
    /// [`Simulator::response_violations`].
    pub fn validate_responses(mut self, yes: bool) -> SimConfig {
        self.validate_responses = yes;
        self
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file could not be read.
    #[error("cannot read {0}: {1}")]
    Io(PathBuf, #[source] std::io::Error),
    /// A document is not JSON.
    #[error("{0} is not valid JSON: {1}")]
    Json(String, #[source] serde_json::Error),
    /// The spec cannot be understood.
    #[error(transparent)]
    Model(#[from] model::ModelError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{0}: {1}")]
    Bind(u16, #[source] std::io::Error),
}

/// A running simulator; stops when dropped or on [`Simulator::shutdown`].
#[derive(Debug)]
pub struct Simulator {
    addr: SocketAddr,
    base_url: String,
    generation: Generation,
    app: Arc<state::App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Loads the spec, opens the database, binds 127.0.0.1 and starts serving.
    pub async fn start(config: SimConfig) -> Result<Simulator, SimError> {
        let spec = config.spec.load()?;
        let metadata = match &config.metadata {
            Some(m) => Some(m.load()?),
            None => None,
        };
        let model = model::Model::from_spec(&spec, metadata.as_deref())?;
        let store = store::Store::open(config.db_path.as_deref(), &model)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|e| SimError::Bind(config.port, e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SimError::Bind(config.port, e))?;
        let base_url = format!("http://{addr}");
        let generation = model.generation;
        let check = http::spec_check::SpecCheck::new(
            &spec,
            config.validate_requests,
            config.validate_responses,
        );
        let app = Arc::new(state::App::new(
            model,
            store,
            spec,
            &config,
            base_url.clone(),
            check,
        ));
        if config.seed_demo_data {
            demo::seed(&app).map_err(SimError::Store)?;
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let mut router = http::router::router(app.clone());
        if app.request_log.enabled() {
            router = router.layer(axum::middleware::from_fn_with_state(
                app.clone(),
                http::record::record,
            ));
        }
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Simulator {
            addr,
            base_url,
            generation,
            app,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The instance root, e.g. `http://127.0.0.1:PORT` (the spec is at `/openapi.json`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API root: the base URL plus `/api/v1` (2.2) or `/api` (2.3).
    pub fn api_url(&self) -> String {
        format!("{}{}", self.base_url, self.generation.api_base())
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The generation detected from the spec.
    pub fn generation(&self) -> Generation {
        self.generation
    }

    /// How many requests reached the API base so far (faulted ones included).
    pub fn request_count(&self) -> u64 {
        self.app.request_count()
    }

    /// Answers checked against the spec so far (with [`SimConfig::validate_responses`]).
    pub fn checked_responses(&self) -> u64 {
        self.app.check.checked()
    }

    /// Every mismatch between an answer and the spec found so far, one line each
    /// (`METHOD template: at pointer: reason`); empty when all answers matched.
    pub fn response_violations(&self) -> Vec<String> {
        self.app.check.violations()
    }

    /// The simulator's clock (stamps and `Date` headers): freeze, set or move it in a test.
    pub fn clock(&self) -> &clock::Clock {
        &self.app.clock
    }

    /// Stops serving and waits until the server task has ended.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
