//! AtroCore's field types as its instance metadata names them (`entityDefs.E.fields.f.type`),
//! and how a client handles each ([`Kind`]): the one model the code generator and the
//! command-line tool share, so they agree on what a field holds.
//!
//! The types are those AtroCore defines in `app/Atro/Resources/metadata/fields/*.json` at
//! 2.2.31 (2.3.13 and 2.3.16-beta14 have the same set without `extensibleEnum` and
//! `extensibleMultiEnum`), plus `image` and `asset` (file fields of older DAM modules). A type
//! of a module this list does not know is [`FieldType::Other`], kept by name and handled as
//! [`Kind::Other`].
//!
//! ```
//! use atrocore_kinds::{FieldType, Kind};
//!
//! assert_eq!(FieldType::parse("autoincrement").kind(), Kind::Int);
//! assert_eq!(FieldType::parse("file").kind(), Kind::Link);
//! assert_eq!(FieldType::parse("file").as_str(), "file");
//! assert_eq!(FieldType::parse("rgbTriplet"), FieldType::Other("rgbTriplet".into()));
//! ```

/// A field's `type` in the instance metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// `varchar`: one line of text.
    Varchar,
    /// `text`: text of many lines.
    Text,
    /// `wysiwyg`: HTML.
    Wysiwyg,
    /// `markdown`.
    Markdown,
    /// `email`.
    Email,
    /// `url`.
    Url,
    /// `color`.
    Color,
    /// `colorpicker`.
    Colorpicker,
    /// `password` (never read back).
    Password,
    /// `language`: a language code.
    Language,
    /// `script`: text computed by a script.
    Script,
    /// `enum`: one of `options`.
    Enum,
    /// `enumInt`: one of integer `options`.
    EnumInt,
    /// `enumFloat`: one of number `options`.
    EnumFloat,
    /// `extensibleEnum`: one option of a list of its own (2.2).
    ExtensibleEnum,
    /// `multiEnum`: some of `options`.
    MultiEnum,
    /// `extensibleMultiEnum`: some options of a list of its own (2.2).
    ExtensibleMultiEnum,
    /// `array`: a list of text.
    Array,
    /// `arrayInt`: a list of integers.
    ArrayInt,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `autoincrement`: an integer the server counts up.
    Autoincrement,
    /// `duration`: seconds, as an integer.
    Duration,
    /// `float`.
    Float,
    /// `date` (`Y-m-d`).
    Date,
    /// `datetime` (`Y-m-d H:i:s`).
    DateTime,
    /// `datetimeOptional`: a date, or a date and time.
    DateTimeOptional,
    /// `link`: one record, its id in `<field>Id`.
    Link,
    /// `linkMultiple`: many records, their ids in `<field>Ids`.
    LinkMultiple,
    /// `file`: one `File` record, its id in `<field>Id`.
    File,
    /// `image`: a file field of older DAM modules.
    Image,
    /// `asset`: a file field of older DAM modules.
    Asset,
    /// `linkParent`: a record of any entity (`<field>Id` and `<field>Type`).
    LinkParent,
    /// `jsonObject`.
    JsonObject,
    /// `jsonArray`.
    JsonArray,
    /// `map`: a JSON object.
    Map,
    /// `foreign`: a field of a linked record, read only.
    Foreign,
    /// `measure`: a value with a unit (`<field>UnitId`).
    Measure,
    /// `rangeInt`: two integers (`<field>From`, `<field>To`).
    RangeInt,
    /// `rangeFloat`: two numbers (`<field>From`, `<field>To`).
    RangeFloat,
    /// `multiLanguage`: a group of per-language fields.
    MultiLanguage,
    /// `base`: the abstract type others extend.
    Base,
    /// A type of a module this list does not know (or none), by name.
    Other(String),
}

/// How a client handles a field's value. Exhaustive on purpose: a new kind must be handled by
/// every consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Text (also enums: one option as text).
    Text,
    /// A whole number.
    Int,
    /// A number.
    Float,
    /// `true` or `false`.
    Bool,
    /// A date (`Y-m-d`).
    Date,
    /// A date and time (`Y-m-d H:i:s`).
    DateTime,
    /// One linked record: its id in `<field>Id`.
    Link,
    /// Many linked records: their ids in `<field>Ids`.
    LinkMultiple,
    /// A list of values.
    Array,
    /// JSON, as sent.
    Json,
    /// Anything else (several columns, computed, unknown): passed through unchecked.
    Other,
}

/// Wire names of the known types.
const NAMES: &[(&str, FieldType)] = &[
    ("varchar", FieldType::Varchar),
    ("text", FieldType::Text),
    ("wysiwyg", FieldType::Wysiwyg),
    ("markdown", FieldType::Markdown),
    ("email", FieldType::Email),
    ("url", FieldType::Url),
    ("color", FieldType::Color),
    ("colorpicker", FieldType::Colorpicker),
    ("password", FieldType::Password),
    ("language", FieldType::Language),
    ("script", FieldType::Script),
    ("enum", FieldType::Enum),
    ("enumInt", FieldType::EnumInt),
    ("enumFloat", FieldType::EnumFloat),
    ("extensibleEnum", FieldType::ExtensibleEnum),
    ("multiEnum", FieldType::MultiEnum),
    ("extensibleMultiEnum", FieldType::ExtensibleMultiEnum),
    ("array", FieldType::Array),
    ("arrayInt", FieldType::ArrayInt),
    ("bool", FieldType::Bool),
    ("int", FieldType::Int),
    ("autoincrement", FieldType::Autoincrement),
    ("duration", FieldType::Duration),
    ("float", FieldType::Float),
    ("date", FieldType::Date),
    ("datetime", FieldType::DateTime),
    ("datetimeOptional", FieldType::DateTimeOptional),
    ("link", FieldType::Link),
    ("linkMultiple", FieldType::LinkMultiple),
    ("file", FieldType::File),
    ("image", FieldType::Image),
    ("asset", FieldType::Asset),
    ("linkParent", FieldType::LinkParent),
    ("jsonObject", FieldType::JsonObject),
    ("jsonArray", FieldType::JsonArray),
    ("map", FieldType::Map),
    ("foreign", FieldType::Foreign),
    ("measure", FieldType::Measure),
    ("rangeInt", FieldType::RangeInt),
    ("rangeFloat", FieldType::RangeFloat),
    ("multiLanguage", FieldType::MultiLanguage),
    ("base", FieldType::Base),
];

impl FieldType {
    /// The type named `name` (`"linkMultiple"`); an unknown name is [`FieldType::Other`].
    pub fn parse(name: &str) -> FieldType {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| FieldType::Other(name.to_owned()), |(_, t)| t.clone())
    }

    /// The wire name (`"linkMultiple"`).
    pub fn as_str(&self) -> &str {
        match self {
            FieldType::Other(name) => name,
            known => NAMES
                .iter()
                .find(|(_, t)| t == known)
                .map_or("", |(n, _)| n),
        }
    }

    /// How a client handles the field's value.
    pub fn kind(&self) -> Kind {
        use FieldType as T;
        match self {
            T::Varchar
            | T::Text
            | T::Wysiwyg
            | T::Markdown
            | T::Email
            | T::Url
            | T::Color
            | T::Colorpicker
            | T::Password
            | T::Language
            | T::Script
            | T::Enum
            | T::ExtensibleEnum => Kind::Text,
            T::Int | T::Autoincrement | T::Duration | T::EnumInt => Kind::Int,
            T::Float | T::EnumFloat => Kind::Float,
            T::Bool => Kind::Bool,
            T::Date => Kind::Date,
            T::DateTime | T::DateTimeOptional => Kind::DateTime,
            T::Link | T::File | T::Image | T::Asset => Kind::Link,
            T::LinkMultiple => Kind::LinkMultiple,
            T::Array | T::ArrayInt | T::MultiEnum | T::ExtensibleMultiEnum => Kind::Array,
            T::JsonObject | T::JsonArray | T::Map => Kind::Json,
            T::LinkParent
            | T::Foreign
            | T::Measure
            | T::RangeInt
            | T::RangeFloat
            | T::MultiLanguage
            | T::Base
            | T::Other(_) => Kind::Other,
        }
    }

    /// A field that holds one of a list of options (`enum`, `extensibleEnum`, `enumInt`,
    /// `enumFloat`).
    pub fn is_single_option(&self) -> bool {
        matches!(
            self,
            FieldType::Enum | FieldType::ExtensibleEnum | FieldType::EnumInt | FieldType::EnumFloat
        )
    }

    /// A field whose value is a record of `File` (`file`, and `image`/`asset` of older modules):
    /// a link whose name AtroCore also sends (`<field>Name`).
    pub fn is_file(&self) -> bool {
        matches!(self, FieldType::File | FieldType::Image | FieldType::Asset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type, its kind: the table both the generator and the CLI follow.
    #[test]
    fn the_table() {
        let table: &[(&str, Kind)] = &[
            ("varchar", Kind::Text),
            ("text", Kind::Text),
            ("wysiwyg", Kind::Text),
            ("markdown", Kind::Text),
            ("email", Kind::Text),
            ("url", Kind::Text),
            ("color", Kind::Text),
            ("colorpicker", Kind::Text),
            ("password", Kind::Text),
            ("language", Kind::Text),
            ("script", Kind::Text),
            ("enum", Kind::Text),
            ("enumInt", Kind::Int),
            ("enumFloat", Kind::Float),
            ("extensibleEnum", Kind::Text),
            ("multiEnum", Kind::Array),
            ("extensibleMultiEnum", Kind::Array),
            ("array", Kind::Array),
            ("arrayInt", Kind::Array),
            ("bool", Kind::Bool),
            ("int", Kind::Int),
            ("autoincrement", Kind::Int),
            ("duration", Kind::Int),
            ("float", Kind::Float),
            ("date", Kind::Date),
            ("datetime", Kind::DateTime),
            ("datetimeOptional", Kind::DateTime),
            ("link", Kind::Link),
            ("linkMultiple", Kind::LinkMultiple),
            ("file", Kind::Link),
            ("image", Kind::Link),
            ("asset", Kind::Link),
            ("linkParent", Kind::Other),
            ("jsonObject", Kind::Json),
            ("jsonArray", Kind::Json),
            ("map", Kind::Json),
            ("foreign", Kind::Other),
            ("measure", Kind::Other),
            ("rangeInt", Kind::Other),
            ("rangeFloat", Kind::Other),
            ("multiLanguage", Kind::Other),
            ("base", Kind::Other),
            ("currency", Kind::Other),
            ("", Kind::Other),
        ];
        for (name, kind) in table {
            let t = FieldType::parse(name);
            assert_eq!(t.kind(), *kind, "{name}");
            assert_eq!(t.as_str(), *name, "{name} round-trips");
        }
        // Every known type is in the table.
        for (name, _) in NAMES {
            assert!(
                table.iter().any(|(n, _)| n == name),
                "{name} is in the table"
            );
        }
    }
}
