//! A module file: an entity's (record structs, field enum, filters, API handle with CRUD, upsert,
//! files, attributes, link lists and routes) or a route group's.

use super::attributes::attr_module;
use super::ctx::*;
use super::doc::*;
use super::operation::*;
use super::types::*;

/// `#[cfg(feature = "…")]` for code that exists only with an entity's feature.
pub(super) fn cfg_feature(feature: Option<&str>) -> TokenStream {
    match feature {
        Some(f) => quote!(#[cfg(feature = #f)]),
        None => TokenStream::new(),
    }
}

/// `pub use crate::types::{…}` for the shared types a module uses, so that their paths through
/// the module keep working (a glob import of two modules sees one item, not a clash).
pub(super) fn shared_uses(names: &[String]) -> TokenStream {
    if names.is_empty() {
        return TokenStream::new();
    }
    let types = ident(TYPES_MODULE);
    let names = names.iter().map(|n| ident(n));
    quote!(pub use crate::#types::{#(#names),*};)
}

pub(super) fn api_handle(
    api_type: &str,
    what: &str,
    covered: &[RuntimeRoute],
    methods: TokenStream,
) -> TokenStream {
    let name = ident(api_type);
    let doc = doc_lines(&format!(
        "Operations on {what}; get one from [`crate::Client`].{}",
        runtime_routes(covered)
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

/// A field's filter function, one line: the runtime's `field_filter!` with the field's handle
/// (an enum field's takes the enum).
pub(super) fn filter_fn(cx: Ctx, entity_type: &Ident, f: &Field) -> TokenStream {
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
    // A field whose values are a generated enum takes that enum, not strings.
    let handle = match (f.kind, &f.ty) {
        // The filter functions sit in a module inside the entity's.
        (FieldKind::Enum, Type::Named(id)) => {
            let value = cx.named(*id, true);
            quote!(EnumField(#value))
        }
        _ => handle,
    };
    // A plain name goes into the macro's doc as is; any other is escaped here first (spec
    // text never reaches a doc comment raw).
    if wire.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        quote!(field_filter!(super::#entity_type, #name, #handle, #wire);)
    } else {
        let doc = inert(&format!("Conditions on `{wire}`."));
        quote!(field_filter!(super::#entity_type, #name, #handle, #wire, doc = #doc);)
    }
}

pub(super) fn entity_module(cx: Ctx, e: &Entity) -> TokenStream {
    let type_name = ident(&e.type_name);
    let field_enum = ident(&e.field_enum);
    let wire_name = &e.name;
    let id_ty = cx.named(e.ids.id, false);
    let read = Struct {
        name: e.type_name.clone(),
        doc: Some(format!(
            "A `{wire_name}` record as read from the API. Every field is optional: `select` returns only the fields asked for."
        )),
        fields: e.fields.clone(),
        style: StructStyle::Read,
    };
    let default_of = |id: Option<TypeId>| id.is_none_or(|id| cx.types.get(id).has_default);
    let read_def = struct_def(cx, &read, default_of(Some(e.ids.read)));
    let create_def = e
        .create
        .as_ref()
        .map(|s| struct_def(cx, s, default_of(e.ids.create)));
    let patch_def = e
        .patch
        .as_ref()
        .map(|s| struct_def(cx, s, default_of(e.ids.patch)));

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
            type Id = #id_ty;
        }
    };

    let mut filters: Vec<TokenStream> = selectable
        .iter()
        .map(|f| filter_fn(cx, &type_name, f))
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
            use ::atrocore_runtime::field_filter;
            #(#filters)*
        }
    };

    // What every entity does is the runtime's `EntityHandle`; the entity says which of it
    // applies through the capability traits, and the handle below adds its links and routes.
    let mut capabilities = TokenStream::new();
    let mut payload_impls = TokenStream::new();
    if let Some(c) = &e.create {
        let c = ident(&c.name);
        capabilities.extend(quote! {
            impl ::atrocore_runtime::Creatable for #type_name {
                type Create = #c;
            }
        });
        // Every entity with a create struct can be bulk-upserted (the route is global).
        payload_impls.extend(quote! {
            impl ::atrocore_runtime::UpsertPayload<#type_name> for #c {
                fn upsert_item(&self) -> ::atrocore_runtime::Result<::atrocore_runtime::UpsertItem> {
                    ::atrocore_runtime::UpsertItem::new::<#type_name>(self)
                }
            }
        });
    }
    if let (Some((m, _)), Some(p)) = (&e.standard.update, &e.patch) {
        let p = ident(&p.name);
        let m = method_tokens(*m);
        capabilities.extend(quote! {
            impl ::atrocore_runtime::Updatable for #type_name {
                type Patch = #p;
                const UPDATE_METHOD: ::atrocore_runtime::Method = #m;
            }
        });
    }
    let markers = [
        (e.standard.delete.is_some(), quote!(Deletable)),
        (e.has_attributes, quote!(HasAttributes)),
        (e.holds_files, quote!(HoldsFiles)),
    ];
    for (_, t) in markers.iter().filter(|(on, _)| *on) {
        capabilities.extend(quote!(impl ::atrocore_runtime::#t for #type_name {}));
    }

    let mut methods = TokenStream::new();
    let links = ident(crate::naming::LINKS_MODULE);
    for l in &e.link_lists {
        let method = ident(&l.method);
        let marker = ident(&l.marker);
        let doc = doc_lines(&format!(
            "The `{}` records linked to the `{wire_name}` `id` through `{}`: a list request \
             (select, filter, paging, sort, streams) that also links and unlinks (`add`, \
             `remove`, `add_matching`, `clear`).",
            l.target, l.link
        ));
        let cfg = cfg_feature(l.target_feature.as_deref());
        let module = ident(&l.target_module);
        let ty = ident(&l.target_type);
        methods.extend(quote! {
            #doc
            #cfg
            pub fn #method(&self, id: impl ::atrocore_runtime::AsId<#id_ty>) -> ::atrocore_runtime::ListRequest<crate::#module::#ty, #links::#marker> {
                self.handle.linked(id)
            }
        });
    }
    let mut params_defs = TokenStream::new();
    for op in &e.operations {
        let (m, p) = operation(op, cx);
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
    let handle = entity_handle(e, &type_name, methods);
    let types = type_defs(cx, &e.types);
    let shared_uses = shared_uses(&e.shared_uses);
    let links_mod = links_module(&type_name, &e.link_keys, &e.link_lists);
    let attr_mod = attr_module(e);
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
        #capabilities
        #payload_impls
        #params_defs
        #types
        #shared_uses
        #links_mod
        #attr_mod
    }
}

/// The entity's handle: the runtime's `EntityHandle` (what every entity does, reached through
/// `Deref`) plus `methods` (its links and the routes no handler covers). Its doc lists the
/// standard routes with the spec's words for them.
fn entity_handle(e: &Entity, type_name: &Ident, methods: TokenStream) -> TokenStream {
    let name = ident(&e.api_type);
    let wire_name = &e.name;
    let s = &e.standard;
    let standard = [
        (s.list.as_ref(), "list"),
        (s.read.as_ref(), "read"),
        (s.create.as_ref(), "create"),
        (s.update.as_ref().map(|(_, d)| d), "update"),
        (s.delete.as_ref(), "delete"),
    ];
    let mut text = format!(
        "Operations on `{wire_name}` records; get one from [`crate::Client`]. What every entity \
         does comes from the runtime's `EntityHandle`, which this dereferences to:"
    );
    for (d, method) in standard.iter().filter_map(|(d, m)| d.map(|d| (d, m))) {
        text.push_str(&format!("\n- `{method}`: `{}`", d.route));
        if let Some(t) = d.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            // One line inside the list item, whatever breaks the spec's text holds (CR, U+2028…).
            let one_line: Vec<&str> = t.split_whitespace().collect();
            text.push_str(&format!(", {}", one_line.join(" ")));
        }
    }
    text.push_str(&runtime_routes(&e.runtime_routes));
    let doc = doc_lines(&text);
    // The generated routes send through the client; without them the handle is all there is.
    let (client_field, client_init) = if e.operations.is_empty() {
        (TokenStream::new(), TokenStream::new())
    } else {
        (
            quote!(client: &'a ::atrocore_runtime::Client,),
            quote!(client,),
        )
    };
    quote! {
        #doc
        #[derive(Debug, Clone, Copy)]
        pub struct #name<'a> {
            #client_field
            handle: ::atrocore_runtime::EntityHandle<'a, #type_name>,
        }
        impl<'a> ::std::ops::Deref for #name<'a> {
            type Target = ::atrocore_runtime::EntityHandle<'a, #type_name>;
            fn deref(&self) -> &Self::Target {
                &self.handle
            }
        }
        impl<'a> #name<'a> {
            /// Wrap a runtime client.
            pub fn new(client: &'a ::atrocore_runtime::Client) -> Self {
                Self { #client_init handle: ::atrocore_runtime::EntityHandle::new(client) }
            }
            #methods
        }
    }
}

/// The doc paragraph that lists the routes the runtime serves instead of a generated method.
fn runtime_routes(routes: &[RuntimeRoute]) -> String {
    if routes.is_empty() {
        return String::new();
    }
    let mut text = "\n\nRoutes of the spec served by the runtime (one route, one type):".to_owned();
    for r in routes {
        text.push_str(&format!("\n- `{}`: {}", r.route, r.by));
    }
    text
}

/// `links`: one type per link, named after it: the links the write structs hold as one field
/// name their two keys for the runtime's `LinkOne`/`LinkMany` (`LinkKeys`); the to-many links
/// with a generated target are the runtime's `ToManyLink` (the handle's link lists).
fn links_module(source: &Ident, keys: &[LinkField], lists: &[LinkList]) -> TokenStream {
    let mut markers: BTreeMap<&str, (Option<&LinkField>, Option<&LinkList>)> = BTreeMap::new();
    for k in keys {
        markers.entry(&k.keys).or_default().0 = Some(k);
    }
    for l in lists {
        markers.entry(&l.marker).or_default().1 = Some(l);
    }
    if markers.is_empty() {
        return TokenStream::new();
    }
    let items = markers.iter().map(|(name, (k, l))| {
        let name = ident(name);
        let what = match (k, l) {
            (Some(k), _) => format!(
                "The link `{}`: `{}` or `{}` in a write struct",
                k.link_wire, k.id_wire, k.link_wire
            ),
            (None, Some(l)) => format!("The link `{}`", l.link),
            (None, None) => unreachable!("every marker comes from a key or a list"),
        };
        let doc = doc_lines(&match l {
            Some(l) => format!("{what}; to many `{}` records.", l.target),
            None => format!("{what}."),
        });
        let keys_impl = k.map(|k| {
            let (id, link) = (&k.id_wire, &k.link_wire);
            quote! {
                impl ::atrocore_runtime::LinkKeys for #name {
                    const ID: &'static str = #id;
                    const LINK: &'static str = #link;
                }
            }
        });
        let list_impl = l.map(|l| {
            let cfg = cfg_feature(l.target_feature.as_deref());
            let (module, ty, link) = (ident(&l.target_module), ident(&l.target_type), &l.link);
            quote! {
                #cfg
                impl ::atrocore_runtime::ToManyLink for #name {
                    type Source = super::#source;
                    type Target = crate::#module::#ty;
                    const NAME: &'static str = #link;
                }
            }
        });
        quote! {
            #doc
            #[derive(Debug)]
            pub enum #name {}
            #keys_impl
            #list_impl
        }
    });
    let links = ident(crate::naming::LINKS_MODULE);
    quote! {
        /// The entity's links as types: for the write structs' link fields and the link lists.
        pub mod #links {
            #(#items)*
        }
    }
}

pub(super) fn group_module(cx: Ctx, g: &Group) -> TokenStream {
    let mut methods = TokenStream::new();
    let mut params_defs = TokenStream::new();
    for op in &g.operations {
        let (m, p) = operation(op, cx);
        methods.extend(m);
        params_defs.extend(p);
    }
    let handle = api_handle(
        &g.api_type,
        &format!("the `{}` routes", g.tag),
        &g.runtime_routes,
        methods,
    );
    let types = type_defs(cx, &g.types);
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
