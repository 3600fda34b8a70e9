//! The simulator as a test server for users' integration tests: records seeded without HTTP,
//! faults changed while serving, and what was received ([`crate::request_log`]).

use serde_json::Value;

use crate::request_log::LoggedRequest;
use crate::services::records;
use crate::{Faults, Simulator};

/// Why [`Simulator::seed`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The spec has no such entity.
    #[error("seeding {0}: the spec has no entity of that name")]
    UnknownEntity(String),
    /// A record is not a JSON object.
    #[error("seeding {entity}, record {index}: not a JSON object")]
    NotAnObject {
        /// The entity.
        entity: String,
        /// The record's position in the input (from 0).
        index: usize,
    },
    /// The server refused a record, as it would refuse `POST /{entity}`.
    #[error("seeding {entity}, record {index}: {status} {message}")]
    Refused {
        /// The entity.
        entity: String,
        /// The record's position in the input (from 0).
        index: usize,
        /// The status `POST /{entity}` would answer.
        status: u16,
        /// The server's message (its `X-Status-Reason`).
        message: String,
    },
}

impl Simulator {
    /// Creates `records` of `entity` as `POST /{entity}` by the administrator would: required
    /// fields, unique values and link ids checked, defaults applied, links given by id (or, like
    /// the API, found or created by their fields), an `id` kept when one is given. No HTTP is
    /// involved: seeding is neither faulted nor logged. Returns the created records as the API
    /// answers a read (ids included). Stops at the first record the server refuses; those before
    /// it stay.
    pub fn seed(
        &self,
        entity: &str,
        records: impl IntoIterator<Item = Value>,
    ) -> Result<Vec<Value>, SeedError> {
        let e = self
            .app
            .model
            .entity(entity)
            .ok_or_else(|| SeedError::UnknownEntity(entity.to_owned()))?;
        self.app.as_admin(|ctx| {
            let mut created = Vec::new();
            for (index, record) in records.into_iter().enumerate() {
                if !record.is_object() {
                    return Err(SeedError::NotAnObject {
                        entity: entity.to_owned(),
                        index,
                    });
                }
                let answer =
                    records::create(ctx, e, record, true).map_err(|err| SeedError::Refused {
                        entity: entity.to_owned(),
                        index,
                        status: err.status.as_u16(),
                        message: err.message,
                    })?;
                created.push(answer);
            }
            Ok(created)
        })
    }

    /// Seeds the attribute definitions of a file in the generator's format (what `cargo
    /// xtask generate --fetch-attributes --save-attributes FILE` writes, or the one bundled
    /// with a spec): an attribute panel, the measures and units named, the option lists (2.2
    /// extensible enums with the options' ids as their values; 2.3 options inline) and each
    /// `Attribute` with its id, keyed by `code` (2.2) or `systemName` (2.3). Returns how many
    /// attributes it made; a record the simulator refuses is an error naming it.
    pub fn seed_attributes(&self, definitions: &Value) -> Result<usize, SeedError> {
        let v22 = self.generation() == crate::model::Generation::V22;
        let text = |d: &Value, k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
        let defs = definitions
            .get("attributes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // Only the fields the simulator's entity has (the file is the same for both
        // generations).
        let keep = |entity: &str, v: Value| -> Value {
            let Some(e) = self.app.model.entity(entity) else {
                return v;
            };
            let mut m = v.as_object().cloned().unwrap_or_default();
            m.retain(|k, _| k == "id" || e.field(k).is_some() || e.link(k).is_some());
            Value::Object(m)
        };
        let mut panels = std::collections::BTreeMap::new();
        let mut measures = std::collections::BTreeMap::new();
        let mut groups = std::collections::BTreeMap::new();
        for d in &defs {
            let entity = text(d, "entity").unwrap_or_default();
            if !panels.contains_key(&entity) {
                let panel = self.seed(
                    "AttributePanel",
                    [keep(
                        "AttributePanel",
                        serde_json::json!({"name": "Main", "code": format!("main{entity}"),
                            "entityId": entity, "sortOrder": 0}),
                    )],
                )?;
                panels.insert(entity.clone(), text(&panel[0], "id").unwrap_or_default());
            }
            let mut attribute = serde_json::json!({
                "id": text(d, "id"),
                "name": text(d, "name").or_else(|| text(d, "code")),
                "type": text(d, "type"),
                "entityId": entity,
                "attributePanelId": panels[&entity],
                "isMultilang": d.get("multilingual").and_then(Value::as_bool).unwrap_or(false),
            });
            let code = if v22 { "code" } else { "systemName" };
            attribute[code] = serde_json::json!(text(d, "code"));
            if let Some(g) = text(d, "group")
                && self.app.model.entity("AttributeGroup").is_some()
            {
                if !groups.contains_key(&g) {
                    let group = self.seed(
                        "AttributeGroup",
                        [keep(
                            "AttributeGroup",
                            serde_json::json!({"name": g, "code": g.to_lowercase().replace(' ', "_"),
                                "entityId": entity}),
                        )],
                    )?;
                    groups.insert(g.clone(), text(&group[0], "id").unwrap_or_default());
                }
                attribute["attributeGroupId"] = serde_json::json!(groups[&g]);
            }
            if let Some(m) = text(d, "measure") {
                if !measures.contains_key(&m) {
                    let measure =
                        self.seed("Measure", [keep("Measure", serde_json::json!({"name": m}))])?;
                    let id = text(&measure[0], "id").unwrap_or_default();
                    let units: Vec<Value> = d
                        .get("units")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|u| {
                            keep(
                                "Unit",
                                serde_json::json!({"id": text(u, "id"), "name": text(u, "name"),
                                    "code": text(u, "code"), "measureId": id, "multiplier": 1.0}),
                            )
                        })
                        .collect();
                    self.seed("Unit", units)?;
                    measures.insert(m.clone(), id);
                }
                attribute["measureId"] = serde_json::json!(measures[&m]);
            }
            let options: Vec<(String, String, Option<String>)> = d
                .get("options")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|o| {
                    let value = text(o, "value")?;
                    Some((
                        value.clone(),
                        text(o, "label").unwrap_or(value),
                        text(o, "code"),
                    ))
                })
                .collect();
            if !options.is_empty() {
                if v22 {
                    let list = self.seed(
                        "ExtensibleEnum",
                        [keep(
                            "ExtensibleEnum",
                            serde_json::json!({"name": format!("{} options", text(d, "code").unwrap_or_default())}),
                        )],
                    )?;
                    let list_id = text(&list[0], "id").unwrap_or_default();
                    self.seed(
                        "ExtensibleEnumOption",
                        options.iter().enumerate().map(|(i, (id, label, code))| {
                            keep(
                                "ExtensibleEnumOption",
                                serde_json::json!({"id": id, "name": label, "code": code,
                                    "sortOrder": i, "extensibleEnumsIds": [list_id]}),
                            )
                        }),
                    )?;
                    attribute["extensibleEnumId"] = serde_json::json!(list_id);
                } else {
                    // 2.3: the option codes, and their labels (`Repositories/Attribute.php`
                    // keeps them as translations; the record shows them as
                    // `translatedOptions`).
                    attribute["options"] =
                        serde_json::json!(options.iter().map(|(v, _, _)| v).collect::<Vec<_>>());
                    attribute["translatedOptions"] = Value::Object(
                        options
                            .iter()
                            .map(|(v, label, _)| (v.clone(), Value::from(label.clone())))
                            .collect(),
                    );
                }
            }
            self.seed("Attribute", [keep("Attribute", attribute)])?;
        }
        Ok(defs.len())
    }

    /// Replaces the injected faults while serving (latency, dropped connections, 503 and 429
    /// answers, lost write answers), the random generator seeded anew from `faults.seed`. The
    /// token limits (`token_max_requests`, `token_ttl`) stay as the simulator started.
    pub fn set_faults(&self, faults: Faults) {
        self.app.faults.set(faults);
    }

    /// The requests received so far, oldest first: the last [`SimConfig::request_log`]
    /// (default 1000) of them, secrets redacted (see [`crate::request_log`]).
    ///
    /// [`SimConfig::request_log`]: crate::SimConfig::request_log
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.app.request_log.snapshot()
    }

    /// Like [`Simulator::requests`], and empties the log: each step of a test can look at its
    /// own requests only.
    pub fn take_requests(&self) -> Vec<LoggedRequest> {
        self.app.request_log.take()
    }
}
