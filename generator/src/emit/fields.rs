//! The `Serialize` and `Deserialize` impls of generated structs: statements and a `match` run by
//! the runtime's `fields` module instead of serde's derives (which took more than half of a
//! generated crate's check time).

use super::ctx::*;

/// The `Serialize` of a struct (every struct: it needs no `Default`): the `statements` that write
/// its fields into a map, run by the runtime (`atrocore_runtime::fields`). serde's derive wrote
/// several times as much, for the same output.
/// `uses_fields`: a statement names the runtime's `fields` module, which is then imported (so
/// each statement stays short: one line, mostly).
pub(super) fn encode_impl(
    s: &Struct,
    statements: &[TokenStream],
    uses_fields: bool,
) -> TokenStream {
    let name = ident(&s.name);
    let map = if statements.is_empty() {
        quote!(_map)
    } else {
        quote!(map)
    };
    let import = uses_fields.then(|| {
        quote!(
            use ::atrocore_runtime::fields;
        )
    });
    quote! {
        ::atrocore_runtime::serialize_fields!(#name);
        impl ::atrocore_runtime::fields::EncodeFields for #name {
            fn encode_fields<M: ::atrocore_runtime::serde::ser::SerializeMap>(
                &self,
                #map: &mut M,
            ) -> ::std::result::Result<(), M::Error> {
                #import
                #(#statements)*
                ::std::result::Result::Ok(())
            }
        }
    }
}

/// Whether a struct gets the runtime-driven `Deserialize` ([`decode_impl`]) instead of serde's
/// derive: every struct but a plain one with a link field (a link's key is taken out of `extra`
/// at the end, and plain structs have no `extra`).
pub(super) fn lean_decode(s: &Struct) -> bool {
    s.style != StructStyle::Plain || !s.fields.iter().any(|f| matches!(f.ty, Type::Link(_)))
}

/// A field as the `Deserialize` of its struct sees it: its tokens, type, and whether it must be
/// present (no default: a required field that is not nullable).
pub(super) struct DecodedField<'a> {
    pub(super) field: &'a Field,
    pub(super) ty: TokenStream,
    pub(super) must: bool,
}

/// The `Deserialize` of a struct: a `match` from wire name to field, driven by the runtime's map
/// visitor (`atrocore_runtime::fields`); unknown keys go to `extra` when the struct has one, and
/// each link field takes its key out of `extra` at the end. A struct with a `Default` is read
/// in place; one with fields that must be present is read into a draft of `Option`s first (a
/// type local to the impl), then checked. A fraction of what serde's derive writes, which was
/// more than half the check time of a generated crate.
pub(super) fn decode_impl(
    s: &Struct,
    fields: &[DecodedField<'_>],
    has_extra: bool,
    all_default: bool,
) -> TokenStream {
    let name = ident(&s.name);
    let expecting = format!("a `{}` object", s.name);
    let target = if all_default {
        quote!(#name)
    } else {
        quote!(Draft)
    };
    let (links, plain): (Vec<&DecodedField<'_>>, Vec<&DecodedField<'_>>) = fields
        .iter()
        .partition(|f| matches!(f.field.ty, Type::Link(_)));
    let arms = plain.iter().map(|f| {
        let (wire, field) = (&f.field.wire, ident(&f.field.ident));
        quote!(#wire => self.#field = map.next_value()?,)
    });
    let finish = (!links.is_empty()).then(|| {
        let takes = links.iter().map(|f| {
            let field = ident(&f.field.ident);
            quote!(self.#field = ::atrocore_runtime::fields::take_link(&mut self.extra);)
        });
        quote! {
            fn finish(&mut self) {
                #(#takes)*
            }
        }
    });
    let body = if plain.is_empty() {
        quote! {
            let _ = (key, map);
            ::std::result::Result::Ok(false)
        }
    } else {
        quote! {
            match key {
                #(#arms)*
                _ => return ::std::result::Result::Ok(false),
            }
            ::std::result::Result::Ok(true)
        }
    };
    let extra = has_extra.then(|| {
        quote! {
            fn extra_fields(&mut self) -> Option<&mut ::atrocore_runtime::fields::Extra> {
                Some(&mut self.extra)
            }
        }
    });
    let fields_impl = quote! {
        impl ::atrocore_runtime::fields::DecodeFields for #target {
            const EXPECTING: &'static str = #expecting;
            fn decode_field<'de, A: ::atrocore_runtime::serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> ::std::result::Result<bool, A::Error> {
                #body
            }
            #extra
            #finish
        }
    };
    let extra_ty = quote!(::atrocore_runtime::fields::Extra);
    if all_default {
        return quote! {
            ::atrocore_runtime::deserialize_fields!(#name);
            #fields_impl
        };
    }
    let draft_fields = fields.iter().map(|f| {
        let (field, t) = (ident(&f.field.ident), &f.ty);
        if f.must {
            quote!(#field: Option<#t>,)
        } else {
            quote!(#field: #t,)
        }
    });
    let inits = fields.iter().map(|f| {
        let (field, wire) = (ident(&f.field.ident), &f.field.wire);
        if f.must {
            quote! {
                #field: draft.#field.ok_or_else(|| {
                    <D::Error as ::atrocore_runtime::serde::de::Error>::missing_field(#wire)
                })?,
            }
        } else {
            quote!(#field: draft.#field,)
        }
    });
    let (draft_extra, init_extra) = if has_extra {
        (quote!(extra: #extra_ty,), quote!(extra: draft.extra,))
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    quote! {
        impl<'de> ::atrocore_runtime::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::atrocore_runtime::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                /// The fields read so far.
                #[derive(Default)]
                struct Draft {
                    #(#draft_fields)*
                    #draft_extra
                }
                #fields_impl
                let draft: Draft = ::atrocore_runtime::fields::decode_fields(deserializer)?;
                ::std::result::Result::Ok(Self {
                    #(#inits)*
                    #init_extra
                })
            }
        }
    }
}
