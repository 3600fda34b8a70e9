//! `where` filters: the untyped [`Where`] tree, the typed [`Filter<E>`] built from field
//! handles, and their encoding in PHP bracket notation.
//!
//! A `where` is a list of conditions that must all hold. A condition has an operator `type`,
//! usually an `attribute` (the field name, or an attribute id when `isAttribute` is set) and a
//! `value`; the groups `and`, `or` and `not` hold a list of conditions as their value:
//!
//! ```text
//! where[0][type]=or
//! where[0][value][0][type]=equals&where[0][value][0][attribute]=name&where[0][value][0][value]=x
//! where[0][value][1][type]=isNull&where[0][value][1][attribute]=code
//! ```
//!
//! Generated crates give each entity field a handle of the right kind ([`TextField`],
//! [`NumberField`], …) whose operators return a [`Filter<E>`]; a `Filter<E>` fits only lists of
//! `E`. For names known only at run time, build a [`Where`] and wrap it with [`Filter::raw`].

mod enums;
mod handles;
mod server_form;
mod tree;
mod typed;

pub use enums::{EnumField, EnumValue};
pub use handles::{
    AnyField, ArrayField, AttributeFilter, BoolField, DateBound, DateField, DateTimeField,
    LinkField, NumberField, NumberValue, TextField,
};
pub(crate) use server_form::server_form;
pub use tree::{Condition, Where, WhereValue};
pub use typed::{Filter, and, not, or};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Product;
    const NAME: TextField<Product> = TextField::new("name");
    const PRICE: NumberField<Product> = NumberField::new("price");
    const ACTIVE: BoolField<Product> = BoolField::new("isActive");
    const CREATED: DateTimeField<Product> = DateTimeField::new("createdAt");
    const TAGS: ArrayField<Product> = ArrayField::new("tags");
    const CATS: LinkField<Product> = LinkField::new("categories");

    fn qs(f: Filter<Product>) -> String {
        f.into_where()
            .to_query_pairs("where")
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn single_condition() {
        assert_eq!(
            qs(NAME.equals("x")),
            "where[0][type]=equals&where[0][attribute]=name&where[0][value]=x"
        );
        assert_eq!(
            qs(NAME.is_null()),
            "where[0][type]=isNull&where[0][attribute]=name"
        );
    }

    #[test]
    fn and_is_a_flat_list() {
        assert_eq!(
            qs(NAME.like("%a%") & ACTIVE.is_true()),
            "where[0][type]=like&where[0][attribute]=name&where[0][value]=%a%\
             &where[1][type]=isTrue&where[1][attribute]=isActive"
        );
    }

    #[test]
    fn or_nests_and_flattens() {
        let f = NAME.equals("a") | NAME.equals("b") | PRICE.between(1, 2.5);
        assert_eq!(
            qs(f),
            "where[0][type]=or\
             &where[0][value][0][type]=equals&where[0][value][0][attribute]=name&where[0][value][0][value]=a\
             &where[0][value][1][type]=equals&where[0][value][1][attribute]=name&where[0][value][1][value]=b\
             &where[0][value][2][type]=between&where[0][value][2][attribute]=price\
             &where[0][value][2][value][0]=1&where[0][value][2][value][1]=2.5"
        );
    }

    #[test]
    fn or_of_conjunctions_groups_them() {
        let f = (NAME.equals("a") & ACTIVE.is_true()).or(PRICE.is_null());
        let j = f.into_where().to_json();
        assert_eq!(j[0]["type"], "or");
        assert_eq!(j[0]["value"][0]["type"], "and");
        assert_eq!(j[0]["value"][0]["value"][1]["type"], "isTrue");
        assert_eq!(j[0]["value"][1]["type"], "isNull");
    }

    #[test]
    fn not_and_empty_rules() {
        let j = (!NAME.in_(["a", "b"])).into_where().to_json();
        assert_eq!(
            j,
            json!([{"type": "not", "value": [{"type": "in", "attribute": "name", "value": ["a", "b"]}]}])
        );
        let empty = Filter::<Product>::new();
        assert!(empty.clone().and(Filter::new()).is_empty());
        assert!(
            empty.clone().or(NAME.equals("x")).is_empty(),
            "x or everything"
        );
        assert_eq!(Filter::<Product>::any([]), Filter::none());
        assert_eq!(empty.not(), Filter::none());
        assert_eq!(
            Filter::all([NAME.equals("a"), PRICE.equals(1)])
                .as_where()
                .conditions()
                .len(),
            2
        );
        assert_eq!(
            and(NAME.equals("a"), PRICE.equals(1)),
            NAME.equals("a") & PRICE.equals(1)
        );
        assert_eq!(
            or(NAME.equals("a"), PRICE.equals(1)),
            NAME.equals("a") | PRICE.equals(1)
        );
        assert_eq!(not(NAME.equals("a")), !NAME.equals("a"));
    }

    #[test]
    fn kinds() {
        assert_eq!(
            CREATED.last_x_days(7).into_where().to_json(),
            json!([{"type": "lastXDays", "attribute": "createdAt", "value": 7, "dateTime": true}])
        );
        assert_eq!(
            qs(TAGS.array_any_of(["x"])),
            "where[0][type]=arrayAnyOf&where[0][attribute]=tags&where[0][value][0]=x"
        );
        assert_eq!(
            qs(CATS.linked_with(["c1", "c2"])),
            "where[0][type]=linkedWith&where[0][attribute]=categories&where[0][value][0]=c1&where[0][value][1]=c2"
        );
        assert_eq!(
            qs(ACTIVE.equals(false)),
            "where[0][type]=isFalse&where[0][attribute]=isActive"
        );
        assert_eq!(
            qs(AnyField::<Product>::new("x").op("similar", "abc")),
            "where[0][type]=similar&where[0][attribute]=x&where[0][value]=abc"
        );
        assert_eq!(
            qs(PRICE.equals(f64::NAN)),
            "where[0][type]=equals&where[0][attribute]=price"
        );
    }

    #[test]
    fn empty_lists_are_decided_locally() {
        let none: [&str; 0] = [];
        assert_eq!(NAME.in_(none), Filter::none());
        assert!(NAME.not_in(none).is_empty());
        assert_eq!(CATS.linked_with(none), Filter::none());
        assert!(CATS.not_linked_with(none).is_empty());
        assert_eq!(TAGS.array_any_of(none), Filter::none());
        assert!(TAGS.array_none_of(none).is_empty());
        assert_eq!(PRICE.in_(Vec::<i32>::new()), Filter::none());
        assert_eq!(Filter::<Product>::attribute("a").in_(none), Filter::none());
        assert!(Filter::<Product>::attribute("a").not_in(none).is_empty());
        assert_eq!(
            qs(Filter::none()),
            "where[0][type]=isNull&where[0][attribute]=id"
        );
    }

    #[test]
    fn attribute_conditions() {
        assert_eq!(
            qs(Filter::attribute("a01").greater_than(3)),
            "where[0][type]=greaterThan&where[0][attribute]=a01&where[0][value]=3&where[0][isAttribute]=1"
        );
    }

    #[test]
    fn where_json_round_trip() {
        let w = (NAME.equals("a") | !(PRICE.in_([1, 2]) & Filter::attribute("a1").is_true()))
            .into_where()
            .with(
                Condition::new("equals")
                    .attribute("x")
                    .value(true)
                    .with("language", "de_DE"),
            );
        let j = serde_json::to_value(&w).unwrap();
        let back: Where = serde_json::from_value(j.clone()).unwrap();
        assert_eq!(back, w);
        assert_eq!(serde_json::to_value(&back).unwrap(), j);
    }

    #[test]
    fn from_json_reads_php_style_flags() {
        let w = Where::from_json(json!([
            {"type": "equals", "attribute": "a", "value": "x", "isAttribute": "false"},
            {"type": "equals", "attribute": "b", "value": "x", "isAttribute": "0"},
            {"type": "or", "value": [{"type": "isNull", "attribute": "c"}]},
        ]))
        .unwrap();
        assert!(
            w.conditions()[0].is_attribute,
            "PHP: !empty(\"false\") is true"
        );
        assert!(!w.conditions()[1].is_attribute);
        assert!(matches!(
            w.conditions()[2].value,
            Some(WhereValue::Conditions(_))
        ));
        assert!(Where::from_json(json!([{"attribute": "a"}])).is_err());
        assert!(Where::from_json(json!("x")).is_err());
    }
}
