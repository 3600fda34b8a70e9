//! A module file: an entity's (record structs, field enum, filters, API handle with CRUD, upsert,
//! files, attributes, link lists and routes) or a route group's.

use super::*;

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

pub(super) fn api_handle(api_type: &str, what: &str, methods: TokenStream) -> TokenStream {
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
    let doc = doc_lines(&format!("Conditions on `{wire}`."));
    // A field whose values are a generated enum takes that enum, not strings.
    if let (FieldKind::Enum, Type::Named(id)) = (f.kind, &f.ty) {
        // The filter functions sit in a module inside the entity's.
        let value = cx.named(*id, true);
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
            pub fn read(&self, id: impl ::atrocore_runtime::AsId<#id_ty>) -> ::atrocore_runtime::ReadRequest<#type_name> {
                self.client.read::<#type_name>(id.id_str())
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
             field finds a record. Items may be owned or borrowed (the request then borrows \
             them: each is serialized when its batch is pulled, one batch ahead of the \
             requests); batching, concurrency and per-item results are those of the runtime's \
             `UpsertRequest`."
        ));
        methods.extend(quote! {
            #doc
            pub fn upsert<'i, I>(&self, items: I) -> ::atrocore_runtime::UpsertRequest<'i>
            where
                I: ::std::iter::IntoIterator,
                I::IntoIter: ::std::marker::Send + 'i,
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
            pub fn share(&self, id: impl ::atrocore_runtime::AsId<#id_ty>) -> ::atrocore_runtime::ShareRequest {
                self.client.share_file(id.id_str())
            }
            /// Streams the content of the file `id` (`.bytes()`, `.save(path)`, or as a stream).
            pub async fn download(
                &self,
                id: impl ::atrocore_runtime::AsId<#id_ty>,
            ) -> ::atrocore_runtime::Result<::atrocore_runtime::FileDownload> {
                self.client.download_file(id.id_str()).await
            }
        });
    }
    if let (Some((m, d)), Some(p)) = (&e.standard.update, &e.patch) {
        let doc = op_doc_tokens(d);
        let p = ident(&p.name);
        let m = method_tokens(*m);
        methods.extend(quote! {
            #doc
            pub fn update(&self, id: impl ::atrocore_runtime::AsId<#id_ty>, changes: &#p) -> ::atrocore_runtime::UpdateRequest<#type_name> {
                self.client.update::<#type_name, #p>(#m, id.id_str(), changes)
            }
            /// Sets the fields of `changes` on every record that matches `filter` (the server
            /// selects them; an empty filter matches every record). 2.2 runs up to 200 records
            /// in the request and queues a job for more; 2.3 always queues a job.
            pub fn update_matching(
                &self,
                filter: ::atrocore_runtime::Filter<#type_name>,
                changes: &#p,
            ) -> ::atrocore_runtime::Operation<::atrocore_runtime::MassOutcome> {
                self.client.mass_update(
                    #wire_name,
                    ::atrocore_runtime::MassSelection::Filter(filter.into_where()),
                    changes,
                )
            }
            /// Sets the fields of `changes` on the records `ids` (up to 200 in the request,
            /// more through a job).
            pub fn update_ids<S: ::atrocore_runtime::AsId<#id_ty>>(
                &self,
                ids: &[S],
                changes: &#p,
            ) -> ::atrocore_runtime::Operation<::atrocore_runtime::MassOutcome> {
                let ids = ids.iter().map(|id| id.id_str().to_owned()).collect();
                self.client.mass_update(#wire_name, ::atrocore_runtime::MassSelection::Ids(ids), changes)
            }
        });
    }
    if let Some(d) = &e.standard.delete {
        let doc = op_doc_tokens(d);
        methods.extend(quote! {
            #doc
            pub fn delete(&self, id: impl ::atrocore_runtime::AsId<#id_ty>) -> ::atrocore_runtime::DeleteRequest<#type_name> {
                self.client.delete::<#type_name>(id.id_str())
            }
            /// Deletes every record that matches `filter` (to the trash; `.permanently(true)`
            /// for good). An empty filter matches every record. 2.2 runs up to 200 records in
            /// the request and queues a job for more; 2.3 always queues a job.
            pub fn delete_matching(
                &self,
                filter: ::atrocore_runtime::Filter<#type_name>,
            ) -> ::atrocore_runtime::MassDelete {
                self.client.mass_delete(#wire_name, ::atrocore_runtime::MassSelection::Filter(filter.into_where()))
            }
            /// Deletes the records `ids` (to the trash; `.permanently(true)` for good).
            pub fn delete_ids<S: ::atrocore_runtime::AsId<#id_ty>>(
                &self,
                ids: &[S],
            ) -> ::atrocore_runtime::MassDelete {
                let ids = ids.iter().map(|id| id.id_str().to_owned()).collect();
                self.client.mass_delete(#wire_name, ::atrocore_runtime::MassSelection::Ids(ids))
            }
        });
    }
    if e.has_attributes {
        methods.extend(quote! {
            /// The attribute values of the record `id`: list them typed (value by attribute type,
            /// units, per-language values), add, upsert (a no-op is `WriteOutcome::NotModified`)
            /// and remove attributes.
            pub fn attributes(&self, id: impl ::atrocore_runtime::AsId<#id_ty>) -> ::atrocore_runtime::RecordAttributes {
                self.client.attributes::<#type_name>(id.id_str())
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
        let link_matching_method = ident(&l.link_matching_method);
        let unlink_all_method = ident(&l.unlink_all_method);
        let link_matching_doc = doc_lines(&format!(
            "Links to the `{wire_name}` `id`, through `{link}`, every `{}` record that matches \
             `filter` (the server selects them; an empty filter matches every record).",
            l.target
        ));
        let unlink_all_doc = doc_lines(&format!(
            "Unlinks every `{}` record from the `{wire_name}` `id` (`{link}`); they stay.",
            l.target
        ));
        let cfg = cfg_feature(l.target_feature.as_deref());
        let target_id = cx.named(l.target_id, false);
        methods.extend(quote! {
            #doc
            #cfg
            pub fn #method(&self, id: impl ::atrocore_runtime::AsId<#id_ty>) -> ::atrocore_runtime::ListRequest<crate::#module::#ty> {
                self.client.linked::<crate::#module::#ty>(#wire_name, id.id_str(), #link)
            }
            #link_doc
            #cfg
            pub fn #link_method<S: ::atrocore_runtime::AsId<#target_id>>(
                &self,
                id: impl ::atrocore_runtime::AsId<#id_ty>,
                ids: &[S],
            ) -> ::atrocore_runtime::Operation<()> {
                let ids: Vec<&str> = ids.iter().map(::atrocore_runtime::AsId::id_str).collect();
                self.client.link_records(#wire_name, id.id_str(), #link, &ids)
            }
            #unlink_doc
            #cfg
            pub fn #unlink_method<S: ::atrocore_runtime::AsId<#target_id>>(
                &self,
                id: impl ::atrocore_runtime::AsId<#id_ty>,
                ids: &[S],
            ) -> ::atrocore_runtime::Operation<()> {
                let ids: Vec<&str> = ids.iter().map(::atrocore_runtime::AsId::id_str).collect();
                self.client.unlink_records(#wire_name, id.id_str(), #link, &ids)
            }
            #link_matching_doc
            #cfg
            pub fn #link_matching_method(
                &self,
                id: impl ::atrocore_runtime::AsId<#id_ty>,
                filter: ::atrocore_runtime::Filter<crate::#module::#ty>,
            ) -> ::atrocore_runtime::Operation<()> {
                self.client.link_matching(#wire_name, id.id_str(), #link, &filter.into_where())
            }
            #unlink_all_doc
            #cfg
            pub fn #unlink_all_method(&self, id: impl ::atrocore_runtime::AsId<#id_ty>) -> ::atrocore_runtime::Operation<()> {
                self.client.unlink_all(#wire_name, id.id_str(), #link)
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
    let handle = api_handle(&e.api_type, &format!("`{wire_name}` records"), methods);
    let types = type_defs(cx, &e.types);
    let shared_uses = shared_uses(&e.shared_uses);
    let links_mod = link_keys_module(&e.link_keys);
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
        #links_mod
    }
}

/// `links`: one key type per link the write structs hold as one field, naming its two keys
/// for the runtime's `LinkOne`/`LinkMany`.
fn link_keys_module(keys: &[LinkField]) -> TokenStream {
    if keys.is_empty() {
        return TokenStream::new();
    }
    let items = keys.iter().map(|k| {
        let name = ident(&k.keys);
        let (id, link) = (&k.id_wire, &k.link_wire);
        let doc = doc_lines(&format!("The link `{link}`: `{id}` or `{link}`."));
        quote! {
            #doc
            #[derive(Debug)]
            pub enum #name {}
            impl ::atrocore_runtime::LinkKeys for #name {
                const ID: &'static str = #id;
                const LINK: &'static str = #link;
            }
        }
    });
    let links = ident(crate::naming::LINKS_MODULE);
    quote! {
        /// The links the create and update structs hold as one field (ids or find-or-create).
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
    let handle = api_handle(&g.api_type, &format!("the `{}` routes", g.tag), methods);
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
