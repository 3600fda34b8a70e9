//! `POST /MassActions/action/upsert`: every item parsed, checked and answered the way a 2.2
//! instance does (`{status, stored, entity: <the record>}`, or `Failed` with AtroCore's
//! `Code: 400. Message: …`; `app/Atro/Controllers/MassActions.php` → `Services/MassActions.php`
//! `upsert`), nothing stored but the ids (to tell `Created` from `Updated`).

use std::collections::HashSet;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{App, error, json_bytes, unauthorized};

#[derive(Deserialize)]
struct Item {
    entity: String,
    payload: Map<String, Value>,
}

/// The ids seen and the outcome counts.
#[derive(Default)]
pub(crate) struct Upserts {
    ids: HashSet<String>,
    created: u64,
    updated: u64,
    failed: u64,
}

impl Upserts {
    /// `{created, updated, failed}` so far.
    pub(crate) fn stats(&self) -> Value {
        json!({ "created": self.created, "updated": self.updated, "failed": self.failed })
    }

    /// The answer to one item.
    fn answer(&mut self, item: Item) -> Value {
        let failed = |message: &str| json!({ "status": "Failed", "stored": false, "message": format!("Code: 400. Message: {message}") });
        if item.entity != "Product" {
            self.failed += 1;
            return failed(&format!("Unknown entity '{}'.", item.entity));
        }
        let mut record = item.payload;
        let name_ok = record
            .get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if !name_ok {
            self.failed += 1;
            return failed("Validation failed. 'Name' is required.");
        }
        let id = match record.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => format!("u{:016x}", self.ids.len() as u64 + 1),
        };
        let status = if self.ids.insert(id.clone()) {
            self.created += 1;
            "Created"
        } else {
            self.updated += 1;
            "Updated"
        };
        record.insert("id".into(), Value::String(id));
        for (k, v) in [
            ("deleted", json!(false)),
            ("createdAt", json!("2026-01-01 10:00:00")),
            ("modifiedAt", json!("2026-01-01 10:00:00")),
            ("createdById", json!("1")),
            ("createdByName", json!("Admin")),
            ("modifiedById", json!("1")),
            ("modifiedByName", json!("Admin")),
        ] {
            record.entry(k).or_insert(v);
        }
        json!({ "status": status, "stored": true, "entity": record })
    }
}

/// `POST /MassActions/action/upsert`.
pub(crate) async fn upsert(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = unauthorized(&app, &headers) {
        return r;
    }
    let work = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let items: Vec<Item> = serde_json::from_slice(&body)
            .map_err(|e| format!("not a list of upsert items: {e}"))?;
        let answers: Vec<Value> = {
            let mut upserts = app.upserts.lock().unwrap_or_else(|p| p.into_inner());
            items.into_iter().map(|i| upserts.answer(i)).collect()
        };
        serde_json::to_vec(&answers).map_err(|e| e.to_string())
    })
    .await;
    match work {
        Ok(Ok(body)) => json_bytes(body),
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, &e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(v: Value) -> Item {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn answers_each_item() {
        let mut u = Upserts::default();
        let a = u.answer(item(
            json!({"entity": "Product", "payload": {"id": "x1", "name": "A"}}),
        ));
        assert_eq!(a["status"], "Created");
        assert_eq!(a["entity"]["id"], "x1");
        let b = u.answer(item(
            json!({"entity": "Product", "payload": {"id": "x1", "name": "B"}}),
        ));
        assert_eq!(b["status"], "Updated");
        let c = u.answer(item(json!({"entity": "Product", "payload": {"id": "x2"}})));
        assert_eq!(c["status"], "Failed");
        assert_eq!(u.stats(), json!({"created": 1, "updated": 1, "failed": 1}));
    }
}
