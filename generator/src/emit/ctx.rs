//! What every emitting module shares: the imports of token building, identifiers, and the
//! [`Ctx`] of the module being written. The modules of `emit` import this (and each other),
//! never `emit` itself.

pub(super) use std::collections::BTreeMap;

pub(super) use proc_macro2::{Ident, Span, TokenStream};
pub(super) use quote::quote;

pub(super) use crate::ir::*;
pub(super) use crate::naming::TYPES_MODULE;
pub(super) use crate::{Error, RuntimeDependency, Settings};

/// An identifier of generated code.
pub(super) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// What emitting into one module needs besides its IR: the type arena, and the module the
/// tokens go into (its own types are named plainly, others by their `crate::` path).
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) types: &'a TypeSpace,
    pub(super) here: &'a str,
}

impl Api {
    pub(super) fn ctx<'a>(&'a self, here: &'a str) -> Ctx<'a> {
        Ctx {
            types: &self.types,
            here,
        }
    }
}

impl Ctx<'_> {
    /// The path of a named type from this module (`nested`: from a module inside it).
    pub(super) fn named(&self, id: TypeId, nested: bool) -> TokenStream {
        let entry = self.types.get(id);
        let name = ident(&entry.name);
        match (entry.module == self.here, nested) {
            (true, false) => quote!(#name),
            (true, true) => quote!(super::#name),
            (false, _) => {
                let m = ident(&entry.module);
                quote!(crate::#m::#name)
            }
        }
    }
}
