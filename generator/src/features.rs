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
    let types = &api.types;
    // Entity modules referred to from code that is always compiled.
    let mut always = BTreeSet::new();
    for id in &api.shared_types {
        def_modules(types, *id, &mut always);
    }
    for p in &api.shared_params {
        p.params
            .iter()
            .for_each(|p| modules_of(types, &p.ty, &mut always));
    }
    for g in &api.groups {
        g.types
            .iter()
            .for_each(|id| def_modules(types, *id, &mut always));
        g.operations
            .iter()
            .flat_map(Operation::types)
            .for_each(|t| modules_of(types, t, &mut always));
    }
    always.retain(|m| entity_modules.contains(m));
    // Every module that an always-compiled module refers to is always compiled too.
    let refs: BTreeMap<String, BTreeSet<String>> = api
        .entities
        .iter()
        .map(|e| (e.module.clone(), entity_refs(types, e, &entity_modules)))
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
fn entity_refs(
    types: &TypeSpace,
    e: &Entity,
    entity_modules: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    e.fields
        .iter()
        .for_each(|f| modules_of(types, &f.ty, &mut out));
    for s in e.create.iter().chain(e.patch.iter()) {
        s.fields
            .iter()
            .for_each(|f| modules_of(types, &f.ty, &mut out));
    }
    e.types
        .iter()
        .for_each(|id| def_modules(types, *id, &mut out));
    e.operations
        .iter()
        .flat_map(Operation::types)
        .for_each(|t| modules_of(types, t, &mut out));
    out.retain(|m| m != &e.module && entity_modules.contains(m));
    out
}

/// The modules the fields of a defined struct refer to.
fn def_modules(types: &TypeSpace, id: TypeId, out: &mut BTreeSet<String>) {
    if let Some(TypeDef::Struct(s)) = types.def(id) {
        s.fields.iter().for_each(|f| modules_of(types, &f.ty, out));
    }
}

/// The modules of the named types inside `t`.
fn modules_of(types: &TypeSpace, t: &Type, out: &mut BTreeSet<String>) {
    for id in t.named() {
        out.insert(types.get(id).module.clone());
    }
}
