//! Structs that contain themselves by value (`Node { parent: Node }`, or `A { b: B }` with
//! `B { a: A }`) have no finite size in Rust: the fields that close such a cycle are marked
//! [`Field::boxed`] and emitted as `Box<T>` (serde reads and writes a `Box` like its content).
//! Fields behind a `Vec` or a map are already on the heap and need no box.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::ir::{Api, Field, Struct, Type, TypeDef};
use crate::lower::TYPES_MODULE;

/// A struct, named by its module and type name.
type Key = (String, String);

/// The structs of a module: the entity's own (read, create, patch) and its named types.
fn module_structs<'a>(
    module: &'a str,
    own: impl IntoIterator<Item = (&'a str, &'a [Field])>,
    types: &'a [TypeDef],
) -> Vec<(Key, &'a [Field])> {
    own.into_iter()
        .chain(types.iter().filter_map(|t| match t {
            TypeDef::Struct(s) => Some((s.name.as_str(), s.fields.as_slice())),
            TypeDef::Enum(_) => None,
        }))
        .map(|(name, fields)| ((module.to_owned(), name.to_owned()), fields))
        .collect()
}

/// The struct a field holds by value, if any.
fn by_value(module: &str, ty: &Type) -> Option<Key> {
    match ty {
        Type::Named { module: m, name } => {
            Some((m.clone().unwrap_or_else(|| module.to_owned()), name.clone()))
        }
        _ => None,
    }
}

/// Marks every field that closes a by-value cycle of structs as boxed.
pub(crate) fn box_cycles(api: &mut Api) {
    // The graph: struct → structs its fields hold by value.
    let mut edges: BTreeMap<Key, BTreeSet<Key>> = BTreeMap::new();
    {
        let mut structs = Vec::new();
        for e in &api.entities {
            let own = [(e.type_name.as_str(), e.fields.as_slice())]
                .into_iter()
                .chain(
                    e.create
                        .iter()
                        .map(|s| (s.name.as_str(), s.fields.as_slice())),
                )
                .chain(
                    e.patch
                        .iter()
                        .map(|s| (s.name.as_str(), s.fields.as_slice())),
                );
            structs.extend(module_structs(&e.module, own, &e.types));
        }
        for g in &api.groups {
            structs.extend(module_structs(&g.module, [], &g.types));
        }
        structs.extend(module_structs(TYPES_MODULE, [], &api.shared_types));
        for ((module, name), fields) in structs {
            let targets = fields
                .iter()
                .filter_map(|f| by_value(&module, &f.ty))
                .collect();
            edges.insert((module, name), targets);
        }
    }
    let reaches = |from: &Key, to: &Key| -> bool {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([from.clone()]);
        while let Some(k) = queue.pop_front() {
            if &k == to {
                return true;
            }
            if seen.insert(k.clone())
                && let Some(next) = edges.get(&k)
            {
                queue.extend(next.iter().cloned());
            }
        }
        false
    };
    // A field from `s` to `t` closes a cycle when `t` leads back to `s`.
    let mark = |module: &str, name: &str, fields: &mut [Field]| {
        let here = (module.to_owned(), name.to_owned());
        for f in fields {
            if let Some(target) = by_value(module, &f.ty)
                && reaches(&target, &here)
            {
                f.boxed = true;
            }
        }
    };
    let mark_struct = |module: &str, s: &mut Struct| {
        let name = s.name.clone();
        mark(module, &name, &mut s.fields);
    };
    let mark_types = |module: &str, types: &mut [TypeDef]| {
        for t in types {
            if let TypeDef::Struct(s) = t {
                mark_struct(module, s);
            }
        }
    };
    for e in &mut api.entities {
        let module = e.module.clone();
        let name = e.type_name.clone();
        mark(&module, &name, &mut e.fields);
        if let Some(s) = &mut e.create {
            mark_struct(&module, s);
        }
        if let Some(s) = &mut e.patch {
            mark_struct(&module, s);
        }
        mark_types(&module, &mut e.types);
    }
    for g in &mut api.groups {
        let module = g.module.clone();
        mark_types(&module, &mut g.types);
    }
    mark_types(TYPES_MODULE, &mut api.shared_types);
}
