//! Mass update and mass delete: 2.2 `PUT /{E}/action/massUpdate` and `POST /{E}/action/massDelete`
//! (`app/Atro/Controllers/AbstractRecordController.php`, 2.2.31), 2.3 `PATCH /entityMassUpdate`,
//! `POST /entityMassDelete` and their `…Async` forms (`app/Atro/Handlers/Global/Mass*Handler.php`,
//! 2.3.16). Both run through the record service's `executeMassAction`
//! (`app/Atro/Services/Record.php`): the selection is counted, a selection up to the
//! `maxCountWithoutJob` limit is worked through at once (one error line per failed record), a
//! larger one becomes a job.
//!
//! Not confirmed: the mass update's own service method is in the unmirrored `atrocore-legacy`
//! package; it is modelled like `massRemove` (same `executeMassAction`, same answer).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::model::Entity;
use crate::query::where_sql;
use crate::services::jobs::run_as_job;
use crate::services::lists::select_ids;
use crate::services::records::{delete, update_record};
use crate::state::Ctx;
use crate::util::{ApiError, php_truthy};

/// `massUpdateMaxCountWithoutJob` / `massDeleteMaxCountWithoutJob`: their default, 200.
const MAX_COUNT_WITHOUT_JOB: i64 = 200;

/// What a mass action does to each record.
pub enum Action {
    /// Sets these fields.
    Update(Map<String, Value>),
    /// Deletes (for good with `permanently`).
    Delete {
        /// `deleteEntityPermanently` instead of `deleteEntity`.
        permanently: bool,
    },
}

impl Action {
    /// The word in the job name and the translated labels (`update`, `delete`).
    fn word(&self) -> &'static str {
        match self {
            Action::Update(_) => "update",
            Action::Delete { .. } => "delete",
        }
    }

    /// The summary line put before the per-record errors (`i18n/en_US/Global.json`,
    /// `massUpdateNoRecordProceed`, `massDeleteSomeRecordNotProceed`, …).
    fn summary(&self, all_failed: bool) -> &'static str {
        match (self, all_failed) {
            (Action::Update(_), true) => "No record was updated.",
            (Action::Update(_), false) => "Some record(s) could not be successfully updated.",
            (Action::Delete { .. }, true) => "No record was removed.",
            (Action::Delete { .. }, false) => "Some record(s) could not be successfully removed.",
        }
    }

    fn apply(&self, ctx: &Ctx, e: &Entity, id: &str) -> Result<(), ApiError> {
        match self {
            Action::Update(values) => update_record(ctx, e, id, values.clone()).map(drop),
            // `deleteEntityPermanently` also removes a record already in the trash.
            Action::Delete { permanently: true } if ctx.store.get(e, id)?.is_none() => {
                if ctx.store.get_any(e, id)?.is_none() {
                    return delete(ctx, e, id, true).map(drop);
                }
                if let Some(rec) = ctx.store.get_any(e, id)? {
                    ctx.check_record(e, &rec, crate::roles::Action::Delete)?;
                }
                ctx.store.purge(e, id).map_err(ApiError::from)
            }
            Action::Delete { permanently } => delete(ctx, e, id, *permanently).map(drop),
        }
    }
}

/// The records a mass action selects.
pub enum Selection {
    /// `ids`.
    Ids(Vec<String>),
    /// `where` (already checked to be given).
    Where(Value),
}

/// What `executeMassAction` returns: the selection's size, the error lines, and the job when
/// the selection went to the queue.
pub struct Executed {
    /// Records selected, failures included.
    pub total: usize,
    /// The summary and one line per failed record (empty when none failed).
    pub errors: Vec<String>,
    /// The job's id when the work was queued.
    pub job_id: Option<String>,
}

/// `executeMassAction`: a selection of at most `max_without_job` records runs in the request,
/// a larger one becomes a job (2.3's synchronous routes pass `PHP_INT_MAX`, its async routes
/// `-1`: always a job, even for no record).
pub fn execute(
    ctx: &Ctx,
    e: &Entity,
    selection: Selection,
    action: &Action,
    max_without_job: i64,
) -> Result<Executed, ApiError> {
    let ids = match selection {
        Selection::Ids(ids) => ids,
        Selection::Where(w) => {
            // `getSelectParams(['where' => …], true, true)`: the `where` is checked for fields
            // the role may not read (403 for the whole request) and the selection is limited to
            // the records the role may read (`Core/SelectManagers/Base.php::checkWhere`,
            // `access`).
            ctx.check_where(e, &w)?;
            let filter = where_sql::build_where(&ctx.app.model, e, &w)?;
            // A permanent delete selects trashed records too (`withDeleted`).
            let mut sql = match action {
                Action::Delete { permanently: true } => "1".to_string(),
                _ => "COALESCE(t.\"deleted\", 0) = 0".to_string(),
            };
            let mut params = Vec::new();
            if let Some((access, p)) = ctx.read_access_sql(e) {
                sql.push_str(&format!(" AND {access}"));
                params.extend(p);
            }
            if !filter.sql.is_empty() {
                sql.push_str(&format!(" AND {}", filter.sql));
                params.extend(filter.params);
            }
            select_ids(ctx, e, &sql, params)?
        }
    };
    let total = ids.len();
    let run = |errors: &mut Vec<String>| {
        for id in &ids {
            if let Err(err) = action.apply(ctx, e, id) {
                let name = ctx
                    .store
                    .get_any(e, id)
                    .ok()
                    .flatten()
                    .and_then(|r| r.get("name").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_else(|| id.clone());
                errors.push(format!("Error for '{name}': {}", err.message));
            }
        }
    };
    if i64::try_from(total).is_ok_and(|t| t <= max_without_job) {
        let mut errors = Vec::new();
        run(&mut errors);
        if !errors.is_empty() {
            errors.insert(0, action.summary(errors.len() == total).to_string());
        }
        return Ok(Executed {
            total,
            errors,
            job_id: None,
        });
    }
    // `MassActionCreator` (`Jobs/MassActionCreator.php`) creates the jobs that do the work, each
    // with `creatorId` in its payload: `MassUpdate`, or `UniversalMassAction` for a delete. Their
    // per-record failures become notifications, not job messages.
    let word = action.word();
    let payload = json!({ "ids": ids, "action": word, "entityName": e.name, "total": total });
    let job_id = run_as_job(
        ctx,
        &format!("Create jobs for mass {word}"),
        "MassActionCreator",
        &payload,
        || Ok(()),
    )?;
    if total > 0 {
        let part = json!({
            "creatorId": job_id, "entityType": e.name, "total": total, "ids": ids, "part": 1,
            "action": word,
        });
        let (name, job_type) = match action {
            Action::Update(_) => (format!("Mass update: {}", e.name), "MassUpdate"),
            Action::Delete { .. } => (format!("Mass delete: {}", e.name), "UniversalMassAction"),
        };
        run_as_job(ctx, &name, job_type, &part, || {
            run(&mut Vec::new());
            Ok(())
        })?;
    }
    Ok(Executed {
        total,
        errors: Vec::new(),
        job_id: Some(job_id),
    })
}

/// The ids of a body's `ids` when it is an array of strings.
fn body_ids(body: &Value) -> Option<Vec<String>> {
    body.get("ids")?.as_array().map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

/// 2.2 `PUT /{E}/action/massUpdate` `{attributes, ids}` or `{attributes, where, byWhere: true}`,
/// and `POST /{E}/action/massDelete` `{ids}` or `{where, byWhere: true}`, `permanently`: answers
/// `{count, sync, errors}` (`Services/Record.php::massRemove`; the spec documents a boolean).
pub fn v22(ctx: &Ctx, e: &Entity, update: bool, body: &Value) -> Result<Value, ApiError> {
    let action = if update {
        // `actionMassUpdate` / `actionMassDelete` check the scope first (403, empty body).
        ctx.check_scope(&e.name, crate::roles::Action::Edit)?;
        match body.get("attributes") {
            Some(Value::Object(m)) if !m.is_empty() => Action::Update(m.clone()),
            _ => return Err(ApiError::bad("Bad Request")),
        }
    } else {
        ctx.check_scope(&e.name, crate::roles::Action::Delete)?;
        Action::Delete {
            permanently: php_truthy(body.get("permanently")),
        }
    };
    let by_where = body.get("where").is_some() && php_truthy(body.get("byWhere"));
    // A delete naming both `ids` and `where` + `byWhere` fails: `executeMassAction`
    // (`Services/Record.php`, 2.2.31) takes the ids but, `where` being set, merges the select
    // parameters of the `where` branch, which never ran: `array_merge(null, …)` is a TypeError
    // on PHP 8, a 500 (up to `massDeleteMaxCountWithoutJob` ids; above, a job is queued).
    if !update
        && by_where
        && body_ids(body)
            .is_some_and(|ids| !ids.is_empty() && ids.len() as i64 <= MAX_COUNT_WITHOUT_JOB)
    {
        return Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "array_merge(): Argument #1 ($array) must be of type array, null given",
        ));
    }
    // `executeMassAction` takes a non-empty `ids` array first, then `where`; neither is an
    // empty selection.
    let selection = match body_ids(body).filter(|ids| !ids.is_empty()) {
        Some(ids) if !(update && by_where) => Selection::Ids(ids),
        _ if by_where => Selection::Where(body["where"].clone()),
        _ => Selection::Ids(Vec::new()),
    };
    let done = execute(ctx, e, selection, &action, MAX_COUNT_WITHOUT_JOB)?;
    Ok(json!({
        "count": done.total,
        "sync": done.job_id.is_none(),
        "errors": done.errors,
    }))
}

/// 2.3 `PATCH /entityMassUpdate` / `POST /entityMassDelete` (`async`: false; at most 200 ids,
/// answers `{updated | deleted, errors}`) and `PATCH /entityMassUpdateAsync` /
/// `POST /entityMassDeleteAsync` (`where` required, always a job, answers `{jobId}`).
pub fn v23(ctx: &Ctx, update: bool, run_async: bool, body: &Value) -> Result<Value, ApiError> {
    let entity = body
        .get("entityName")
        .filter(|v| php_truthy(Some(v)))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("entityName is required"))?;
    let values = if update {
        match body.get("values") {
            Some(Value::Object(m)) if !m.is_empty() => Some(m.clone()),
            _ => return Err(ApiError::bad("values is required")),
        }
    } else {
        None
    };
    if run_async && body.get("where").is_none_or(Value::is_null) {
        return Err(ApiError::bad("where is required"));
    }
    let e = ctx
        .app
        .model
        .entity(entity)
        .ok_or_else(|| ApiError::not_found(format!("Entity '{entity}' not found.")))?;
    // `Handlers/Global/Mass{Update,Delete}[Async]Handler.php`: the scope check (403, empty
    // body); each record's own check then fails that record only (one error line).
    ctx.check_scope(
        &e.name,
        if update {
            crate::roles::Action::Edit
        } else {
            crate::roles::Action::Delete
        },
    )?;
    let action = match values {
        Some(v) => Action::Update(v),
        None => Action::Delete {
            permanently: php_truthy(body.get("permanently")),
        },
    };
    if run_async {
        let where_ = body["where"].clone();
        let done = execute(ctx, e, Selection::Where(where_), &action, -1)?;
        // `massRemove` answers `['jobId' => …]` when it queued the work.
        return Ok(json!({ "jobId": done.job_id }));
    }
    let ids = body_ids(body).unwrap_or_default();
    if i64::try_from(ids.len()).map_or(true, |n| n > MAX_COUNT_WITHOUT_JOB) {
        let route = if update {
            "/entityMassUpdateAsync"
        } else {
            "/entityMassDeleteAsync"
        };
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "Too many ids: maximum allowed is {MAX_COUNT_WITHOUT_JOB}. Use {route} for large batches."
            ),
        ));
    }
    let done = execute(ctx, e, Selection::Ids(ids), &action, i64::MAX)?;
    let key = if update { "updated" } else { "deleted" };
    Ok(json!({ key: done.total, "errors": done.errors }))
}
