//! Structs that contain themselves by value (`Node { parent: Node }`, or `A { b: B }` with
//! `B { a: A }`) have no finite size in Rust: the fields that close such a cycle are marked
//! [`Field::boxed`] and emitted as `Box<T>` (serde reads and writes a `Box` like its content).
//! Fields behind a `Vec` or a map are already on the heap and need no box.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::ir::{Api, Definition, Field, Type, TypeDef, TypeId};

/// The struct a field holds by value, if any.
fn by_value(ty: &Type) -> Option<TypeId> {
    match ty {
        Type::Named(id) => Some(*id),
        _ => None,
    }
}

/// Marks every field that closes a by-value cycle of structs as boxed.
pub(crate) fn box_cycles(api: &mut Api) {
    // The graph: struct → structs its fields hold by value.
    let edges: BTreeMap<TypeId, BTreeSet<TypeId>> = api
        .types
        .iter()
        .filter_map(|(id, _)| {
            let fields = api.struct_fields(id)?;
            Some((id, fields.iter().filter_map(|f| by_value(&f.ty)).collect()))
        })
        .collect();
    let reaches = |from: TypeId, to: TypeId| -> bool {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([from]);
        while let Some(k) = queue.pop_front() {
            if k == to {
                return true;
            }
            if seen.insert(k)
                && let Some(next) = edges.get(&k)
            {
                queue.extend(next.iter().copied());
            }
        }
        false
    };
    // A field from `s` to `t` closes a cycle when `t` leads back to `s`.
    let mark = |here: TypeId, fields: &mut [Field]| {
        for f in fields {
            if let Some(target) = by_value(&f.ty)
                && reaches(target, here)
            {
                f.boxed = true;
            }
        }
    };
    for e in &mut api.entities {
        mark(e.ids.read, &mut e.fields);
        if let (Some(s), Some(id)) = (&mut e.create, e.ids.create) {
            mark(id, &mut s.fields);
        }
        if let (Some(s), Some(id)) = (&mut e.patch, e.ids.patch) {
            mark(id, &mut s.fields);
        }
    }
    let ids: Vec<TypeId> = api.types.iter().map(|(id, _)| id).collect();
    for id in ids {
        if let Definition::Def(TypeDef::Struct(s)) = &mut api.types.get_mut(id).def {
            mark(id, &mut s.fields);
        }
    }
}
