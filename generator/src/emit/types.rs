//! Type definitions: Rust types of IR types, structs (read, create with its constructor, patch,
//! plain), enums that keep unknown values.

use super::ctx::*;
use super::doc::*;
use super::fields::*;

/// Rust type tokens for an IR type.
pub(super) fn ty(cx: Ctx, t: &Type) -> TokenStream {
    match t {
        Type::String => quote!(String),
        Type::Integer => quote!(i64),
        Type::Number => quote!(f64),
        Type::Boolean => quote!(bool),
        Type::Json => quote!(::atrocore_runtime::serde_json::Value),
        Type::Map(v) if **v == Type::Json => {
            quote!(::atrocore_runtime::serde_json::Map<String, ::atrocore_runtime::serde_json::Value>)
        }
        // PHP sends an empty object as `[]`: the runtime's map reads both.
        Type::Map(v) => {
            let v = ty(cx, v);
            quote!(::atrocore_runtime::ObjectMap<#v>)
        }
        Type::Array(item) => {
            let item = ty(cx, item);
            quote!(Vec<#item>)
        }
        Type::Meta => quote!(::atrocore_runtime::Meta),
        Type::AttributeDefs => quote!(::atrocore_runtime::AttributeDefs),
        Type::AttrValue => quote!(::atrocore_runtime::AttrValue),
        Type::AttributeValue => quote!(::atrocore_runtime::AttributeValue),
        Type::LinkNames => quote!(::atrocore_runtime::LinkNames),
        Type::Date => quote!(::atrocore_runtime::Date),
        Type::DateTime => quote!(::atrocore_runtime::DateTime),
        Type::Where => quote!(::atrocore_runtime::Where),
        Type::Named(id) => cx.named(*id, false),
        Type::Link(l) => {
            let (id, keys) = (ty(cx, &l.id), ident(&l.keys));
            let links = ident(crate::naming::LINKS_MODULE);
            if l.many {
                quote!(::atrocore_runtime::LinkMany<#id, #links::#keys>)
            } else {
                quote!(::atrocore_runtime::LinkOne<#id, #links::#keys>)
            }
        }
    }
}

/// The name serde's `rename_all = "camelCase"` gives a field (serde_derive's own rule: drop
/// each `_` and upper-case the next character).
pub(super) fn serde_camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut capitalize = false;
    for ch in field.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize && !out.is_empty() {
            out.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(ch);
            capitalize = false;
        }
    }
    out
}

/// Borrowed argument type for a request body.
pub(super) fn arg_ty(cx: Ctx, t: &Type) -> TokenStream {
    match t {
        Type::String => quote!(&str),
        Type::Array(item) => {
            let item = ty(cx, item);
            quote!(&[#item])
        }
        other => {
            let t = ty(cx, other);
            quote!(&#t)
        }
    }
}

pub(super) fn serde_crate() -> TokenStream {
    quote!(#[serde(crate = "::atrocore_runtime::serde")])
}

/// The derives of a struct; `deserialize`: serde's derive reads it (otherwise it has its own,
/// lean impl: [`decode_impl`](super::fields::decode_impl)).
pub(super) fn derives(default: bool, deserialize: bool) -> TokenStream {
    let default = default.then(|| quote!(Default,));
    let deserialize = deserialize.then(|| quote!(, ::atrocore_runtime::serde::Deserialize));
    quote! {
        #[derive(Debug, Clone, #default PartialEq #deserialize)]
    }
}

/// A field's doc: its wire name and notes, then what the spec or the metadata says of it, on
/// the same line when that is one line (most fields: "`name`, required: AtroCore type
/// `varchar`.").
pub(super) fn field_doc(f: &Field) -> TokenStream {
    let mut notes = vec![format!("`{}`", f.wire)];
    if f.required {
        notes.push("required".into());
    }
    if f.read_only {
        notes.push("read-only".into());
    }
    if f.nullable {
        notes.push("nullable".into());
    }
    let summary = notes.join(", ");
    match f.doc.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) if !d.contains('\n') => docs(&[Some(&format!("{summary}: {d}"))]),
        other => docs(&[Some(&summary), other]),
    }
}

/// A struct in the given style; `all_default`: it has a `Default` (the arena's answer).
pub(super) fn struct_def(cx: Ctx, s: &Struct, all_default: bool) -> TokenStream {
    let name = ident(&s.name);
    let doc = docs(&[s.doc.as_deref()]);
    let serde_crate = serde_crate();
    // With a `Default`, the struct takes `#[serde(default)]` as a whole and no field needs its
    // own; with the lean `Deserialize`, neither (they are read by serde's derive only).
    let lean = lean_decode(s);
    let mut fields = TokenStream::new();
    let mut encode: Vec<TokenStream> = Vec::new();
    // Whether a statement names the runtime's `fields` module (`encode_impl` imports it then).
    let mut uses_fields = false;
    let mut decoded: Vec<DecodedField<'_>> = Vec::new();
    for f in &s.fields {
        let fname = ident(&f.ident);
        let wire = &f.wire;
        // `rename_all = "camelCase"` on the struct covers most fields (`name_de_de` ↔ `nameDeDe`).
        let mut attrs: Vec<TokenStream> = Vec::new();
        let link = matches!(f.ty, Type::Link(_));
        if link {
            // One field for two keys (`brandId` or `brand`): written in place.
            attrs.push(quote!(flatten));
        } else if serde_camel_case(&f.ident) != f.wire {
            attrs.push(quote!(rename = #wire));
        }
        let own_default = !all_default;
        let t = ty(cx, &f.ty);
        let t = if f.boxed {
            quote!(::std::boxed::Box<#t>)
        } else {
            t
        };
        let fdoc = field_doc(f);
        let (field_ty, skip, default) = match s.style {
            StructStyle::Read => (quote!(Option<#t>), Some("Option::is_none"), true),
            // A link of an update is left out, set, or cleared by its own `clear()`.
            StructStyle::Patch if link => (quote!(Option<#t>), Some("Option::is_none"), true),
            // A field the instance requires can be set, never cleared: no `Null`.
            StructStyle::Patch if f.required => (quote!(Option<#t>), Some("Option::is_none"), true),
            StructStyle::Patch => (
                quote!(::atrocore_runtime::Patch<#t>),
                Some("::atrocore_runtime::Patch::is_unchanged"),
                true,
            ),
            StructStyle::Create | StructStyle::Plain if f.required && !f.nullable => {
                (quote!(#t), None, false)
            }
            StructStyle::Create | StructStyle::Plain if f.required => {
                (quote!(Option<#t>), None, true)
            }
            StructStyle::Create | StructStyle::Plain => {
                (quote!(Option<#t>), Some("Option::is_none"), true)
            }
        };
        if default && own_default && !lean {
            attrs.push(quote!(default));
        }
        if let Some(skip) = skip {
            attrs.push(quote!(skip_serializing_if = #skip));
        }
        decoded.push(DecodedField {
            field: f,
            ty: field_ty.clone(),
            must: !default,
        });
        // What `Serialize` writes: the field's key, unless skipped; a link its own key.
        // (`fields` is the runtime's module, imported by `encode_impl`.)
        let fields_mod = quote!(fields);
        uses_fields |= skip.is_some();
        encode.push(match (link, skip) {
            (true, Some(_)) => quote!(#fields_mod::entry_link(map, &self.#fname)?;),
            (true, None) => quote!(self.#fname.write_entry(map)?;),
            (false, Some("Option::is_none")) => {
                quote!(#fields_mod::entry_opt(map, #wire, &self.#fname)?;)
            }
            (false, Some(_)) => quote!(#fields_mod::entry_patch(map, #wire, &self.#fname)?;),
            (false, None) => quote!(map.serialize_entry(#wire, &self.#fname)?;),
        });
        // Attributes only for serde's `Deserialize` derive, when the struct has it.
        let attr = (!attrs.is_empty() && !lean).then(|| quote!(#[serde(#(#attrs),*)]));
        fields.extend(quote! {
            #fdoc
            #attr
            pub #fname: #field_ty,
        });
    }
    let has_extra = s.style != StructStyle::Plain;
    let extra = if has_extra {
        let flatten = (!lean).then(|| quote!(#[serde(flatten)]));
        uses_fields = true;
        encode.push(quote!(fields::encode_extra(&self.extra, map)?;));
        quote! {
            /// Fields the spec does not describe (custom fields of the instance, attribute
            /// fields with `Flatten-Attributes`), kept as received and sent as given.
            #flatten
            pub extra: ::atrocore_runtime::serde_json::Map<String, ::atrocore_runtime::serde_json::Value>,
        }
    } else {
        TokenStream::new()
    };
    // serde's container attributes, for its `Deserialize` derive only.
    let serde_attrs = (!lean).then(|| {
        let struct_default = all_default.then(|| quote!(#[serde(default)]));
        let rename_all = (!s.fields.is_empty()).then(|| quote!(#[serde(rename_all = "camelCase")]));
        quote!(#serde_crate #struct_default #rename_all)
    });
    let derive = derives(all_default, !lean);
    let decode = lean.then(|| decode_impl(s, &decoded, has_extra, all_default));
    let encode = encode_impl(s, &encode, uses_fields);
    // Without a `Default`, a constructor from the required fields (struct update syntax needs a
    // base value).
    let constructor = (matches!(s.style, StructStyle::Create | StructStyle::Plain) && !all_default)
        .then(|| constructor(cx, s));
    quote! {
        #doc
        #derive
        #serde_attrs
        pub struct #name {
            #fields
            #extra
        }
        #encode
        #decode
        #constructor
    }
}

/// `ProductPost::new(name, number)`: a create (or plain) struct from the fields the server
/// requires, the others unset (set them with struct update syntax).
pub(super) fn constructor(cx: Ctx, s: &Struct) -> TokenStream {
    let name = ident(&s.name);
    let mut args = Vec::new();
    let mut inits = Vec::new();
    let mut arg_names = Vec::new();
    for f in &s.fields {
        let fname = ident(&f.ident);
        if f.required && !f.nullable {
            let t = ty(cx, &f.ty);
            // Text and ids take anything that converts (`&str`, `String`, a typed id); a link
            // its id (the find-or-create form is set with struct update syntax).
            let converts = match &f.ty {
                Type::String | Type::Link(_) => true,
                Type::Named(id) => matches!(cx.types.get(*id).def, Definition::Id { .. }),
                _ => false,
            };
            let (arg, value) = if let Type::Link(l) = &f.ty {
                let id = ty(cx, &l.id);
                if l.many {
                    (
                        quote!(#fname: impl ::std::iter::IntoIterator<Item = impl ::std::convert::Into<#id>>),
                        quote!(::atrocore_runtime::LinkMany::ids(#fname)),
                    )
                } else {
                    (
                        quote!(#fname: impl ::std::convert::Into<#id>),
                        quote!(::atrocore_runtime::LinkOne::id(#fname)),
                    )
                }
            } else if converts {
                (
                    quote!(#fname: impl ::std::convert::Into<#t>),
                    quote!(#fname.into()),
                )
            } else {
                (quote!(#fname: #t), quote!(#fname))
            };
            args.push(arg);
            inits.push(match (f.boxed, converts) {
                (true, _) => quote!(#fname: ::std::boxed::Box::new(#value)),
                (false, true) => quote!(#fname: #value),
                // The argument is the value: field init shorthand.
                (false, false) => quote!(#fname),
            });
            arg_names.push(format!("`{}`", f.wire));
        } else {
            inits.push(quote!(#fname: None));
        }
    }
    let doc = doc_lines(&format!(
        "A new record with the fields the server requires ({}); the others are unset. Set \
         them with struct update syntax: `{} {{ field: Some(value), ..{}::new(…) }}`.",
        arg_names.join(", "),
        s.name,
        s.name
    ));
    let allow = (args.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let extra = (s.style != StructStyle::Plain)
        .then(|| quote!(extra: ::atrocore_runtime::serde_json::Map::new(),));
    quote! {
        impl #name {
            #doc
            #allow
            pub fn new(#(#args),*) -> Self {
                Self {
                    #(#inits,)*
                    #extra
                }
            }
        }
    }
}

pub(super) fn enum_def(e: &Enum) -> TokenStream {
    let name = ident(&e.name);
    let default_impl = e.default.as_ref().map(|v| {
        let v = ident(v);
        quote! {
            /// The field's default value on the instance.
            impl Default for #name {
                fn default() -> Self {
                    Self::#v
                }
            }
        }
    });
    let doc = docs(&[e.doc.as_deref()]);
    let variants = e.variants.iter().map(|(v, wire)| {
        let v = ident(v);
        let d = doc_lines(&format!("`{wire}`"));
        quote!(#d #v,)
    });
    let to_str = e.variants.iter().map(|(v, wire)| {
        let v = ident(v);
        quote!(Self::#v => #wire,)
    });
    let from_str = e.variants.iter().map(|(v, wire)| {
        let v = ident(v);
        quote!(#wire => Self::#v,)
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #name {
            #(#variants)*
            /// A value this client does not know (the server may add values).
            Other(String),
        }
        impl #name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_str)*
                    Self::Other(value) => value,
                }
            }
        }
        #default_impl
        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #(#from_str)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }
        ::atrocore_runtime::wire_enum!(#name);
    }
}

/// The definitions of a module's named types, in order.
pub(super) fn type_defs(cx: Ctx, ids: &[TypeId]) -> TokenStream {
    ids.iter()
        .filter_map(|id| {
            Some(match cx.types.def(*id)? {
                TypeDef::Struct(s) => struct_def(cx, s, cx.types.get(*id).has_default),
                TypeDef::Enum(e) => enum_def(e),
            })
        })
        .collect()
}

/// The `ids` module: per entity an uninhabited marker and the id type over it
/// (`pub type ProductId = Id<Product>;`). Always compiled, whatever entity features are on, so
/// a field can name the id of an entity whose module is left out.
pub(super) fn ids_module(api: &Api) -> TokenStream {
    let inner = module_inner_doc(
        "Typed record ids: one type per entity (`ProductId`), so that the id of one entity's \
         record cannot be passed where another's is expected. On the wire they are the plain \
         strings AtroCore sends; convert with `ProductId::from(\"…\")`, `id.as_str()`, or use \
         `&id` as a `&str`.",
        None,
    );
    let items = api.id_types.iter().filter_map(|id| {
        let entry = api.types.get(*id);
        let Definition::Id { entity, marker } = &entry.def else {
            return None;
        };
        let (marker, alias) = (ident(marker), ident(&entry.name));
        let marker_doc = doc_lines(&format!(
            "Marks the ids of `{entity}` records: the `E` of [`{}`].",
            entry.name
        ));
        let alias_doc = doc_lines(&format!("The id of one `{entity}` record."));
        Some(quote! {
            #marker_doc
            #[derive(Debug)]
            pub enum #marker {}
            #alias_doc
            pub type #alias = ::atrocore_runtime::Id<#marker>;
        })
    });
    quote!(#inner #(#items)*)
}
