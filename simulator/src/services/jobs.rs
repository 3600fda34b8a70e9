//! Jobs the server queues for work too large for one request (queued upserts, mass actions).
//! The real job manager runs them later; the simulator runs the work at once and records a `Job`
//! that is already `Success` when a client polls `GET /Job/{id}`.

use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

use crate::services::records::coerce;
use crate::state::Ctx;
use crate::store::{Record, ident};
use crate::util::{ApiError, new_id};

/// Runs `work`, recorded as a `Job` named `name` of type `job_type` with `payload`; the job's
/// id (a fresh id when the instance has no `Job` entity).
pub fn run_as_job(
    ctx: &Ctx,
    name: &str,
    job_type: &str,
    payload: &Value,
    work: impl FnOnce() -> Result<(), ApiError>,
) -> Result<String, ApiError> {
    let Some(je) = ctx.app.model.entity("Job") else {
        // Done at once, unless the cron is stopped (see below): then pending for good.
        let done = !ctx.app.cron_stopped;
        if done {
            work()?;
        }
        let id = new_id(ctx.generation());
        lock_untracked(ctx).insert(id.clone(), done);
        return Ok(id);
    };
    let now = ctx.now_ts();
    let mut rec = Record::new();
    for (k, v) in [
        ("name", json!(name)),
        ("type", json!(job_type)),
        ("status", json!("Pending")),
        ("executeTime", json!(now)),
        ("priority", json!(100)),
        ("payload", payload.clone()),
    ] {
        if let Some(f) = je.field(k) {
            rec.insert(k.to_string(), coerce(f.kind, k, &v)?);
        }
    }
    let id = new_id(ctx.generation());
    rec.insert("id".into(), json!(id));
    rec.insert("deleted".into(), json!(false));
    rec.insert("createdAt".into(), json!(now));
    rec.insert("modifiedAt".into(), json!(now));
    rec.insert("createdById".into(), json!(ctx.caller.user_id));
    rec.insert("modifiedById".into(), json!(ctx.caller.user_id));
    if je.field("ownerUserId").is_some() {
        rec.insert("ownerUserId".into(), json!(ctx.caller.user_id));
    }
    ctx.store.insert(je, &rec)?;
    // AtroCore's job manager runs jobs from its cron: with the cron stopped they stay `Pending`
    // and their work is not done.
    if ctx.app.cron_stopped {
        return Ok(id);
    }
    work()?;
    let mut done = Record::new();
    for (k, v) in [
        ("status", json!("Success")),
        ("startedAt", json!(now)),
        ("endedAt", json!(ctx.now_ts())),
    ] {
        if je.field(k).is_some() {
            done.insert(k.to_string(), v);
        }
    }
    ctx.store.update(je, &id, &done)?;
    Ok(id)
}

/// Where a mass action's job stands (`Services/Job.php::getMassActionJobStatus`, both
/// generations): not done until the job is `Success`; then done when every job it created (its
/// id as `creatorId` in their payload) is `Success` or `Failed`. Of each finished part's message
/// the first line goes to `message`, the rest to `errors`, joined with `<br>`.
pub fn mass_action_status(ctx: &Ctx, job_id: &str) -> Result<Value, ApiError> {
    let not_found = || ApiError::not_found(format!("Record 'Job' with ID '{job_id}' not found."));
    let answer = |done: bool, messages: Vec<String>, errors: Vec<String>| {
        json!({
            "done": done,
            "errors": errors.join("\n").trim().replace('\n', "<br>"),
            "message": messages.join("\n").trim().replace('\n', "<br>"),
        })
    };
    let Some(je) = ctx.app.model.entity("Job") else {
        return match lock_untracked(ctx).get(job_id) {
            Some(done) => Ok(answer(*done, Vec::new(), Vec::new())),
            None => Err(not_found()),
        };
    };
    let job = ctx.store.get(je, job_id)?.ok_or_else(not_found)?;
    if job.get("status").and_then(Value::as_str) != Some("Success") {
        return Ok(answer(false, Vec::new(), Vec::new()));
    }
    let children = ctx.store.select(
        je,
        &format!(
            "COALESCE(t.\"deleted\", 0) = 0 AND t.{} LIKE ?",
            ident("payload")
        ),
        vec![SqlValue::Text(format!("%\"creatorId\":\"{job_id}\"%"))],
        "t.rowid",
        None,
        0,
    )?;
    let (mut messages, mut errors) = (Vec::new(), Vec::new());
    for child in &children {
        if !matches!(
            child.get("status").and_then(Value::as_str),
            Some("Success" | "Failed")
        ) {
            return Ok(answer(false, Vec::new(), Vec::new()));
        }
        let message = child.get("message").and_then(Value::as_str).unwrap_or("");
        if !message.is_empty() {
            let mut lines = message.split('\n');
            messages.extend(lines.next().map(str::to_owned));
            errors.extend(lines.map(str::to_owned));
        }
    }
    Ok(answer(true, messages, errors))
}

fn lock_untracked<'a>(
    ctx: &'a Ctx,
) -> std::sync::MutexGuard<'a, std::collections::HashMap<String, bool>> {
    ctx.app
        .untracked_jobs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
