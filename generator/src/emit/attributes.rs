//! An entity's typed attributes (`--attributes`): the module `attr` with one handle function
//! per attribute, an enum per option list, and `Values`, a record's values read from its
//! flattened form. What the handles do is the runtime's (`typed_attributes`).

use super::ctx::*;
use super::doc::*;

/// The module `attr` of `e`, or nothing when it has no typed attributes.
pub(super) fn attr_module(e: &Entity) -> TokenStream {
    if e.attributes.is_empty() {
        return TokenStream::new();
    }
    let entity = ident(&e.type_name);
    let mut items = TokenStream::new();
    let mut fields = TokenStream::new();
    let mut reads = TokenStream::new();
    for a in &e.attributes {
        let function = ident(&a.function);
        let code = a.code.as_str();
        let doc = doc_lines(&a.doc);
        let (kind, value) = match &a.kind {
            AttributeKind::Float => (quote!(kind::Float), quote!(f64)),
            AttributeKind::Int => (quote!(kind::Int), quote!(i64)),
            AttributeKind::Bool => (quote!(kind::Bool), quote!(bool)),
            AttributeKind::Text => (quote!(kind::Text), quote!(::std::string::String)),
            AttributeKind::Date => (quote!(kind::Date), quote!(::atrocore_runtime::Date)),
            AttributeKind::DateTime => {
                (quote!(kind::DateTime), quote!(::atrocore_runtime::DateTime))
            }
            AttributeKind::Enum { type_name, options } => {
                items.extend(option_enum(code, type_name, options));
                let t = ident(type_name);
                (quote!(kind::Enum<#t>), quote!(#t))
            }
            AttributeKind::MultiEnum { type_name, options } => {
                items.extend(option_enum(code, type_name, options));
                let t = ident(type_name);
                (quote!(kind::MultiEnum<#t>), quote!(::std::vec::Vec<#t>))
            }
            AttributeKind::Untyped => (
                quote!(kind::Untyped),
                quote!(::atrocore_runtime::serde_json::Value),
            ),
        };
        items.extend(quote! {
            #doc
            pub const fn #function() -> Attr<super::#entity, #kind> {
                Attr::new(#code)
            }
        });
        let field_doc = doc_lines(&format!("The value of `{code}` (see [`{}`]).", a.function));
        fields.extend(quote! {
            #field_doc
            pub #function: ::std::option::Option<#value>,
        });
        reads.extend(if a.kind == AttributeKind::Untyped {
            quote!(#function: #function().get(flat),)
        } else {
            quote!(#function: #function().get(flat)?,)
        });
    }
    let module_doc = own_inner_doc(&format!(
        "The `{}` attributes of the instance the crate was generated from, by code: filters \
         (`attr::weight().greater_than(2.5)`), writes (`set`, sent with `set_attributes`) and \
         reads (`Values::of`, or a handle's `get`) from a record read with \
         `.flatten_attributes(true)`. Codes are looked up on the instance a client talks to, \
         so the crate works against any instance with the same attribute codes.",
        e.name
    ));
    quote! {
        pub mod attr {
            #module_doc
            #[allow(unused_imports)]
            use ::atrocore_runtime::typed_attributes::{Attr, AttrOption, kind};

            #items

            /// A record's attribute values by attribute (`None`: the record lacks the attribute
            /// or has no value; multilingual ones in the main language).
            #[derive(Debug, Clone, Default, PartialEq)]
            #[non_exhaustive]
            pub struct Values {
                #fields
            }

            impl Values {
                /// The values of a record read with `.flatten_attributes(true)`; an error names
                /// an attribute whose value does not have the type the crate was generated
                /// with.
                pub fn of(flat: &::atrocore_runtime::FlatAttributes) -> ::atrocore_runtime::Result<Self> {
                    Ok(Self { #reads })
                }
            }
        }
    }
}

/// The enum of an option list, with `Other` for options the crate does not know.
fn option_enum(code: &str, type_name: &str, options: &[AttributeOption]) -> TokenStream {
    let t = ident(type_name);
    let doc = doc_lines(&format!("The options of `{code}`."));
    let variants = options.iter().map(|o| {
        let v = ident(&o.variant);
        let d = doc_lines(&match &o.label {
            Some(l) if *l != o.wire => format!("`{}`: {l}.", o.wire),
            _ => format!("`{}`.", o.wire),
        });
        quote!(#d #v,)
    });
    let wires = options.iter().map(|o| {
        let (v, w) = (ident(&o.variant), o.wire.as_str());
        quote!(Self::#v => #w,)
    });
    let froms = options.iter().map(|o| {
        let (v, w) = (ident(&o.variant), o.wire.as_str());
        quote!(#w => Self::#v,)
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #t {
            #(#variants)*
            /// An option the crate was not generated with.
            Other(::std::string::String),
        }

        impl AttrOption for #t {
            fn wire(&self) -> &str {
                match self {
                    #(#wires)*
                    Self::Other(other) => other,
                }
            }

            fn from_wire(wire: &str) -> Self {
                match wire {
                    #(#froms)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }
    }
}
