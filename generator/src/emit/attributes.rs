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
            AttributeKind::Enum { type_name, options }
            | AttributeKind::MultiEnum { type_name, options } => {
                items.extend(option_enum(
                    &format!("The options of `{code}`."),
                    type_name,
                    options,
                    quote!(CodeOf::EnumOption),
                ));
                let t = ident(type_name);
                if matches!(a.kind, AttributeKind::Enum { .. }) {
                    (quote!(kind::Enum<#t>), quote!(#t))
                } else {
                    (quote!(kind::MultiEnum<#t>), quote!(::std::vec::Vec<#t>))
                }
            }
            AttributeKind::RangeFloat => (
                quote!(kind::RangeFloat),
                quote!(::atrocore_runtime::typed_attributes::Range<f64>),
            ),
            AttributeKind::RangeInt => (
                quote!(kind::RangeInt),
                quote!(::atrocore_runtime::typed_attributes::Range<i64>),
            ),
            AttributeKind::Untyped => (
                quote!(kind::Untyped),
                quote!(::atrocore_runtime::serde_json::Value),
            ),
        };
        if let Some(units) = a.units.as_ref().filter(|u| u.declared_here) {
            let measure_doc = format!("The units of `{code}`'s measure.");
            items.extend(option_enum(
                &measure_doc,
                &units.type_name,
                &units.units,
                quote!(CodeOf::Unit),
            ));
            let t = ident(&units.type_name);
            items.extend(quote! {
                impl ::std::convert::From<#t> for ::atrocore_runtime::typed_attributes::UnitRef {
                    fn from(unit: #t) -> Self {
                        Self::of(&unit)
                    }
                }
            });
        }
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
            use ::atrocore_runtime::typed_attributes::{Attr, AttrOption, CodeOf, kind};

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

/// The enum of an option list (or of a measure's units), with `Other` for options the crate
/// does not know; options named by code are references to records of `code_of`.
fn option_enum(
    doc: &str,
    type_name: &str,
    options: &[AttributeOption],
    code_of: TokenStream,
) -> TokenStream {
    let t = ident(type_name);
    let doc = doc_lines(doc);
    let variants = options.iter().map(|o| {
        let v = ident(&o.variant);
        let what = if o.by_code { "code " } else { "" };
        let d = doc_lines(&match &o.label {
            Some(l) if *l != o.wire => format!("{what}`{}`: {l}.", o.wire),
            _ => format!("{what}`{}`.", o.wire),
        });
        quote!(#d #v,)
    });
    let by_code: Vec<_> = options
        .iter()
        .filter(|o| o.by_code)
        .map(|o| ident(&o.variant))
        .collect();
    let code_of_fn = if by_code.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            fn code_of(&self) -> ::std::option::Option<CodeOf> {
                match self {
                    #(Self::#by_code)|* => ::std::option::Option::Some(#code_of),
                    _ => ::std::option::Option::None,
                }
            }
        }
    };
    let labels: Vec<_> = options
        .iter()
        .filter_map(|o| {
            let l = o.read_label.as_deref()?;
            let v = ident(&o.variant);
            Some(quote!(#l => ::std::option::Option::Some(Self::#v),))
        })
        .collect();
    let from_label_fn = if labels.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            fn from_label(label: &str) -> ::std::option::Option<Self> {
                match label {
                    #(#labels)*
                    _ => ::std::option::Option::None,
                }
            }
        }
    };
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

            #code_of_fn
            #from_label_fn
        }
    }
}
