//! Types defined once: what the spec repeats per entity (the `language` header enum, the
//! link bodies, the mass-action bodies, the linked-list parameters) moves to the `types` module
//! and every module refers to it there, so that glob imports of two entity modules do not clash
//! and the crate holds one copy.
//!
//! A type is shared when every module that defines it under its name defines it the same way
//! (docs aside), it appears in at least two modules, `types` does not hold another type of that
//! name, and every type it refers to is shared too. Runs on the finished IR, after boxing.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::ir::*;
use crate::lower::TYPES_MODULE;

/// Moves the repeated types and params structs of `api` to `types`.
pub fn share_repeated(api: &mut Api) {
    let mut uses = share_type_defs(api);
    share_params(api);
    for e in &api.entities {
        let names = uses.entry(e.module.clone()).or_default();
        names.extend(shared_params_of(&e.operations));
    }
    for g in &api.groups {
        let names = uses.entry(g.module.clone()).or_default();
        names.extend(shared_params_of(&g.operations));
    }
    for e in &mut api.entities {
        e.shared_uses = uses
            .remove(&e.module)
            .unwrap_or_default()
            .into_iter()
            .collect();
    }
    for g in &mut api.groups {
        g.shared_uses = uses
            .remove(&g.module)
            .unwrap_or_default()
            .into_iter()
            .collect();
    }
}

fn shared_params_of(ops: &[Operation]) -> impl Iterator<Item = String> + '_ {
    ops.iter()
        .filter(|op| op.params_shared)
        .filter_map(|op| op.params_type.clone())
}

/// Everything about a value but its docs, for comparing definitions.
fn shape<T: serde::Serialize>(value: &T) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("doc");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(value).expect("the IR serializes");
    strip(&mut v);
    v
}

/// The type definitions of each module, by module name (entities, then groups).
fn owners_types(api: &mut Api) -> Vec<(String, &mut Vec<TypeDef>)> {
    let mut out: Vec<(String, &mut Vec<TypeDef>)> = Vec::new();
    for e in &mut api.entities {
        out.push((e.module.clone(), &mut e.types));
    }
    for g in &mut api.groups {
        out.push((g.module.clone(), &mut g.types));
    }
    out
}

/// Moves the repeated type definitions; answers, by module, the names it moved out of it.
fn share_type_defs(api: &mut Api) -> BTreeMap<String, BTreeSet<String>> {
    let taken: BTreeMap<String, Value> = api
        .shared_types
        .iter()
        .map(|t| (t.name().to_owned(), shape(t)))
        .collect();
    // name → (shape, modules defining it, consistent so far)
    let mut seen: BTreeMap<String, (Value, Vec<String>, bool)> = BTreeMap::new();
    for (module, types) in owners_types(api) {
        for t in types.iter() {
            let sh = shape(t);
            let entry = seen
                .entry(t.name().to_owned())
                .or_insert_with(|| (sh.clone(), Vec::new(), true));
            entry.2 &= entry.0 == sh;
            entry.1.push(module.clone());
        }
    }
    let mut shared: BTreeSet<String> = seen
        .iter()
        .filter(|(name, (sh, modules, same))| {
            *same && modules.len() >= 2 && taken.get(*name).is_none_or(|t| t == sh)
        })
        .map(|(name, _)| name.clone())
        .collect();
    // Drop the ones that refer to a local type that stays local, until nothing changes.
    let defs: BTreeMap<String, TypeDef> = owners_types(api)
        .into_iter()
        .flat_map(|(_, types)| types.to_vec())
        .filter(|t| shared.contains(t.name()))
        .map(|t| (t.name().to_owned(), t))
        .collect();
    loop {
        let keep: BTreeSet<String> = shared
            .iter()
            .filter(|name| {
                let mut ok = true;
                if let Some(TypeDef::Struct(s)) = defs.get(name.as_str()) {
                    for f in &s.fields {
                        visit(&f.ty, &mut |n| ok &= shared.contains(n));
                    }
                }
                ok
            })
            .cloned()
            .collect();
        if keep.len() == shared.len() {
            break;
        }
        shared = keep;
    }
    if shared.is_empty() {
        return BTreeMap::new();
    }
    let mut moved: BTreeMap<String, (TypeDef, Vec<String>)> = BTreeMap::new();
    for (module, types) in owners_types(api) {
        types.retain(|t| {
            if !shared.contains(t.name()) {
                return true;
            }
            moved
                .entry(t.name().to_owned())
                .or_insert_with(|| (t.clone(), Vec::new()))
                .1
                .push(module.clone());
            false
        });
    }
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, (_, modules)) in &moved {
        for m in modules {
            uses.entry(m.clone()).or_default().insert(name.clone());
        }
    }
    for (name, (mut def, modules)) in moved {
        if taken.contains_key(&name) {
            continue;
        }
        let note = format!("Used by the modules {}.", module_list(&modules));
        match &mut def {
            TypeDef::Struct(s) => s.doc = Some(note),
            TypeDef::Enum(e) => e.doc = Some(note),
        }
        api.shared_types.push(def);
    }
    api.shared_types.sort_by(|a, b| a.name().cmp(b.name()));
    retarget(api, &shared);
    uses
}

fn share_params(api: &mut Api) {
    let taken: BTreeSet<String> = api
        .shared_types
        .iter()
        .map(|t| t.name().to_owned())
        .collect();
    let mut seen: BTreeMap<String, Candidate> = BTreeMap::new();
    let ops = api
        .entities
        .iter()
        .flat_map(|e| &e.operations)
        .chain(api.groups.iter().flat_map(|g| &g.operations));
    for op in ops {
        let Some(name) = &op.params_type else {
            continue;
        };
        let sh = shape(&op.params);
        let entry = seen.entry(name.clone()).or_insert_with(|| Candidate {
            shape: sh.clone(),
            routes: Vec::new(),
            same: true,
            params: op.params.clone(),
            op: op.name.clone(),
        });
        entry.same &= entry.shape == sh;
        entry.routes.push(op.doc.route.clone());
    }
    let shared: BTreeMap<String, Candidate> = seen
        .into_iter()
        .filter(|(name, c)| c.same && c.routes.len() >= 2 && !taken.contains(name))
        .collect();
    let ops = api
        .entities
        .iter_mut()
        .flat_map(|e| &mut e.operations)
        .chain(api.groups.iter_mut().flat_map(|g| &mut g.operations));
    for op in ops {
        if op
            .params_type
            .as_ref()
            .is_some_and(|n| shared.contains_key(n))
        {
            op.params_shared = true;
        }
    }
    for (
        name,
        Candidate {
            routes, params, op, ..
        },
    ) in shared
    {
        let shown: Vec<String> = routes.iter().take(2).map(|r| format!("`{r}`")).collect();
        let more = if routes.len() > 2 { ", …" } else { "" };
        api.shared_params.push(ParamsDef {
            name,
            doc: format!(
                "Query and header parameters of `{op}`, the same on {} routes ({}{more}).",
                routes.len(),
                shown.join(", ")
            ),
            params,
        });
    }
}

/// A params struct seen on routes: its shape, the routes, whether all agree, the first copy.
struct Candidate {
    shape: Value,
    routes: Vec<String>,
    same: bool,
    params: Vec<Param>,
    op: String,
}

fn module_list(modules: &[String]) -> String {
    let shown: Vec<String> = modules.iter().take(4).map(|m| format!("`{m}`")).collect();
    let more = if modules.len() > 4 {
        format!(" and {} more", modules.len() - 4)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

/// Calls `f` with the name of every module-local named type inside `t`.
fn visit(t: &Type, f: &mut impl FnMut(&str)) {
    match t {
        Type::Named { module: None, name } => f(name),
        Type::Array(inner) | Type::Map(inner) => visit(inner, f),
        _ => {}
    }
}

/// Points every local reference to a shared type at `types`.
fn retarget(api: &mut Api, shared: &BTreeSet<String>) {
    let fix = &mut |t: &mut Type| retarget_type(t, shared);
    for e in &mut api.entities {
        for f in &mut e.fields {
            fix(&mut f.ty);
        }
        for s in e.create.iter_mut().chain(e.patch.iter_mut()) {
            s.fields.iter_mut().for_each(|f| fix(&mut f.ty));
        }
        e.operations.iter_mut().for_each(|op| retarget_op(op, fix));
        e.types.iter_mut().for_each(|t| retarget_def(t, fix));
    }
    for g in &mut api.groups {
        g.operations.iter_mut().for_each(|op| retarget_op(op, fix));
        g.types.iter_mut().for_each(|t| retarget_def(t, fix));
    }
    // Inside `types` the shared types refer to each other by plain name.
}

fn retarget_type(t: &mut Type, shared: &BTreeSet<String>) {
    match t {
        Type::Named { module, name } if module.is_none() && shared.contains(name.as_str()) => {
            *module = Some(TYPES_MODULE.to_owned());
        }
        Type::Array(inner) | Type::Map(inner) => retarget_type(inner, shared),
        _ => {}
    }
}

fn retarget_def(t: &mut TypeDef, fix: &mut impl FnMut(&mut Type)) {
    if let TypeDef::Struct(s) = t {
        s.fields.iter_mut().for_each(|f| fix(&mut f.ty));
    }
}

fn retarget_op(op: &mut Operation, fix: &mut impl FnMut(&mut Type)) {
    for part in &mut op.path_parts {
        if let PathSegment::Param { ty, .. } = part {
            fix(ty);
        }
    }
    op.params.iter_mut().for_each(|p| fix(&mut p.ty));
    if let Some(b) = &mut op.body {
        fix(&mut b.ty);
    }
    if let Response::Json(t) = &mut op.response {
        fix(t);
    }
}
