//! One cargo feature per entity module (as async-stripe does), all on by default: a crate
//! that uses five entities compiles five modules. A module's feature turns on the features of
//! the entity modules its types refer to; a typed link list to another entity exists only with
//! that entity's feature. Entity modules that route groups or shared types refer to are always
//! compiled (no feature). Runs on the finished IR, after `share`.

use std::collections::{BTreeMap, BTreeSet};

use crate::ir::*;
use crate::naming;

/// Sets `Entity::feature`, `Entity::feature_deps` and `LinkList::target_feature`.
pub fn assign_features(api: &mut Api) {
    let entity_modules: BTreeSet<String> = api.entities.iter().map(|e| e.module.clone()).collect();
    // Entity modules referred to from code that is always compiled.
    let mut always = BTreeSet::new();
    for t in &api.shared_types {
        def_modules(t, &mut always);
    }
    for p in &api.shared_params {
        p.params.iter().for_each(|p| modules_of(&p.ty, &mut always));
    }
    for g in &api.groups {
        g.types.iter().for_each(|t| def_modules(t, &mut always));
        g.operations
            .iter()
            .for_each(|op| op_modules(op, &mut always));
    }
    always.retain(|m| entity_modules.contains(m));
    // Every module that an always-compiled module refers to is always compiled too.
    let refs: BTreeMap<String, BTreeSet<String>> = api
        .entities
        .iter()
        .map(|e| (e.module.clone(), entity_refs(e, &entity_modules)))
        .collect();
    let mut todo: Vec<String> = always.iter().cloned().collect();
    while let Some(m) = todo.pop() {
        for r in refs.get(&m).into_iter().flatten() {
            if always.insert(r.clone()) {
                todo.push(r.clone());
            }
        }
    }
    let feature = |m: &str| (!always.contains(m)).then(|| naming::feature_name(m));
    for e in &mut api.entities {
        e.feature = feature(&e.module);
        e.feature_deps = refs[&e.module].iter().filter_map(|m| feature(m)).collect();
        for l in &mut e.link_lists {
            l.target_feature = if l.target_module == e.module {
                None
            } else {
                feature(&l.target_module)
            };
        }
    }
}

/// The other entity modules the types of `e` refer to.
fn entity_refs(e: &Entity, entity_modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    e.fields.iter().for_each(|f| modules_of(&f.ty, &mut out));
    for s in e.create.iter().chain(e.patch.iter()) {
        s.fields.iter().for_each(|f| modules_of(&f.ty, &mut out));
    }
    e.types.iter().for_each(|t| def_modules(t, &mut out));
    e.operations.iter().for_each(|op| op_modules(op, &mut out));
    out.retain(|m| m != &e.module && entity_modules.contains(m));
    out
}

fn def_modules(t: &TypeDef, out: &mut BTreeSet<String>) {
    if let TypeDef::Struct(s) = t {
        s.fields.iter().for_each(|f| modules_of(&f.ty, out));
    }
}

fn op_modules(op: &Operation, out: &mut BTreeSet<String>) {
    for part in &op.path_parts {
        if let PathSegment::Param { ty, .. } = part {
            modules_of(ty, out);
        }
    }
    op.params.iter().for_each(|p| modules_of(&p.ty, out));
    if let Some(b) = &op.body {
        modules_of(&b.ty, out);
    }
    if let Response::Json(t) = &op.response {
        modules_of(t, out);
    }
}

fn modules_of(t: &Type, out: &mut BTreeSet<String>) {
    match t {
        Type::Named {
            module: Some(m), ..
        } => {
            out.insert(m.clone());
        }
        Type::Array(inner) | Type::Map(inner) => modules_of(inner, out),
        _ => {}
    }
}
