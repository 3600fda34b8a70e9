//! Types defined once: what the spec repeats per entity (the `language` header enum, the
//! link bodies, the mass-action bodies, the linked-list parameters) moves to the `types` module
//! and every module refers to it there, so that glob imports of two entity modules do not clash
//! and the crate holds one copy.
//!
//! A type is shared when every module that defines it under its name defines it the same way
//! (docs aside: compared by a structural `Key`, never by serializing the IR), it appears in at least two modules, `types` does not hold another type of that
//! name, and every type it refers to is shared too. Runs on the finished IR, after boxing.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use crate::ir::*;
use crate::naming::TYPES_MODULE;

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

/// A definition without its docs: what two copies must share to be one type. Named types
/// inside are compared by name, plainly when they live in `owner`'s module (so two modules'
/// local copies compare equal) and with their module otherwise.
#[derive(Debug, PartialEq, Eq)]
enum Key {
    Struct {
        style: StructStyle,
        fields: Vec<FieldKey>,
    },
    Enum {
        variants: Vec<(String, String)>,
        default: Option<String>,
    },
    Params(Vec<ParamKey>),
    /// Not in the arena (an entity's own struct).
    Missing,
}

#[derive(Debug, PartialEq, Eq)]
struct FieldKey {
    wire: String,
    ident: String,
    variant: String,
    ty: TypeKey,
    required: bool,
    nullable: bool,
    read_only: bool,
    kind: FieldKind,
    boxed: bool,
    link: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct ParamKey {
    wire: String,
    ident: String,
    location: ParamLocation,
    ty: TypeKey,
    required: bool,
    encoding: ParamEncoding,
}

#[derive(Debug, PartialEq, Eq)]
enum TypeKey {
    Plain(Type),
    Named(String),
    Array(Box<TypeKey>),
    Map(Box<TypeKey>),
    Link {
        keys: String,
        id_wire: String,
        link_wire: String,
        id: Box<TypeKey>,
        many: bool,
    },
}

fn type_key(t: &Type, types: &TypeSpace, owner: &str) -> TypeKey {
    let key = |t: &Type| Box::new(type_key(t, types, owner));
    match t {
        Type::Named(id) => {
            let entry = types.get(*id);
            TypeKey::Named(if entry.module == owner {
                entry.name.clone()
            } else {
                format!("{}::{}", entry.module, entry.name)
            })
        }
        Type::Array(item) => TypeKey::Array(key(item)),
        Type::Map(value) => TypeKey::Map(key(value)),
        Type::Link(l) => TypeKey::Link {
            keys: l.keys.clone(),
            id_wire: l.id_wire.clone(),
            link_wire: l.link_wire.clone(),
            id: key(&l.id),
            many: l.many,
        },
        other => TypeKey::Plain(other.clone()),
    }
}

fn def_key(def: Option<&TypeDef>, types: &TypeSpace, owner: &str) -> Key {
    match def {
        Some(TypeDef::Struct(s)) => Key::Struct {
            style: s.style,
            fields: s
                .fields
                .iter()
                .map(|f| FieldKey {
                    wire: f.wire.clone(),
                    ident: f.ident.clone(),
                    variant: f.variant.clone(),
                    ty: type_key(&f.ty, types, owner),
                    required: f.required,
                    nullable: f.nullable,
                    read_only: f.read_only,
                    kind: f.kind,
                    boxed: f.boxed,
                    link: f.link.clone(),
                })
                .collect(),
        },
        Some(TypeDef::Enum(e)) => Key::Enum {
            variants: e.variants.clone(),
            default: e.default.clone(),
        },
        None => Key::Missing,
    }
}

fn params_key(params: &[Param], types: &TypeSpace) -> Key {
    Key::Params(
        params
            .iter()
            .map(|p| ParamKey {
                wire: p.wire.clone(),
                ident: p.ident.clone(),
                location: p.location,
                ty: type_key(&p.ty, types, ""),
                required: p.required,
                encoding: p.encoding,
            })
            .collect(),
    )
}

/// The types each module defines, by module name (entities, then groups).
fn owners_types(api: &Api) -> Vec<(String, Vec<TypeId>)> {
    let entities = api
        .entities
        .iter()
        .map(|e| (e.module.clone(), e.types.clone()));
    let groups = api
        .groups
        .iter()
        .map(|g| (g.module.clone(), g.types.clone()));
    entities.chain(groups).collect()
}

/// A type name several modules define: its shape, the copies, whether all agree.
struct Copies {
    shape: Key,
    ids: Vec<(String, TypeId)>,
    same: bool,
}

/// Moves the repeated type definitions; answers, by module, the names it moved out of it.
fn share_type_defs(api: &mut Api) -> BTreeMap<String, BTreeSet<String>> {
    let types = &api.types;
    let def_shape = |id: TypeId, owner: &str| def_key(types.def(id), types, owner);
    let taken: BTreeMap<String, (TypeId, Key)> = api
        .shared_types
        .iter()
        .map(|id| {
            (
                types.get(*id).name.clone(),
                (*id, def_shape(*id, TYPES_MODULE)),
            )
        })
        .collect();
    let mut seen: BTreeMap<String, Copies> = BTreeMap::new();
    for (module, ids) in owners_types(api) {
        for id in ids {
            let sh = def_shape(id, &module);
            let entry = match seen.entry(types.get(id).name.clone()) {
                Entry::Occupied(o) => {
                    let entry = o.into_mut();
                    entry.same &= entry.shape == sh;
                    entry
                }
                Entry::Vacant(v) => v.insert(Copies {
                    shape: sh,
                    ids: Vec::new(),
                    same: true,
                }),
            };
            entry.ids.push((module.clone(), id));
        }
    }
    let mut shared: BTreeSet<String> = seen
        .iter()
        .filter(|(name, c)| {
            c.same && c.ids.len() >= 2 && taken.get(*name).is_none_or(|(_, t)| *t == c.shape)
        })
        .map(|(name, _)| name.clone())
        .collect();
    // Drop the ones that refer to a local type that stays local, until nothing changes.
    loop {
        let keep: BTreeSet<String> = shared
            .iter()
            .filter(|name| {
                let (owner, id) = &seen[name.as_str()].ids[0];
                let Some(TypeDef::Struct(s)) = types.def(*id) else {
                    return true;
                };
                s.fields.iter().flat_map(|f| f.ty.named()).all(|r| {
                    let entry = types.get(r);
                    entry.module != *owner || shared.contains(&entry.name)
                })
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
    // Every copy points at one definition in `types`: the one there already, or the first.
    let mut redirect: BTreeMap<TypeId, TypeId> = BTreeMap::new();
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut moved = Vec::new();
    for name in &shared {
        let copies = &seen[name.as_str()];
        let modules: Vec<String> = copies.ids.iter().map(|(m, _)| m.clone()).collect();
        let target = match taken.get(name) {
            Some((id, _)) => *id,
            None => {
                let first = copies.ids[0].1;
                moved.push((first, module_list(&modules)));
                first
            }
        };
        for (module, id) in &copies.ids {
            redirect.insert(*id, target);
            uses.entry(module.clone()).or_default().insert(name.clone());
        }
    }
    for (id, modules) in moved {
        let entry = api.types.get_mut(id);
        entry.module = TYPES_MODULE.to_owned();
        let note = Some(format!("Used by the modules {modules}."));
        match &mut entry.def {
            Definition::Def(TypeDef::Struct(s)) => s.doc = note,
            Definition::Def(TypeDef::Enum(e)) => e.doc = note,
            _ => {}
        }
        api.shared_types.push(id);
    }
    let types_of_modules = api
        .entities
        .iter_mut()
        .map(|e| &mut e.types)
        .chain(api.groups.iter_mut().map(|g| &mut g.types));
    for ids in types_of_modules {
        ids.retain(|id| !redirect.contains_key(id));
    }
    // The copies left behind are dropped from the arena; ids are renumbered.
    let dropped: BTreeSet<TypeId> = redirect
        .iter()
        .filter(|(from, to)| from != to)
        .map(|(from, _)| *from)
        .collect();
    let renumber = api.types.retain(|id, _| !dropped.contains(&id));
    api.remap_types(|id| {
        let id = redirect.get(&id).copied().unwrap_or(id);
        renumber[id.0].expect("a type in use is kept")
    });
    let types = &api.types;
    api.shared_types
        .sort_by(|a, b| types.get(*a).name.cmp(&types.get(*b).name));
    uses
}

fn share_params(api: &mut Api) {
    let taken: BTreeSet<String> = api
        .shared_types
        .iter()
        .map(|id| api.types.get(*id).name.clone())
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
        let sh = params_key(&op.params, &api.types);
        let entry = match seen.entry(name.clone()) {
            Entry::Occupied(o) => {
                let entry = o.into_mut();
                entry.same &= entry.shape == sh;
                entry
            }
            Entry::Vacant(v) => v.insert(Candidate {
                shape: sh,
                routes: Vec::new(),
                same: true,
                params: op.params.clone(),
                op: op.name.clone(),
            }),
        };
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
    shape: Key,
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
