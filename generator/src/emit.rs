//! Stage 3: IR → Rust tokens → formatted files. Never sees the spec.
//!
//! Emitted code refers to everything outside its own crate by absolute path
//! (`::atrocore_runtime::…`, `::std::…`) and depends only on the runtime crate. The only
//! unqualified names are prelude items (`Option`, `String`, `Vec`, the derivable traits):
//! `naming` forbids generated types to take those names, so nothing can shadow them.

use std::collections::BTreeMap;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::*;
use crate::lower::TYPES_MODULE;
use crate::{Error, RuntimeDependency, Settings};

/// The files of a generated crate, by path relative to the crate root.
pub type Files = BTreeMap<String, String>;

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// One `#[doc]` attribute per line, so prettyplease prints `///` lines.
fn doc_lines(text: &str) -> TokenStream {
    let mut out = TokenStream::new();
    for line in text.trim().lines() {
        let line = format!(" {}", line.trim_end());
        out.extend(quote!(#[doc = #line]));
    }
    out
}

fn docs(parts: &[Option<&str>]) -> TokenStream {
    let text: Vec<&str> = parts
        .iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    doc_lines(&text.join("\n\n"))
}

/// Rust type tokens for an IR type.
fn ty(t: &Type) -> TokenStream {
    match t {
        Type::String => quote!(String),
        Type::Integer => quote!(i64),
        Type::Number => quote!(f64),
        Type::Boolean => quote!(bool),
        Type::Json => quote!(::atrocore_runtime::serde_json::Value),
        Type::Map(v) if **v == Type::Json => {
            quote!(::atrocore_runtime::serde_json::Map<String, ::atrocore_runtime::serde_json::Value>)
        }
        Type::Map(v) => {
            let v = ty(v);
            quote!(::std::collections::BTreeMap<String, #v>)
        }
        Type::Array(item) => {
            let item = ty(item);
            quote!(Vec<#item>)
        }
        Type::Meta => quote!(::atrocore_runtime::Meta),
        Type::LinkTo => quote!(::atrocore_runtime::LinkTo),
        Type::LinkNames => quote!(::atrocore_runtime::LinkNames),
        Type::Date => quote!(::atrocore_runtime::Date),
        Type::DateTime => quote!(::atrocore_runtime::DateTime),
        Type::Where => quote!(::atrocore_runtime::Where),
        Type::Named { module: None, name } => {
            let name = ident(name);
            quote!(#name)
        }
        Type::Named {
            module: Some(m),
            name,
        } => {
            let (m, name) = (ident(m), ident(name));
            quote!(crate::#m::#name)
        }
    }
}

/// The name serde's `rename_all = "camelCase"` gives a field (serde_derive's own rule: drop
/// each `_` and upper-case the next character).
fn serde_camel_case(field: &str) -> String {
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
fn arg_ty(t: &Type) -> TokenStream {
    match t {
        Type::String => quote!(&str),
        Type::Array(item) => {
            let item = ty(item);
            quote!(&[#item])
        }
        other => {
            let t = ty(other);
            quote!(&#t)
        }
    }
}

/// `Where`, dates and enums without a metadata default have no `Default` (`enums` tells which
/// named types are such enums).
fn has_default(t: &Type, enums: &dyn Fn(&Type) -> bool) -> bool {
    match t {
        Type::Where | Type::Date | Type::DateTime | Type::LinkTo => false,
        Type::Named { .. } => !enums(t),
        _ => true,
    }
}

fn serde_crate() -> TokenStream {
    quote!(#[serde(crate = "::atrocore_runtime::serde")])
}

fn derives(default: bool, eq: bool) -> TokenStream {
    let default = default.then(|| quote!(Default,));
    let eq = eq.then(|| quote!(PartialEq,));
    quote! {
        #[derive(
            Debug, Clone, #default #eq
            ::atrocore_runtime::serde::Serialize, ::atrocore_runtime::serde::Deserialize
        )]
    }
}

fn field_doc(f: &Field) -> TokenStream {
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
    docs(&[Some(&summary), f.doc.as_deref()])
}

/// A struct in the given style.
fn struct_def(s: &Struct, enums: &dyn Fn(&Type) -> bool) -> TokenStream {
    let name = ident(&s.name);
    let doc = docs(&[s.doc.as_deref()]);
    let serde_crate = serde_crate();
    // Can the struct take `#[serde(default)]` as a whole? Then no field needs its own. A create
    // struct never has a `Default` that would fill a required field (`""` for a required name
    // is a 400 from the server): it has a constructor taking the required fields instead.
    let all_default = s.fields.iter().all(|f| match s.style {
        StructStyle::Read | StructStyle::Patch => true,
        StructStyle::Create => !f.required || f.nullable,
        StructStyle::Plain => !f.required || f.nullable || has_default(&f.ty, enums),
    });
    let mut fields = TokenStream::new();
    for f in &s.fields {
        let fname = ident(&f.ident);
        let wire = &f.wire;
        // `rename_all = "camelCase"` on the struct covers most fields (`name_de_de` ↔ `nameDeDe`).
        let mut attrs: Vec<TokenStream> = Vec::new();
        if serde_camel_case(&f.ident) != f.wire {
            attrs.push(quote!(rename = #wire));
        }
        let own_default = !all_default;
        let t = ty(&f.ty);
        let t = if f.boxed {
            quote!(::std::boxed::Box<#t>)
        } else {
            t
        };
        let fdoc = field_doc(f);
        let (field_ty, skip, default) = match s.style {
            StructStyle::Read => (quote!(Option<#t>), Some("Option::is_none"), true),
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
        if default && own_default {
            attrs.push(quote!(default));
        }
        if let Some(skip) = skip {
            attrs.push(quote!(skip_serializing_if = #skip));
        }
        let attr = (!attrs.is_empty()).then(|| quote!(#[serde(#(#attrs),*)]));
        fields.extend(quote! {
            #fdoc
            #attr
            pub #fname: #field_ty,
        });
    }
    let extra = match s.style {
        StructStyle::Plain => TokenStream::new(),
        _ => quote! {
            /// Fields the spec does not describe (custom fields of the instance, attribute
            /// fields with `Flatten-Attributes`), kept as received and sent as given.
            #[serde(flatten)]
            pub extra: ::atrocore_runtime::serde_json::Map<String, ::atrocore_runtime::serde_json::Value>,
        },
    };
    let struct_default = all_default.then(|| quote!(#[serde(default)]));
    let rename_all = (!s.fields.is_empty()).then(|| quote!(#[serde(rename_all = "camelCase")]));
    let derive = derives(all_default, true);
    let constructor = (s.style == StructStyle::Create && !all_default).then(|| constructor(s));
    quote! {
        #doc
        #derive
        #serde_crate
        #struct_default
        #rename_all
        pub struct #name {
            #fields
            #extra
        }
        #constructor
    }
}

/// `ProductPost::new(name, number)`: a create struct from the fields the server requires, the
/// others unset (set them with struct update syntax).
fn constructor(s: &Struct) -> TokenStream {
    let name = ident(&s.name);
    let mut args = Vec::new();
    let mut inits = Vec::new();
    let mut arg_names = Vec::new();
    for f in &s.fields {
        let fname = ident(&f.ident);
        if f.required && !f.nullable {
            let t = ty(&f.ty);
            let (arg, value) = match &f.ty {
                Type::String => (
                    quote!(#fname: impl ::std::convert::Into<String>),
                    quote!(#fname.into()),
                ),
                _ => (quote!(#fname: #t), quote!(#fname)),
            };
            args.push(arg);
            inits.push(match (f.boxed, &f.ty) {
                (true, _) => quote!(#fname: ::std::boxed::Box::new(#value)),
                (false, Type::String) => quote!(#fname: #value),
                // The argument is the value: field init shorthand.
                (false, _) => quote!(#fname),
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
    quote! {
        impl #name {
            #doc
            #allow
            pub fn new(#(#args),*) -> Self {
                Self {
                    #(#inits,)*
                    extra: ::atrocore_runtime::serde_json::Map::new(),
                }
            }
        }
    }
}

fn enum_def(e: &Enum) -> TokenStream {
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
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::atrocore_runtime::EnumValue for #name {
            fn wire_value(&self) -> &str {
                self.as_str()
            }
        }
        impl ::atrocore_runtime::serde::Serialize for #name {
            fn serialize<S: ::atrocore_runtime::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::atrocore_runtime::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::atrocore_runtime::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <String as ::atrocore_runtime::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value.as_str()))
            }
        }
    }
}

fn type_defs(types: &[TypeDef], all_enums: &dyn Fn(&Type) -> bool) -> TokenStream {
    types
        .iter()
        .map(|t| match t {
            TypeDef::Struct(s) => struct_def(s, all_enums),
            TypeDef::Enum(e) => enum_def(e),
        })
        .collect()
}

fn method_tokens(m: Method) -> TokenStream {
    match m {
        Method::Get => quote!(::atrocore_runtime::Method::GET),
        Method::Post => quote!(::atrocore_runtime::Method::POST),
        Method::Put => quote!(::atrocore_runtime::Method::PUT),
        Method::Patch => quote!(::atrocore_runtime::Method::PATCH),
        Method::Delete => quote!(::atrocore_runtime::Method::DELETE),
    }
}

fn op_doc_tokens(doc: &OpDoc) -> TokenStream {
    let route = format!("`{}`", doc.route);
    docs(&[doc.text.as_deref(), Some(&route)])
}

/// A typed method for one route, and its params struct if any.
fn operation(op: &Operation, enums: &dyn Fn(&Type) -> bool) -> (TokenStream, TokenStream) {
    let name = ident(&op.name);
    let doc = op_doc_tokens(&op.doc);
    let method = method_tokens(op.method);
    let deprecated = op.deprecated.then(|| quote!(#[deprecated]));

    // Path: a format string with one `{}` per parameter.
    let mut fmt = String::new();
    let mut fmt_args = Vec::new();
    let mut args = Vec::new();
    for part in &op.path_parts {
        match part {
            PathSegment::Literal(l) => fmt.push_str(&l.replace('{', "{{").replace('}', "}}")),
            PathSegment::Param {
                ident: i, ty: t, ..
            } => {
                fmt.push_str("{}");
                let i = ident(i);
                if *t == Type::Integer {
                    args.push(quote!(#i: i64));
                    fmt_args.push(quote!(#i));
                } else {
                    args.push(quote!(#i: &str));
                    fmt_args.push(quote!(::atrocore_runtime::encode_path_segment(#i)));
                }
            }
        }
    }
    let path = if fmt_args.is_empty() {
        quote!(#fmt)
    } else {
        quote!(::std::format!(#fmt, #(#fmt_args),*))
    };

    let mut params_def = TokenStream::new();
    let mut setters = Vec::new();
    if let Some(pt) = &op.params_type {
        let pt_ident = ident(pt);
        if op.params_shared {
            let types = ident(TYPES_MODULE);
            args.push(quote!(params: &crate::#types::#pt_ident));
        } else {
            args.push(quote!(params: &#pt_ident));
            let doc = format!(
                "Query and header parameters of `{}` (`{}`).",
                op.name, op.doc.route
            );
            params_def = params_struct(pt, &doc, &op.params, enums);
        }
        for p in &op.params {
            let f = ident(&p.ident);
            let wire = &p.wire;
            // Copy scalars are passed by value (clippy: needless borrow), others by reference.
            let value = if matches!(p.ty, Type::Integer | Type::Number | Type::Boolean) {
                quote!(params.#f)
            } else {
                quote!(&params.#f)
            };
            let setter = match (p.location, p.encoding, p.required) {
                (ParamLocation::Query, ParamEncoding::Where, true) => {
                    quote!(request = request.filter(#wire, &params.#f);)
                }
                (ParamLocation::Query, ParamEncoding::Where, false) => {
                    quote!(if let Some(value) = &params.#f { request = request.filter(#wire, value); })
                }
                (ParamLocation::Query, ParamEncoding::Json, required) => {
                    let call = if p.ty == Type::Json {
                        quote!(query_json)
                    } else {
                        quote!(query_serialized)
                    };
                    if required {
                        quote!(request = request.#call(#wire, &params.#f);)
                    } else {
                        quote!(if let Some(value) = &params.#f { request = request.#call(#wire, value); })
                    }
                }
                (ParamLocation::Query, ParamEncoding::Plain, true) => {
                    quote!(request = request.query(#wire, #value);)
                }
                (ParamLocation::Query, ParamEncoding::Plain, false) => {
                    quote!(request = request.query_opt(#wire, params.#f.as_ref());)
                }
                (ParamLocation::Header, _, true) => {
                    if matches!(p.ty, Type::Json | Type::Array(_) | Type::Map(_)) {
                        quote!(request = request.header_json(#wire, &params.#f);)
                    } else {
                        quote!(request = request.header(#wire, #value);)
                    }
                }
                (ParamLocation::Header, _, false) => {
                    if matches!(p.ty, Type::Json | Type::Array(_) | Type::Map(_)) {
                        quote!(if let Some(value) = &params.#f { request = request.header_json(#wire, value); })
                    } else {
                        quote!(request = request.header_opt(#wire, params.#f.as_ref());)
                    }
                }
            };
            setters.push(setter);
        }
    }
    let mut body_call = TokenStream::new();
    if let Some(body) = &op.body {
        let t = arg_ty(&body.ty);
        args.push(quote!(body: #t));
        body_call = quote!(let request = request.json(body););
    }
    let (ret, make) = match &op.response {
        Response::Json(t) => {
            let t = ty(t);
            (quote!(#t), quote!(json))
        }
        Response::Empty => (quote!(()), quote!(empty)),
        Response::WriteOutcome => (quote!(::atrocore_runtime::WriteOutcome), quote!(outcome)),
        Response::Bytes => (quote!(::atrocore_runtime::bytes::Bytes), quote!(bytes)),
    };
    let mutable = (!setters.is_empty()).then(|| quote!(mut));
    let method_def = quote! {
        #doc
        #deprecated
        pub fn #name(&self, #(#args),*) -> ::atrocore_runtime::Operation<#ret> {
            let #mutable request = self.client.request(#method, #path);
            #(#setters)*
            #body_call
            ::atrocore_runtime::Operation::#make(request)
        }
    };
    (method_def, params_def)
}

/// The struct of an operation's query and header parameters (`Default` when every required
/// one has a default).
fn params_struct(
    name: &str,
    doc: &str,
    params: &[Param],
    enums: &dyn Fn(&Type) -> bool,
) -> TokenStream {
    let pt_ident = ident(name);
    let mut fields = TokenStream::new();
    let mut all_default = true;
    for p in params {
        let f = ident(&p.ident);
        let t = ty(&p.ty);
        let where_ = match p.location {
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
        };
        let note = format!(
            "`{}` ({where_}{})",
            p.wire,
            if p.required { ", required" } else { "" }
        );
        let d = docs(&[p.doc.as_deref(), Some(&note)]);
        if p.required {
            all_default &= has_default(&p.ty, enums);
            fields.extend(quote!(#d pub #f: #t,));
        } else {
            fields.extend(quote!(#d pub #f: Option<#t>,));
        }
    }
    let default = all_default.then(|| quote!(Default,));
    let pdoc = doc_lines(doc);
    quote! {
        #pdoc
        #[derive(Debug, Clone, #default)]
        pub struct #pt_ident {
            #fields
        }
    }
}

/// `#[cfg(feature = "…")]` for code that exists only with an entity's feature.
fn cfg_feature(feature: Option<&str>) -> TokenStream {
    match feature {
        Some(f) => quote!(#[cfg(feature = #f)]),
        None => TokenStream::new(),
    }
}

/// `pub use crate::types::{…}` for the shared types a module uses, so that their paths through
/// the module keep working (a glob import of two modules sees one item, not a clash).
fn shared_uses(names: &[String]) -> TokenStream {
    if names.is_empty() {
        return TokenStream::new();
    }
    let types = ident(TYPES_MODULE);
    let names = names.iter().map(|n| ident(n));
    quote!(pub use crate::#types::{#(#names),*};)
}

fn api_handle(api_type: &str, what: &str, methods: TokenStream) -> TokenStream {
    let name = ident(api_type);
    let doc = doc_lines(&format!(
        "Operations on {what}; get one from [`crate::Client`]."
    ));
    quote! {
        #doc
        #[derive(Debug, Clone, Copy)]
        pub struct #name<'a> {
            client: &'a ::atrocore_runtime::Client,
        }
        impl<'a> #name<'a> {
            /// Wrap a runtime client.
            pub fn new(client: &'a ::atrocore_runtime::Client) -> Self {
                Self { client }
            }
            #methods
        }
    }
}

fn filter_fn(entity_type: &Ident, f: &Field) -> TokenStream {
    let name = ident(&f.ident);
    let wire = &f.wire;
    let handle = match f.kind {
        FieldKind::Text | FieldKind::Enum => quote!(TextField),
        FieldKind::Number => quote!(NumberField),
        FieldKind::Bool => quote!(BoolField),
        FieldKind::Date => quote!(DateField),
        FieldKind::DateTime => quote!(DateTimeField),
        FieldKind::Link => quote!(LinkField),
        FieldKind::Array => quote!(ArrayField),
        FieldKind::Any => quote!(AnyField),
    };
    let doc = doc_lines(&format!("Conditions on `{wire}`."));
    // A field whose values are a generated enum takes that enum, not strings.
    if let (
        FieldKind::Enum,
        Type::Named {
            module,
            name: value,
        },
    ) = (f.kind, &f.ty)
    {
        let value = ident(value);
        let value = match module {
            None => quote!(super::#value),
            Some(m) => {
                let m = ident(m);
                quote!(crate::#m::#value)
            }
        };
        return quote! {
            #doc
            pub const fn #name() -> ::atrocore_runtime::EnumField<super::#entity_type, #value> {
                ::atrocore_runtime::EnumField::new(#wire)
            }
        };
    }
    quote! {
        #doc
        pub const fn #name() -> ::atrocore_runtime::#handle<super::#entity_type> {
            ::atrocore_runtime::#handle::new(#wire)
        }
    }
}

fn entity_module(e: &Entity, enums: &dyn Fn(&Type) -> bool) -> TokenStream {
    let type_name = ident(&e.type_name);
    let field_enum = ident(&e.field_enum);
    let wire_name = &e.name;
    let read = Struct {
        name: e.type_name.clone(),
        doc: Some(format!(
            "A `{wire_name}` record as read from the API. Every field is optional: `select` returns only the fields asked for."
        )),
        fields: e.fields.clone(),
        style: StructStyle::Read,
    };
    let read_def = struct_def(&read, enums);
    let create_def = e.create.as_ref().map(|s| struct_def(s, enums));
    let patch_def = e.patch.as_ref().map(|s| struct_def(s, enums));

    let selectable: Vec<&Field> = e.fields.iter().filter(|f| f.ty != Type::Meta).collect();
    let unique_fields = (!e.unique_fields.is_empty()).then(|| {
        let names = &e.unique_fields;
        quote!(const UNIQUE_FIELDS: &'static [&'static str] = &[#(#names),*];)
    });
    let variants = selectable.iter().map(|f| {
        let v = ident(&f.variant);
        let d = doc_lines(&format!("`{}`", f.wire));
        quote!(#d #v,)
    });
    let all = selectable.iter().map(|f| {
        let v = ident(&f.variant);
        quote!(Self::#v)
    });
    let names = selectable.iter().map(|f| {
        let v = ident(&f.variant);
        let w = &f.wire;
        quote!(Self::#v => #w,)
    });
    let field_doc = doc_lines(&format!(
        "The fields of `{wire_name}`, for `select` and `sortBy`."
    ));
    let field_enum_def = quote! {
        #field_doc
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum #field_enum {
            #(#variants)*
        }
        impl #field_enum {
            /// Every field, in spec order.
            pub const ALL: &'static [#field_enum] = &[#(#all),*];
            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(#names)*
                }
            }
        }
        impl ::atrocore_runtime::EntityField for #field_enum {
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
        impl ::std::fmt::Display for #field_enum {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::atrocore_runtime::Entity for #type_name {
            const NAME: &'static str = #wire_name;
            #unique_fields
            type Record = #type_name;
            type Field = #field_enum;
        }
    };

    let mut filters: Vec<TokenStream> = selectable
        .iter()
        .map(|f| filter_fn(&type_name, f))
        .collect();
    // One link condition builder per link (`brand()` next to `brand_id()`), unless a field
    // already has that name.
    let mut filter_names: std::collections::BTreeSet<String> =
        selectable.iter().map(|f| f.ident.clone()).collect();
    for f in &selectable {
        let Some(link) = &f.link else { continue };
        let fn_name = crate::naming::snake(link);
        if !filter_names.insert(fn_name.clone()) {
            continue;
        }
        let name = ident(&fn_name);
        let doc = doc_lines(&format!(
            "Link conditions on `{link}` (`linkedWith`, `isLinked`, …); ids are compared on `{}`.",
            f.wire
        ));
        filters.push(quote! {
            #doc
            pub const fn #name() -> ::atrocore_runtime::LinkField<super::#type_name> {
                ::atrocore_runtime::LinkField::new(#link)
            }
        });
    }
    let filter_doc = doc_lines(&format!(
        "Typed `where` conditions on `{wire_name}` fields: `filter::name().like(\"%x%\")`; combine with `and`, `or`, `not`."
    ));
    let filter_mod = quote! {
        #filter_doc
        pub mod filter {
            #(#filters)*
        }
    };

    let mut methods = TokenStream::new();
    if let Some(d) = &e.standard.list {
        let doc = op_doc_tokens(d);
        methods.extend(quote! {
            #doc
            pub fn list(&self) -> ::atrocore_runtime::ListRequest<#type_name> {
                self.client.list::<#type_name>()
            }
        });
    }
    if let Some(d) = &e.standard.read {
        let doc = op_doc_tokens(d);
        methods.extend(quote! {
            #doc
            pub fn read(&self, id: &str) -> ::atrocore_runtime::ReadRequest<#type_name> {
                self.client.read::<#type_name>(id)
            }
        });
    }
    if let (Some(d), Some(c)) = (&e.standard.create, &e.create) {
        let doc = op_doc_tokens(d);
        let c = ident(&c.name);
        methods.extend(quote! {
            #doc
            pub fn create(&self, record: &#c) -> ::atrocore_runtime::CreateRequest<#type_name> {
                self.client.create::<#type_name, #c>(record)
            }
        });
    }
    // Every entity with a create struct can be bulk-upserted (the route is global).
    let mut payload_impls = TokenStream::new();
    if let Some(c) = &e.create {
        let c = ident(&c.name);
        let doc = doc_lines(&format!(
            "Bulk upsert of `{wire_name}` records (`POST /MassActions/action/upsert` on 2.2, \
             `POST /upsert` on 2.3): each item is created, or updated when its `id` or a unique \
             field finds a record. Items may be owned or borrowed; batching, concurrency and \
             per-item results are those of the runtime's `UpsertRequest`."
        ));
        methods.extend(quote! {
            #doc
            pub fn upsert<I>(&self, items: I) -> ::atrocore_runtime::UpsertRequest
            where
                I: ::std::iter::IntoIterator,
                I::Item: ::atrocore_runtime::UpsertPayload<#type_name>,
            {
                ::atrocore_runtime::UpsertRequest::of::<#type_name, I>(self.client, items)
            }
        });
        payload_impls.extend(quote! {
            impl ::atrocore_runtime::UpsertPayload<#type_name> for #c {
                fn upsert_item(&self) -> ::atrocore_runtime::Result<::atrocore_runtime::UpsertItem> {
                    ::atrocore_runtime::UpsertItem::new::<#type_name>(self)
                }
            }
        });
    }
    if e.holds_files {
        methods.extend(quote! {
            /// Uploads `content` as the file `name` (Base64, or chunks above the threshold); the
            /// upload answers the created `File`. Set fields (`folderId`, …) with `.fields(&FilePost)`
            /// or `.field(..)`, the name-conflict policy with `.on_name_conflict(..)`.
            pub fn upload_bytes(
                &self,
                name: impl ::std::convert::Into<::std::string::String>,
                content: impl ::std::convert::Into<::atrocore_runtime::bytes::Bytes>,
            ) -> ::atrocore_runtime::FileUpload<#type_name> {
                self.client.upload_bytes(name, content).typed::<#type_name>()
            }
            /// Uploads the file at `path`, streamed from disk in chunks when large (resumable,
            /// with progress); answers the created `File`.
            pub fn upload_path(
                &self,
                path: impl ::std::convert::AsRef<::std::path::Path>,
            ) -> ::atrocore_runtime::FileUpload<#type_name> {
                self.client.upload_path(path).typed::<#type_name>()
            }
            /// Uploads `len` bytes read from `reader` as the file `name`; answers the created
            /// `File`.
            pub fn upload_reader<R>(
                &self,
                name: impl ::std::convert::Into<::std::string::String>,
                reader: R,
                len: u64,
            ) -> ::atrocore_runtime::FileUpload<#type_name>
            where
                R: ::atrocore_runtime::AsyncRead + ::std::marker::Send + ::std::marker::Unpin + 'static,
            {
                self.client.upload_reader(name, reader, len).typed::<#type_name>()
            }
            /// Has the server download `url`; answers the created `File`.
            pub fn upload_url(
                &self,
                url: impl ::std::convert::Into<::std::string::String>,
            ) -> ::atrocore_runtime::FileUpload<#type_name> {
                self.client.upload_url(url).typed::<#type_name>()
            }
            /// A public sharing link to the file `id` (name, expiry, allowed usage): answers the
            /// runtime's typed `SharedLink`.
            pub fn share(&self, id: &str) -> ::atrocore_runtime::ShareRequest {
                self.client.share_file(id)
            }
            /// Streams the content of the file `id` (`.bytes()`, `.save(path)`, or as a stream).
            pub async fn download(
                &self,
                id: &str,
            ) -> ::atrocore_runtime::Result<::atrocore_runtime::FileDownload> {
                self.client.download_file(id).await
            }
        });
    }
    if let (Some((m, d)), Some(p)) = (&e.standard.update, &e.patch) {
        let doc = op_doc_tokens(d);
        let p = ident(&p.name);
        let m = method_tokens(*m);
        methods.extend(quote! {
            #doc
            pub fn update(&self, id: &str, changes: &#p) -> ::atrocore_runtime::UpdateRequest<#type_name> {
                self.client.update::<#type_name, #p>(#m, id, changes)
            }
        });
    }
    if let Some(d) = &e.standard.delete {
        let doc = op_doc_tokens(d);
        methods.extend(quote! {
            #doc
            pub fn delete(&self, id: &str) -> ::atrocore_runtime::DeleteRequest<#type_name> {
                self.client.delete::<#type_name>(id)
            }
        });
    }
    if e.has_attributes {
        methods.extend(quote! {
            /// The attribute values of the record `id`: list them typed (value by attribute type,
            /// units, per-language values), add, upsert (a no-op is `WriteOutcome::NotModified`)
            /// and remove attributes.
            pub fn attributes(&self, id: &str) -> ::atrocore_runtime::RecordAttributes {
                self.client.attributes::<#type_name>(id)
            }
        });
    }
    for l in &e.link_lists {
        let method = ident(&l.method);
        let module = ident(&l.target_module);
        let ty = ident(&l.target_type);
        let link = &l.link;
        let doc = doc_lines(&format!(
            "The `{}` records linked to the `{wire_name}` `id` through `{link}`: a list request \
             (select, filter, paging, sort, `With-Meta`, streams).",
            l.target
        ));
        let link_method = ident(&l.link_method);
        let unlink_method = ident(&l.unlink_method);
        let link_doc = doc_lines(&format!(
            "Links the `{}` records `ids` to the `{wire_name}` `id` through `{link}`.",
            l.target
        ));
        let unlink_doc = doc_lines(&format!(
            "Unlinks the `{}` records `ids` from the `{wire_name}` `id` (`{link}`); they stay.",
            l.target
        ));
        let cfg = cfg_feature(l.target_feature.as_deref());
        methods.extend(quote! {
            #doc
            #cfg
            pub fn #method(&self, id: &str) -> ::atrocore_runtime::ListRequest<crate::#module::#ty> {
                self.client.linked::<crate::#module::#ty>(#wire_name, id, #link)
            }
            #link_doc
            #cfg
            pub fn #link_method<S: ::std::convert::AsRef<str>>(
                &self,
                id: &str,
                ids: &[S],
            ) -> ::atrocore_runtime::Operation<()> {
                self.client.link_records(#wire_name, id, #link, ids)
            }
            #unlink_doc
            #cfg
            pub fn #unlink_method<S: ::std::convert::AsRef<str>>(
                &self,
                id: &str,
                ids: &[S],
            ) -> ::atrocore_runtime::Operation<()> {
                self.client.unlink_records(#wire_name, id, #link, ids)
            }
        });
    }
    let mut params_defs = TokenStream::new();
    for op in &e.operations {
        let (m, p) = operation(op, enums);
        methods.extend(m);
        params_defs.extend(p);
    }
    let flat_view = e.flat_attributes.then(|| {
        quote! {
            impl #type_name {
                /// The attributes of a record read with `Flatten-Attributes` (`.flatten_attributes(true)`):
                /// values, units and definitions by attribute code.
                pub fn flat_attributes(&self) -> ::atrocore_runtime::FlatAttributes {
                    ::atrocore_runtime::FlatAttributes::from_parts(&self.extra, self.attributes_defs.as_ref())
                }
            }
        }
    });
    let handle = api_handle(&e.api_type, &format!("`{wire_name}` records"), methods);
    let types = type_defs(&e.types, enums);
    let shared_uses = shared_uses(&e.shared_uses);
    let inner_docs = module_inner_doc(
        &format!("The `{wire_name}` entity: record types, fields, filters and operations."),
        e.doc.as_deref(),
    );
    quote! {
        #inner_docs
        #read_def
        #field_enum_def
        #create_def
        #patch_def
        #filter_mod
        #flat_view
        #handle
        #payload_impls
        #params_defs
        #types
        #shared_uses
    }
}

fn module_inner_doc(first: &str, more: Option<&str>) -> TokenStream {
    let mut text = first.to_owned();
    if let Some(m) = more.map(str::trim).filter(|m| !m.is_empty() && *m != first) {
        text.push_str("\n\n");
        text.push_str(m);
    }
    text.lines()
        .map(|l| {
            let l = format!(" {}", l.trim_end());
            quote!(#![doc = #l])
        })
        .collect()
}

fn group_module(g: &Group, enums: &dyn Fn(&Type) -> bool) -> TokenStream {
    let mut methods = TokenStream::new();
    let mut params_defs = TokenStream::new();
    for op in &g.operations {
        let (m, p) = operation(op, enums);
        methods.extend(m);
        params_defs.extend(p);
    }
    let handle = api_handle(&g.api_type, &format!("the `{}` routes", g.tag), methods);
    let types = type_defs(&g.types, enums);
    let shared_uses = shared_uses(&g.shared_uses);
    let inner_docs = module_inner_doc(
        &format!("Routes tagged `{}` that belong to no entity.", g.tag),
        g.doc.as_deref(),
    );
    quote! {
        #inner_docs
        #handle
        #params_defs
        #types
        #shared_uses
    }
}

fn lib_rs(api: &Api, settings: &Settings) -> TokenStream {
    let title = format!(
        "A typed client for the AtroCore REST API `{}` (version {}), generated by atrocore-codegen.",
        api.title, api.version
    );
    let generation = match api.generation {
        Generation::V2_2 => quote!(::atrocore_runtime::ApiGeneration::V2_2),
        Generation::V2_3 => quote!(::atrocore_runtime::ApiGeneration::V2_3),
    };
    let example_entity = api
        .entities
        .iter()
        .find(|e| e.standard.list.is_some())
        .map(|e| (e.module.clone(), e.field_enum.clone()));
    let mut crate_doc = format!(
        "{title}\n\nAPI generation {:?}, base path `{}`. Connect with [`Client::builder`]:\n\n```no_run\n# async fn demo() -> ::atrocore_runtime::Result<()> {{\nlet client = {}::Client::builder(\"https://atrocore.example.com\")\n    .basic_auth(\"api-user\", \"secret\")\n    .build()?;\n",
        api.generation,
        api.base_path,
        settings.crate_name.replace('-', "_"),
    );
    if let Some((module, field_enum)) = &example_entity {
        crate_doc.push_str(&format!(
            "let page = client\n    .{module}()\n    .list()\n    .select([{krate}::{module}::{field_enum}::ALL[0]])\n    .max_size(10)\n    .await?;\nprintln!(\"{{}} records\", page.total);\n",
            krate = settings.crate_name.replace('-', "_"),
        ));
    }
    crate_doc.push_str("# Ok(())\n# }\n```");
    let inner = module_inner_doc(&crate_doc, None);

    let mut mods = TokenStream::new();
    let mut accessors = TokenStream::new();
    for e in &api.entities {
        let m = ident(&e.module);
        let a = ident(&e.api_type);
        let d = doc_lines(&format!("Operations on `{}` records.", e.name));
        let cfg = cfg_feature(e.feature.as_deref());
        mods.extend(quote!(#cfg pub mod #m;));
        accessors.extend(quote! {
            #d
            #cfg
            pub fn #m(&self) -> #m::#a<'_> {
                #m::#a::new(&self.inner)
            }
        });
    }
    for g in &api.groups {
        let m = ident(&g.module);
        let a = ident(&g.api_type);
        let d = doc_lines(&format!("The `{}` routes.", g.tag));
        mods.extend(quote!(pub mod #m;));
        accessors.extend(quote! {
            #d
            pub fn #m(&self) -> #m::#a<'_> {
                #m::#a::new(&self.inner)
            }
        });
    }
    if !api.shared_types.is_empty() || !api.shared_params.is_empty() {
        let m = ident(TYPES_MODULE);
        mods.extend(quote!(pub mod #m;));
    }
    let base_path = &api.base_path;
    quote! {
        #inner
        #![warn(missing_docs)]
        #mods

        pub use ::atrocore_runtime as runtime;

        /// The API base path of the spec this crate was generated from.
        pub const API_BASE_PATH: &str = #base_path;
        /// The API generation of the spec this crate was generated from.
        pub const GENERATION: ::atrocore_runtime::ApiGeneration = #generation;

        /// A client for this API: a runtime client plus one accessor per entity and route group.
        /// Cheap to clone.
        #[derive(Debug, Clone)]
        pub struct Client {
            inner: ::atrocore_runtime::Client,
        }

        impl From<::atrocore_runtime::Client> for Client {
            fn from(inner: ::atrocore_runtime::Client) -> Self {
                Self { inner }
            }
        }

        impl Client {
            /// A builder for a client of the instance at `instance_url` (its web root), set up
            /// for this API's base path and generation.
            pub fn builder(instance_url: impl AsRef<str>) -> ::atrocore_runtime::ClientBuilder<Client> {
                ::atrocore_runtime::ClientBuilder::new(instance_url)
                    .api_base_path(API_BASE_PATH)
                    .generation(GENERATION)
            }
            /// The runtime client, for routes and options this crate does not wrap.
            pub fn runtime(&self) -> &::atrocore_runtime::Client {
                &self.inner
            }
            /// Logs in now (it happens on first use otherwise), to fail early on wrong
            /// credentials: an error of kind `Auth` for a `401`.
            pub async fn login(&self) -> ::atrocore_runtime::Result<()> {
                self.inner.login().await
            }
            #accessors
        }
    }
}

/// Format tokens as a Rust file with the preamble.
fn format_file(path: &str, tokens: TokenStream, preamble: &str) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| Error::Emit {
        file: path.to_owned(),
        message: format!("generated tokens do not parse: {e}"),
    })?;
    let body = prettyplease::unparse(&file);
    Ok(format!("{preamble}\n{body}"))
}

/// Render the preamble lines for a file using `comment` as the line prefix.
fn preamble(settings: &Settings, comment: &str) -> String {
    let mut lines = vec![
        "@generated by atrocore-codegen: do not edit by hand.".to_owned(),
        format!("Spec: {}", settings.spec_label),
        format!("Command: {}", settings.command),
    ];
    if settings.filter.include.is_empty() && settings.filter.exclude.is_empty() {
        lines.push("Entities: all".to_owned());
    } else {
        if !settings.filter.include.is_empty() {
            lines.push(format!("Include: {}", settings.filter.include.join(",")));
        }
        if !settings.filter.exclude.is_empty() {
            lines.push(format!("Exclude: {}", settings.filter.exclude.join(",")));
        }
    }
    lines.iter().map(|l| format!("{comment} {l}\n")).collect()
}

fn manifest(api: &Api, settings: &Settings) -> String {
    let dep = match &settings.runtime {
        RuntimeDependency::Path(p) => {
            format!("{{ path = {}, default-features = false }}", toml_string(p))
        }
        RuntimeDependency::Version(v) => {
            format!(
                "{{ version = {}, default-features = false }}",
                toml_string(v)
            )
        }
        RuntimeDependency::Git { url, rev } => {
            let rev = rev
                .as_deref()
                .map(|r| format!(", rev = {}", toml_string(r)))
                .unwrap_or_default();
            format!(
                "{{ git = {}{rev}, default-features = false }}",
                toml_string(url)
            )
        }
    };
    // The TLS backend passes through to the runtime: rustls by default. One feature per entity
    // module, all on by default (`full`); with `default-features = false` a crate compiles only
    // the entities it names (plus a TLS feature).
    let entity_features: Vec<(&str, &[String])> = api
        .entities
        .iter()
        .filter_map(|e| e.feature.as_deref().map(|f| (f, e.feature_deps.as_slice())))
        .collect();
    let mut features = String::from("\n[features]\n");
    if entity_features.is_empty() {
        features.push_str("default = [\"rustls\"]\n");
    } else {
        features.push_str("default = [\"rustls\", \"full\"]\n");
    }
    features.push_str(
        "rustls = [\"atrocore-runtime/rustls\"]\nnative-tls = [\"atrocore-runtime/native-tls\"]\n",
    );
    if !entity_features.is_empty() {
        let list = |names: &mut dyn Iterator<Item = &str>| {
            names.map(toml_string).collect::<Vec<_>>().join(", ")
        };
        features.push_str(&format!(
            "# Every entity module; each one below also turns on the entities its types use.\nfull = [{}]\n",
            list(&mut entity_features.iter().map(|(f, _)| *f))
        ));
        for (f, deps) in &entity_features {
            features.push_str(&format!(
                "{f} = [{}]\n",
                list(&mut deps.iter().map(String::as_str))
            ));
        }
    }
    let workspace = if settings.standalone_workspace {
        "\n[workspace]\n"
    } else {
        ""
    };
    format!(
        "{pre}\n[package]\nname = {name}\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = {desc}\npublish = false\n\n[dependencies]\natrocore-runtime = {dep}\n{features}{workspace}",
        pre = preamble(settings, "#"),
        name = toml_string(&settings.crate_name),
        desc = toml_string(&format!(
            "Typed AtroCore client for {} {}",
            api.title, api.version
        )),
    )
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialize")
}

/// Emit every file of the generated crate.
pub fn emit(api: &Api, settings: &Settings) -> Result<Files, Error> {
    // Which named types are enums (they have no `Default`).
    let mut enum_names: std::collections::BTreeSet<(Option<String>, String)> = Default::default();
    for e in &api.entities {
        for t in &e.types {
            if let TypeDef::Enum(en) = t {
                if en.default.is_none() {
                    enum_names.insert((Some(e.module.clone()), en.name.clone()));
                }
            }
        }
    }
    for g in &api.groups {
        for t in &g.types {
            if let TypeDef::Enum(en) = t {
                enum_names.insert((Some(g.module.clone()), en.name.clone()));
            }
        }
    }
    for t in &api.shared_types {
        if let TypeDef::Enum(en) = t {
            enum_names.insert((Some(TYPES_MODULE.to_owned()), en.name.clone()));
        }
    }
    let pre = preamble(settings, "//");
    let is_enum_in = |here: &str, t: &Type| match t {
        Type::Named { module, name } => enum_names.contains(&(
            Some(module.clone().unwrap_or_else(|| here.to_owned())),
            name.clone(),
        )),
        _ => false,
    };
    // One job per module file; jobs run on all cores (token building and pretty-printing
    // dominate the run time, and modules are independent). Output order does not depend on
    // scheduling: results are collected into a sorted map.
    enum Job<'a> {
        Entity(&'a Entity),
        Group(&'a Group),
        Types,
    }
    let mut jobs: Vec<Job> = api.entities.iter().map(Job::Entity).collect();
    jobs.extend(api.groups.iter().map(Job::Group));
    if !api.shared_types.is_empty() || !api.shared_params.is_empty() {
        jobs.push(Job::Types);
    }
    let run = |job: &Job| -> Result<(String, String), Error> {
        let (module, tokens) = match job {
            Job::Entity(e) => (
                e.module.as_str(),
                entity_module(e, &|t| is_enum_in(&e.module, t)),
            ),
            Job::Group(g) => (
                g.module.as_str(),
                group_module(g, &|t| is_enum_in(&g.module, t)),
            ),
            Job::Types => {
                let inner = module_inner_doc(
                    "Types shared by several routes (the spec's component schemas that are not entities).",
                    None,
                );
                let enums = |t: &Type| is_enum_in(TYPES_MODULE, t);
                let defs = type_defs(&api.shared_types, &enums);
                let params = api
                    .shared_params
                    .iter()
                    .map(|p| params_struct(&p.name, &p.doc, &p.params, &enums));
                (TYPES_MODULE, quote!(#inner #defs #(#params)*))
            }
        };
        let path = format!("src/{module}.rs");
        let text = format_file(&path, tokens, &pre)?;
        Ok((path, text))
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<(String, String), Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        done.push(run(job));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("emit worker panicked"))
            .collect()
    });
    let mut files = Files::new();
    for r in results {
        let (path, text) = r?;
        files.insert(path, text);
    }
    files.insert(
        "src/lib.rs".into(),
        format_file("src/lib.rs", lib_rs(api, settings), &pre)?,
    );
    files.insert("Cargo.toml".into(), manifest(api, settings));
    // The files are formatted by prettyplease; keep `cargo fmt` in a surrounding workspace from
    // rewriting them (a reformatted file would be reported stale and make noisy diffs).
    files.insert(
        "rustfmt.toml".into(),
        format!("{}disable_all_formatting = true\n", preamble(settings, "#")),
    );
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::serde_camel_case;

    /// Our copy of serde's rule must agree with serde itself on the shapes `naming` produces.
    #[test]
    fn camel_case_matches_serde() {
        #[derive(serde::Serialize, Default)]
        #[serde(rename_all = "camelCase")]
        #[allow(non_snake_case)]
        struct S {
            name_de_de: u8,
            n3d_model: u8,
            type_: u8,
            a_b_2: u8,
            position_2: u8,
            id: u8,
            is_active: u8,
            _meta: u8,
        }
        let value = serde_json::to_value(S::default()).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        let ours: Vec<String> = [
            "name_de_de",
            "n3d_model",
            "type_",
            "a_b_2",
            "position_2",
            "id",
            "is_active",
            "_meta",
        ]
        .iter()
        .map(|f| serde_camel_case(f))
        .collect();
        let mut keys: Vec<String> = keys.into_iter().cloned().collect();
        let mut ours_sorted = ours.clone();
        keys.sort();
        ours_sorted.sort();
        assert_eq!(keys, ours_sorted);
    }
}
