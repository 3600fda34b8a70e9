//! Shapes every generated entity module repeats, written once: a generated module names each
//! field's filter in one line, and a struct's serde impls in one line each (its fields are
//! written and read by its `EncodeFields`/`DecodeFields` impls, which stay in the generated
//! code: they are what is specific to it). `#[doc(hidden)]`: generated code calls them, users
//! see what they expand to.

/// One filter function of an entity's `filter` module: `field_filter!(Entity, name, Handle,
/// "wire")` becomes `pub const fn name() -> Handle<Entity>` (conditions on that field); an enum
/// field's handle takes its value type, `field_filter!(Entity, status, EnumField(Status),
/// "status")`. Generated modules call it once per field, one line each.
///
/// ```
/// pub struct Brand;
/// # impl atrocore_runtime::Entity for Brand { const NAME: &'static str = "Brand"; type Record = serde_json::Value; type Field = F; type Id = atrocore_runtime::Id<Brand>; }
/// # #[derive(Clone, Copy)] pub enum F { Id }
/// # impl atrocore_runtime::EntityField for F { fn name(self) -> &'static str { "id" } }
/// pub mod filter {
///     use atrocore_runtime::field_filter;
///     field_filter!(super::Brand, name, TextField, "name");
///     field_filter!(super::Brand, is_active, BoolField, "isActive");
/// }
///
/// fn main() {
///     let w = filter::name().equals("Acme") & filter::is_active().is_true();
///     assert_eq!(w.into_where().to_json()[0]["attribute"], "name");
/// }
/// ```
///
/// The doc comment says the wire name; a generated module passes it as a last argument
/// (`doc = "…"`, already escaped) when the name holds anything but letters, digits and `_`,
/// so that no spec text reaches a doc comment unescaped.
#[doc(hidden)]
#[macro_export]
macro_rules! field_filter {
    ($entity:ty, $name:ident, $handle:ident ($value:ty), $wire:literal, doc = $doc:literal) => {
        #[doc = $doc]
        pub const fn $name() -> $crate::$handle<$entity, $value> {
            $crate::$handle::new($wire)
        }
    };
    ($entity:ty, $name:ident, $handle:ident, $wire:literal, doc = $doc:literal) => {
        #[doc = $doc]
        pub const fn $name() -> $crate::$handle<$entity> {
            $crate::$handle::new($wire)
        }
    };
    ($entity:ty, $name:ident, $handle:ident ($value:ty), $wire:literal) => {
        #[doc = concat!("Conditions on `", $wire, "`.")]
        pub const fn $name() -> $crate::$handle<$entity, $value> {
            $crate::$handle::new($wire)
        }
    };
    ($entity:ty, $name:ident, $handle:ident, $wire:literal) => {
        #[doc = concat!("Conditions on `", $wire, "`.")]
        pub const fn $name() -> $crate::$handle<$entity> {
            $crate::$handle::new($wire)
        }
    };
}

/// `Serialize` for a type that implements [`EncodeFields`](crate::fields::EncodeFields): a map of
/// its fields, written by the runtime (`fields::encode_fields`).
#[doc(hidden)]
#[macro_export]
macro_rules! serialize_fields {
    ($name:ty) => {
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                $crate::fields::encode_fields(self, serializer)
            }
        }
    };
}

/// `Deserialize` for a type that implements [`DecodeFields`](crate::fields::DecodeFields): read
/// from a map by the runtime's visitor (`fields::decode_fields`).
#[doc(hidden)]
#[macro_export]
macro_rules! deserialize_fields {
    ($name:ty) => {
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::fields::decode_fields(deserializer)
            }
        }
    };
}

/// `Display`, [`EnumValue`](crate::EnumValue), `Serialize` and `Deserialize` of a generated enum
/// of wire values (one with `as_str(&self) -> &str` and `From<&str>`, unknown values kept in
/// `Other`): it is written and read as its wire string.
#[doc(hidden)]
#[macro_export]
macro_rules! wire_enum {
    ($name:ty) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl $crate::EnumValue for $name {
            fn wire_value(&self) -> &str {
                self.as_str()
            }
        }
        impl $crate::serde::Serialize for $name {
            fn serialize<S: $crate::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> $crate::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let value =
                    <::std::borrow::Cow<'de, str> as $crate::serde::Deserialize>::deserialize(
                        deserializer,
                    )?;
                ::std::result::Result::Ok(<$name>::from(&*value))
            }
        }
    };
}
