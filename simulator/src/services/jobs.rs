//! Jobs the server queues for work too large for one request (queued upserts, mass actions).
//! The real job manager runs them later; the simulator runs the work at once and records a `Job`
//! that is already `Success` when a client polls `GET /Job/{id}`.

use serde_json::{Value, json};

use crate::services::records::coerce;
use crate::state::Ctx;
use crate::store::Record;
use crate::util::{ApiError, new_id, now_ts};

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
        work()?;
        return Ok(new_id(ctx.generation()));
    };
    let now = now_ts();
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
    work()?;
    let mut done = Record::new();
    for (k, v) in [
        ("status", json!("Success")),
        ("startedAt", json!(now)),
        ("endedAt", json!(now_ts())),
    ] {
        if je.field(k).is_some() {
            done.insert(k.to_string(), v);
        }
    }
    ctx.store.update(je, &id, &done)?;
    Ok(id)
}
