//! One route: its method on the module's API handle (an `Operation<T>`) and its params struct.

use super::ctx::*;
use super::doc::*;
use super::types::*;

pub(super) fn method_tokens(m: Method) -> TokenStream {
    match m {
        Method::Get => quote!(::atrocore_runtime::Method::GET),
        Method::Post => quote!(::atrocore_runtime::Method::POST),
        Method::Put => quote!(::atrocore_runtime::Method::PUT),
        Method::Patch => quote!(::atrocore_runtime::Method::PATCH),
        Method::Delete => quote!(::atrocore_runtime::Method::DELETE),
    }
}

pub(super) fn op_doc_tokens(doc: &OpDoc) -> TokenStream {
    let route = format!("`{}`", doc.route);
    docs(&[doc.text.as_deref(), Some(&route)])
}

/// A typed method for one route, and its params struct if any.
pub(super) fn operation(op: &Operation, cx: Ctx) -> (TokenStream, TokenStream) {
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
                } else if let Type::Named(id) = t {
                    let id_ty = cx.named(*id, false);
                    args.push(quote!(#i: impl ::atrocore_runtime::AsId<#id_ty>));
                    fmt_args.push(quote!(::atrocore_runtime::encode_path_segment(#i.id_str())));
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
            params_def = params_struct(cx, pt, &doc, &op.params);
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
        let t = arg_ty(cx, &body.ty);
        args.push(quote!(body: #t));
        body_call = quote!(let request = request.json(body););
    }
    let (ret, make) = match &op.response {
        Response::Json(t) => {
            let t = ty(cx, t);
            (quote!(#t), quote!(json))
        }
        Response::Empty => (quote!(()), quote!(empty)),
        Response::WriteOutcome => (quote!(::atrocore_runtime::WriteOutcome), quote!(outcome)),
        Response::RemovedAttributes => (
            quote!(::atrocore_runtime::RemovedAttributes),
            quote!(removed_attributes),
        ),
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
pub(super) fn params_struct(cx: Ctx, name: &str, doc: &str, params: &[Param]) -> TokenStream {
    let pt_ident = ident(name);
    let mut fields = TokenStream::new();
    let mut all_default = true;
    for p in params {
        let f = ident(&p.ident);
        let t = ty(cx, &p.ty);
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
            all_default &= cx.types.has_default(&p.ty);
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
