//! One route, one type: every route the checked-in crates generate a method for is sent to the
//! simulator with minimal valid input (path ids of seeded records, required parameters and
//! body fields), and every success answer must decode as the type the generated method
//! declares (checked against the generator's IR with serde's rules: required fields present,
//! integers integral, strings strings…). A spec that declares `boolean` where AtroCore answers an
//! object fails here unless `generator/src/lower/errata.rs` corrects it.

use std::collections::BTreeMap;
use std::sync::Arc;

use atrocore_codegen::ir::{
    Api, Definition, EntityStruct, Field, Method as IrMethod, ParamLocation, PathSegment, Response,
    StructStyle, Type, TypeDef,
};
use atrocore_codegen::{Settings, generate, spec::Spec};
use atrocore_runtime::{ApiGeneration, Client, Method};
use atrocore_sim::{SimConfig, Simulator};
use serde_json::{Map, Value, json};

/// Fewer answers than these (what the simulator serves of each checked-in crate today) means
/// the probe stopped reaching it: not a pass.
const MIN_DECODED_22: usize = 45;
const MIN_DECODED_23: usize = 14;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn load(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(format!("{ROOT}/{path}")).unwrap()).unwrap()
}

/// The fields of a named struct (an entity's own, or one of the arena).
fn fields_of(api: &Api, id: atrocore_codegen::ir::TypeId) -> Option<(&[Field], StructStyle)> {
    match &api.types.get(id).def {
        Definition::Def(TypeDef::Struct(s)) => Some((&s.fields, s.style)),
        Definition::Entity(which) => {
            let name = &api.types.get(id).name;
            api.entities.iter().find_map(|e| match which {
                EntityStruct::Read if e.type_name == *name => {
                    Some((&e.fields[..], StructStyle::Read))
                }
                EntityStruct::Create => e
                    .create
                    .as_ref()
                    .filter(|s| s.name == *name)
                    .map(|s| (&s.fields[..], s.style)),
                EntityStruct::Patch => e
                    .patch
                    .as_ref()
                    .filter(|s| s.name == *name)
                    .map(|s| (&s.fields[..], s.style)),
                _ => None,
            })
        }
        _ => None,
    }
}

/// Whether `v` decodes as `t` (serde's rules for the generated types); the error names the
/// JSON path.
fn check(api: &Api, t: &Type, v: &Value, at: &str) -> Result<(), String> {
    let fail = |what: &str| Err(format!("{at}: expected {what}, got {v}"));
    match t {
        Type::String | Type::Date | Type::DateTime => {
            if v.is_string() {
                Ok(())
            } else {
                fail("a string")
            }
        }
        Type::Integer => {
            if v.is_i64() || v.is_u64() {
                Ok(())
            } else {
                fail("an integer")
            }
        }
        Type::Number => {
            if v.is_number() {
                Ok(())
            } else {
                fail("a number")
            }
        }
        Type::Boolean => {
            if v.is_boolean() {
                Ok(())
            } else {
                fail("a boolean")
            }
        }
        Type::Array(item) => match v.as_array() {
            Some(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, x)| check(api, item, x, &format!("{at}/{i}"))),
            None => fail("an array"),
        },
        Type::Map(item) => match v.as_object() {
            Some(map) => map
                .iter()
                .try_for_each(|(k, x)| check(api, item, x, &format!("{at}/{k}"))),
            // PHP's empty object; the runtime's `ObjectMap` reads it (a `Json` map does not).
            None if **item != Type::Json && v.as_array().is_some_and(Vec::is_empty) => Ok(()),
            None => fail("an object"),
        },
        Type::Meta => {
            if v.is_object() {
                Ok(())
            } else {
                fail("an object")
            }
        }
        // Runtime types that read PHP's `[]` as empty, or any value.
        Type::Json
        | Type::LinkNames
        | Type::AttributeDefs
        | Type::AttrValue
        | Type::AttributeValue
        | Type::Where
        | Type::Link(_) => Ok(()),
        Type::Named(id) => match &api.types.get(*id).def {
            Definition::Id { .. } => {
                if v.is_string() {
                    Ok(())
                } else {
                    fail("an id string")
                }
            }
            Definition::Def(TypeDef::Enum(_)) => {
                if v.is_string() {
                    Ok(())
                } else {
                    fail("an enum string")
                }
            }
            _ => {
                let Some((fields, style)) = fields_of(api, *id) else {
                    return Ok(());
                };
                let Some(map) = v.as_object() else {
                    return fail(&format!("a `{}` object", api.types.get(*id).name));
                };
                for f in fields {
                    let at = format!("{at}/{}", f.wire);
                    match map.get(&f.wire) {
                        None | Some(Value::Null)
                            if f.required
                                && !f.nullable
                                && matches!(style, StructStyle::Plain | StructStyle::Create) =>
                        {
                            return Err(format!("{at}: required, missing or null"));
                        }
                        None | Some(Value::Null) => {}
                        Some(x) => check(api, &f.ty, x, &at)?,
                    }
                }
                Ok(())
            }
        },
    }
}

/// A minimal value of `t`: required fields only.
fn sample(api: &Api, t: &Type) -> Value {
    match t {
        Type::String => json!("x"),
        Type::Integer => json!(1),
        Type::Number => json!(1.5),
        Type::Boolean => json!(true),
        Type::Date => json!("2024-05-01"),
        Type::DateTime => json!("2024-05-01 10:00:00"),
        Type::Array(_) | Type::Where => json!([]),
        Type::Named(id) => match &api.types.get(*id).def {
            Definition::Id { .. } => json!("x"),
            Definition::Def(TypeDef::Enum(e)) => {
                json!(e.variants.first().map_or("x", |(_, wire)| wire.as_str()))
            }
            _ => match fields_of(api, *id) {
                Some((fields, _)) => Value::Object(
                    fields
                        .iter()
                        .filter(|f| f.required && !f.read_only)
                        .map(|f| (f.wire.clone(), sample(api, &f.ty)))
                        .collect(),
                ),
                None => json!({}),
            },
        },
        _ => json!({}),
    }
}

fn method(m: IrMethod) -> Method {
    match m {
        IrMethod::Get => Method::GET,
        IrMethod::Post => Method::POST,
        IrMethod::Put => Method::PUT,
        IrMethod::Patch => Method::PATCH,
        IrMethod::Delete => Method::DELETE,
    }
}

/// What happened to the routes of one crate.
#[derive(Default, Debug)]
struct Tally {
    decoded: Vec<String>,
    refused: BTreeMap<u16, usize>,
    failures: Vec<String>,
}

async fn probe(spec_path: &str, meta_path: &str, generation: ApiGeneration) -> Tally {
    let spec_value = load(spec_path);
    let meta = load(meta_path);
    let spec = Spec::parse(spec_path, &spec_value.to_string()).unwrap();
    let settings = Settings {
        metadata: Some(meta.clone()),
        ..Settings::default()
    };
    let api = generate(&spec, &settings).unwrap().api;
    let sim = Simulator::start(
        SimConfig::from_spec_value(Arc::new(spec_value)).metadata_value(Arc::new(meta)),
    )
    .await
    .unwrap();
    let client = Client::builder(sim.base_url())
        .generation(generation)
        .basic_auth("admin", "admin")
        .build()
        .unwrap();

    // One record per entity that takes a minimal create body: the `{id}` of its routes.
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for e in &api.entities {
        let Some(create) = e.create.as_ref() else {
            continue;
        };
        let body: Map<String, Value> = create
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| (f.wire.clone(), sample(&api, &f.ty)))
            .collect();
        let created = client
            .request(Method::POST, format!("/{}", e.name))
            .json(&body)
            .send_json::<Value>()
            .await;
        if let Ok(Value::Object(record)) = created
            && let Some(Value::String(id)) = record.get("id")
        {
            ids.insert(e.name.clone(), id.clone());
        }
    }

    let mut tally = Tally::default();
    // The standard routes answer the entity's read struct (`list` holds them); the generated
    // handle decodes them as such.
    for e in &api.entities {
        let read = Type::Named(e.ids.read);
        let list = Type::Array(Box::new(read.clone()));
        let mut calls = vec![(Method::GET, format!("/{}", e.name), None, list, true)];
        if let Some(id) = ids.get(&e.name) {
            let item = format!("/{}/{id}", e.name);
            calls.push((Method::GET, item.clone(), None, read.clone(), false));
            if let Some((m, _)) = &e.standard.update {
                calls.push((
                    method(*m),
                    item.clone(),
                    Some(json!({})),
                    read.clone(),
                    false,
                ));
            }
            if e.standard.delete.is_some() {
                calls.push((Method::DELETE, item, None, Type::Boolean, false));
            }
        }
        for (m, path, body, t, listed) in calls {
            let route = format!("{m} {path}");
            let mut request = client.request(m, path);
            if let Some(b) = body {
                request = request.json(&b);
            }
            match request.send_json::<Value>().await {
                Err(e) => *tally.refused.entry(e.status().unwrap_or(0)).or_default() += 1,
                Ok(v) => {
                    let v = if listed { v["list"].clone() } else { v };
                    match check(&api, &t, &v, "") {
                        Ok(()) => tally.decoded.push(route),
                        Err(e) => tally.failures.push(format!("{route}: {e}")),
                    }
                }
            }
        }
    }
    let routes = api
        .entities
        .iter()
        .map(|e| (Some(e.name.as_str()), &e.operations))
        .chain(api.groups.iter().map(|g| (None, &g.operations)));
    for (entity, operations) in routes {
        for op in operations {
            let route = format!("{} {}", op.method.as_str(), op.path);
            let mut path = String::new();
            for part in &op.path_parts {
                match part {
                    PathSegment::Literal(l) => path.push_str(l),
                    PathSegment::Param { wire, .. } => {
                        let id = entity.and_then(|e| ids.get(e)).filter(|_| wire == "id");
                        path.push_str(id.map_or("x", String::as_str));
                    }
                }
            }
            let mut request = client.request(method(op.method), path);
            for p in op.params.iter().filter(|p| p.required) {
                let value = sample(&api, &p.ty);
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                request = match p.location {
                    ParamLocation::Header => request.header(&p.wire, text),
                    _ => request.query(&p.wire, text),
                };
            }
            if let Some(body) = &op.body {
                request = request.json(&sample(&api, &body.ty));
            }
            match request.send_bytes().await {
                Err(e) => *tally.refused.entry(e.status().unwrap_or(0)).or_default() += 1,
                Ok(bytes) => {
                    let answer = match &op.response {
                        Response::Json(t) => Some(t),
                        // Decoded by the runtime (`WriteOutcome`, `RemovedAttributes`), raw
                        // bytes, or no body described.
                        _ => None,
                    };
                    let Some(t) = answer else {
                        tally.decoded.push(route);
                        continue;
                    };
                    let checked = serde_json::from_slice::<Value>(&bytes)
                        .map_err(|e| format!("not JSON ({e})"))
                        .and_then(|v| check(&api, t, &v, ""));
                    match checked {
                        Ok(()) => tally.decoded.push(route),
                        Err(e) => tally.failures.push(format!("{route}: {e}")),
                    }
                }
            }
        }
    }
    sim.shutdown().await;
    tally
}

#[tokio::test]
async fn every_generated_route_the_simulator_serves_decodes_on_2_2() {
    let t = probe(
        "specs/atrocore-2.2-pim-default.json",
        "specs/atrocore-2.2-pim-default.metadata.json",
        ApiGeneration::V2_2,
    )
    .await;
    eprintln!(
        "2.2: decoded {:?}; refused by status {:?}",
        t.decoded, t.refused
    );
    assert!(
        t.failures.is_empty(),
        "answers that do not decode: {:#?}",
        t.failures
    );
    assert!(
        t.decoded.len() >= MIN_DECODED_22,
        "too few routes answered: {t:?}"
    );
}

#[tokio::test]
async fn every_generated_route_the_simulator_serves_decodes_on_2_3() {
    let t = probe(
        "specs/atrocore-2.3-pim-small.json",
        "specs/atrocore-2.3-pim-small.metadata.json",
        ApiGeneration::V2_3,
    )
    .await;
    eprintln!(
        "2.3: decoded {:?}; refused by status {:?}",
        t.decoded, t.refused
    );
    assert!(
        t.failures.is_empty(),
        "answers that do not decode: {:#?}",
        t.failures
    );
    assert!(
        t.decoded.len() >= MIN_DECODED_23,
        "too few routes answered: {t:?}"
    );
}
