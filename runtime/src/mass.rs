//! Mass update and mass delete of the records named by ids or matched by a filter: 2.2
//! `PUT /{E}/action/massUpdate` and `POST /{E}/action/massDelete`; 2.3 `PATCH /entityMassUpdate`
//! and `POST /entityMassDelete` for ids, their `…Async` forms (a job on the server's queue) for a
//! filter. Generated crates call these from `update_matching` / `update_ids` /
//! `delete_matching` / `delete_ids`.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::{ApiGeneration, Client};
use crate::encode::encode_path_segment;
use crate::entity::BoxFuture;
use crate::error::{Error, ErrorKind, Result};
use crate::filter::{Condition, Where};
use crate::http::execute::check_path_value;
use crate::operation::Operation;
use crate::request::RequestBuilder;

/// How many ids 2.3's synchronous mass routes take in one request: the default of its
/// `massUpdateMaxCountWithoutJob` and `massDeleteMaxCountWithoutJob` settings
/// (`app/Atro/Handlers/Global/MassUpdateHandler.php`, `MassDeleteHandler.php`: more is a 400).
/// Larger id lists go to the `…Async` route as an `in` filter on `id`.
pub const MASS_SYNC_ID_LIMIT: usize = 200;

/// The records a mass action applies to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MassSelection {
    /// These records.
    Ids(Vec<String>),
    /// Every record the filter matches (an empty filter matches every record).
    Filter(Where),
}

/// What the server said of a mass update or delete.
///
/// AtroCore runs a small selection at once and queues a job for a large one (on 2.2 above its
/// `massUpdateMaxCountWithoutJob` / `massDeleteMaxCountWithoutJob` settings, 200 by default; on
/// 2.3 for every filter). A queued action's outcome is known only from its job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MassOutcome {
    /// The records selected (the ids given or the filter's matches), failures included:
    /// AtroCore counts the selection, not the successes (`Services/Record.php::
    /// executeMassAction`). `None` when the server did not say.
    pub count: Option<u64>,
    /// The server's messages for records that failed: a summary first ("Some record(s) could
    /// not be successfully updated."), then one `Error for '<name>': <reason>` per record.
    pub errors: Vec<String>,
    /// The action was queued as a job on the server instead of run in the request.
    pub queued: bool,
    /// The queued job's id, when the server gives it (2.3).
    pub job_id: Option<String>,
}

impl MassOutcome {
    /// Ran in the request, and no record failed.
    pub fn is_complete(&self) -> bool {
        !self.queued && self.errors.is_empty()
    }
}

/// Reads every answer shape the routes give: 2.2's documented `true`, its actual
/// `{count, sync, errors}`, 2.3's `{updated | deleted, errors}` and `{jobId}`.
impl<'de> Deserialize<'de> for MassOutcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Shape;
        impl<'de> Visitor<'de> for Shape {
            type Value = MassOutcome;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mass action result (an object or a boolean)")
            }
            fn visit_bool<E: de::Error>(self, ok: bool) -> std::result::Result<MassOutcome, E> {
                if ok {
                    Ok(MassOutcome::default())
                } else {
                    Err(E::custom("the server answered `false`"))
                }
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<MassOutcome, A::Error> {
                let mut out = MassOutcome::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "count" | "updated" | "deleted" => {
                            out.count = map.next_value::<Option<u64>>()?.or(out.count);
                        }
                        "errors" => {
                            out.errors =
                                map.next_value::<Option<Vec<String>>>()?.unwrap_or_default();
                        }
                        "sync" => out.queued |= map.next_value::<Option<bool>>()? == Some(false),
                        "jobId" => {
                            out.job_id = map.next_value::<Option<String>>()?;
                            out.queued |= out.job_id.is_some();
                        }
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_any(Shape)
    }
}

/// The action, with its body fields.
enum Action {
    /// `values`: the fields to set, serialized.
    Update(Value),
    Delete {
        permanently: bool,
    },
}

impl Action {
    fn word(&self) -> &'static str {
        match self {
            Action::Update(_) => "update",
            Action::Delete { .. } => "delete",
        }
    }
}

impl Client {
    /// Sets the fields of `values` (a patch struct, or any object) on every record of `entity`
    /// in `selection`. Retried like a read: setting the same values again changes nothing.
    ///
    /// An empty id list, or `values` that set no field, fail before anything is sent (AtroCore
    /// answers 400 to an update without values).
    pub fn mass_update<P: Serialize + ?Sized>(
        &self,
        entity: &str,
        selection: MassSelection,
        values: &P,
    ) -> Operation<MassOutcome> {
        let (values, problem) = match serde_json::to_value(values) {
            Ok(Value::Object(m)) if !m.is_empty() => (Value::Object(m), None),
            Ok(_) => (
                Value::Null,
                Some(Error::builder(
                    "a mass update needs at least one field to set",
                )),
            ),
            Err(e) => (
                Value::Null,
                Some(
                    Error::builder("the values of a mass update cannot be serialized")
                        .with_source(e),
                ),
            ),
        };
        let request = self.mass_request(entity, selection, Action::Update(values));
        let request = match problem {
            Some(e) => request.fail(e),
            None => request,
        };
        Operation::json(request.idempotent(true))
    }

    /// Deletes every record of `entity` in `selection`: moved to the trash, or with
    /// [`MassDelete::permanently`] removed for good. Not retried after a request may have
    /// reached the server (the answer of a second try would report the records as missing).
    pub fn mass_delete(&self, entity: &str, selection: MassSelection) -> MassDelete {
        MassDelete {
            client: self.clone(),
            entity: entity.to_owned(),
            selection,
            permanently: false,
        }
    }

    /// The request of a mass action on `entity`, by generation and selection.
    fn mass_request(
        &self,
        entity: &str,
        selection: MassSelection,
        action: Action,
    ) -> RequestBuilder {
        let v22 = self.generation() == ApiGeneration::V2_2;
        let (method, path) = match (&action, v22) {
            (Action::Update(_), true) => (
                Method::PUT,
                format!("/{}/action/massUpdate", encode_path_segment(entity)),
            ),
            (Action::Delete { .. }, true) => (
                Method::POST,
                format!("/{}/action/massDelete", encode_path_segment(entity)),
            ),
            (Action::Update(_), false) => (Method::PATCH, "/entityMassUpdate".to_owned()),
            (Action::Delete { .. }, false) => (Method::POST, "/entityMassDelete".to_owned()),
        };
        // 2.3 takes a filter, or more ids than its synchronous limit, only on the async route.
        let selection = match selection {
            MassSelection::Ids(ids) if ids.is_empty() => {
                return self
                    .request(method, path)
                    .fail(Error::builder(format!("no ids to mass {}", action.word())));
            }
            MassSelection::Ids(ids) if !v22 && ids.len() > MASS_SYNC_ID_LIMIT => {
                MassSelection::Filter(Where::from(Condition::new("in").attribute("id").value(ids)))
            }
            other => other,
        };
        let path = match (&selection, v22) {
            (MassSelection::Filter(_), false) => format!("{path}Async"),
            _ => path,
        };
        let request = self.request(method, path);
        let mut body = serde_json::Map::new();
        if !v22 {
            body.insert("entityName".into(), entity.into());
        }
        let mut filter = None;
        match selection {
            MassSelection::Ids(ids) => {
                body.insert("ids".into(), json!(ids));
            }
            MassSelection::Filter(w) => {
                filter = Some(w);
                // 2.2 reads `where` only with `byWhere` (`AbstractRecordController::
                // actionMassUpdate`/`actionMassDelete`).
                if v22 {
                    body.insert("byWhere".into(), Value::Bool(true));
                }
            }
        }
        match action {
            Action::Update(values) => {
                body.insert((if v22 { "attributes" } else { "values" }).into(), values);
            }
            Action::Delete { permanently } => {
                if permanently {
                    body.insert("permanently".into(), Value::Bool(true));
                }
            }
        }
        match filter {
            Some(w) => request.json_with_where(body, &w),
            None => request.json(&body),
        }
    }
}

/// A mass delete: `.await` sends it; [`permanently`](Self::permanently) removes the records for
/// good instead of moving them to the trash.
#[must_use = "a mass delete does nothing until it is awaited"]
pub struct MassDelete {
    client: Client,
    entity: String,
    selection: MassSelection,
    permanently: bool,
}

impl std::fmt::Debug for MassDelete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MassDelete")
            .field("entity", &self.entity)
            .field("selection", &self.selection)
            .field("permanently", &self.permanently)
            .finish_non_exhaustive()
    }
}

impl MassDelete {
    /// Removes the records for good (`permanently: true`) instead of moving them to the trash.
    pub fn permanently(mut self, on: bool) -> Self {
        self.permanently = on;
        self
    }

    /// The operation, to set a timeout or headers before sending.
    pub fn into_operation(self) -> Operation<MassOutcome> {
        let action = Action::Delete {
            permanently: self.permanently,
        };
        Operation::json(
            self.client
                .mass_request(&self.entity, self.selection, action),
        )
    }
}

impl IntoFuture for MassDelete {
    type Output = Result<MassOutcome>;
    type IntoFuture = BoxFuture<MassOutcome>;

    fn into_future(self) -> Self::IntoFuture {
        self.into_operation().into_future()
    }
}

/// Where a mass action's job stands (`massActionStatus`, `Services/Job.php::
/// getMassActionJobStatus`): done when the job and every job it created have finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct MassActionStatus {
    /// The job and the jobs it created have finished (successfully or not).
    #[serde(default)]
    pub done: bool,
    /// The first line of each finished part's message.
    #[serde(default, rename = "message", deserialize_with = "lines")]
    pub messages: Vec<String>,
    /// The other lines of those messages: the records that failed.
    #[serde(default, deserialize_with = "lines")]
    pub errors: Vec<String>,
}

/// The server joins lines with `<br>`; `null` and `""` are no lines.
fn lines<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let text = Option::<String>::deserialize(d)?.unwrap_or_default();
    Ok(text
        .split("<br>")
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// How often [`Client::wait_for_mass_action`] asks by default.
pub const DEFAULT_JOB_POLL: Duration = Duration::from_secs(2);

impl Client {
    /// Where the mass action job `job_id` stands: 2.2 `GET /Job/action/massActionStatus?id=`,
    /// 2.3 `GET /Job/{id}/massActionStatus`. A read: retried like one.
    pub fn mass_action_status(&self, job_id: &str) -> Operation<MassActionStatus> {
        let request = match self.generation() {
            ApiGeneration::V2_2 => self
                .request(Method::GET, "/Job/action/massActionStatus")
                .query("id", job_id),
            _ => {
                let request = self.request(
                    Method::GET,
                    format!("/Job/{}/massActionStatus", encode_path_segment(job_id)),
                );
                match check_path_value(job_id) {
                    Ok(()) => request,
                    Err(e) => request.fail(e),
                }
            }
        };
        Operation::json(request)
    }

    /// Asks for the mass action job `job_id`'s status every
    /// [`poll_every`](MassActionWait::poll_every) (default [`DEFAULT_JOB_POLL`]) until it is
    /// done, then answers its last status; gives up with [`ErrorKind::Timeout`](crate::ErrorKind)
    /// after [`timeout`](MassActionWait::timeout), if set.
    pub fn wait_for_mass_action(&self, job_id: &str) -> MassActionWait {
        MassActionWait {
            client: self.clone(),
            job_id: job_id.to_owned(),
            poll: DEFAULT_JOB_POLL,
            timeout: None,
        }
    }
}

/// Waiting for a mass action's job: see [`Client::wait_for_mass_action`].
#[derive(Debug)]
#[must_use = "waiting does nothing until it is awaited"]
pub struct MassActionWait {
    client: Client,
    job_id: String,
    poll: Duration,
    timeout: Option<Duration>,
}

impl MassActionWait {
    /// The pause between two status requests (at least 10 ms).
    pub fn poll_every(mut self, d: Duration) -> Self {
        self.poll = d.max(Duration::from_millis(10));
        self
    }

    /// Gives up after `d` without the job being done.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
}

impl IntoFuture for MassActionWait {
    type Output = Result<MassActionStatus>;
    type IntoFuture = BoxFuture<MassActionStatus>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let started = Instant::now();
            loop {
                let status = self.client.mass_action_status(&self.job_id).await?;
                if status.done {
                    return Ok(status);
                }
                if let Some(limit) = self.timeout {
                    let left = limit.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return Err(Error::new(ErrorKind::Timeout).with_message(format!(
                            "the mass action job {} was not done after {limit:?}",
                            self.job_id
                        )));
                    }
                    tokio::time::sleep(self.poll.min(left)).await;
                } else {
                    tokio::time::sleep(self.poll).await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(json: &str) -> MassOutcome {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_answer_shape_reads() {
        assert_eq!(outcome("true"), MassOutcome::default());
        assert!(serde_json::from_str::<MassOutcome>("false").is_err());
        let done = outcome(r#"{"count": 3, "sync": true, "errors": []}"#);
        assert_eq!((done.count, done.queued), (Some(3), false));
        assert!(done.is_complete());
        let queued = outcome(r#"{"count": 900, "sync": false, "errors": []}"#);
        assert!(queued.queued && queued.job_id.is_none() && !queued.is_complete());
        let v23 = outcome(r#"{"updated": 2, "errors": ["Some…", "Error for 'A': x"]}"#);
        assert_eq!((v23.count, v23.errors.len()), (Some(2), 2));
        assert_eq!(outcome(r#"{"deleted": 1, "errors": null}"#).count, Some(1));
        let job = outcome(r#"{"jobId": "j1"}"#);
        assert_eq!((job.queued, job.job_id.as_deref()), (true, Some("j1")));
        assert!(serde_json::from_str::<MassOutcome>(r#"{"count": "x"}"#).is_err());
        assert!(serde_json::from_str::<MassOutcome>("[]").is_err());
    }

    #[test]
    fn a_status_splits_its_lines() {
        let s: MassActionStatus = serde_json::from_str(
            r#"{"done": true, "errors": "Error for 'A': x<br>Error for 'B': y", "message": null}"#,
        )
        .unwrap();
        assert!(s.done);
        assert_eq!(s.errors, ["Error for 'A': x", "Error for 'B': y"]);
        assert!(s.messages.is_empty());
        let pending: MassActionStatus =
            serde_json::from_str(r#"{"done": false, "errors": "", "message": ""}"#).unwrap();
        assert_eq!(pending, MassActionStatus::default());
    }
}
