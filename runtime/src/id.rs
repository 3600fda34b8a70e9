//! Typed record ids: `Id<E>` is the id of a record of the entity `E` (a marker type generated
//! crates define per entity, `ids::Product`), so a brand's id cannot be passed where a product's
//! is expected. On the wire it is the plain string AtroCore sends.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The id of an `E` record: a string on the wire, a distinct type per entity in Rust.
///
/// Converts cheaply from and to strings (`Id::from("…")`, `String::from(id)`, `id.as_str()`,
/// and `&*id` as a `&str`); compares, hashes and orders as its text.
///
/// A method that takes a product's id does not take a brand's:
///
/// ```compile_fail
/// use atrocore_runtime::{AsId, Id};
/// enum Product {}
/// enum Brand {}
/// fn read_product(id: impl AsId<Id<Product>>) -> String {
///     id.id_str().to_owned()
/// }
/// let brand_id: Id<Brand> = Id::from("b1");
/// read_product(&brand_id);
/// ```
///
/// while the same call with a product's id, or with text, compiles:
///
/// ```
/// use atrocore_runtime::{AsId, Id};
/// enum Product {}
/// fn read_product(id: impl AsId<Id<Product>>) -> String {
///     id.id_str().to_owned()
/// }
/// let product_id: Id<Product> = Id::from("p1");
/// assert_eq!(read_product(&product_id), "p1");
/// assert_eq!(read_product("p2"), "p2");
/// ```
pub struct Id<E> {
    value: String,
    // `fn() -> E`: the marker is never held, so `Id<E>` is `Send`, `Sync` and `Unpin` whatever
    // `E` is.
    entity: PhantomData<fn() -> E>,
}

impl<E> Id<E> {
    /// An id from its text.
    pub fn new(value: impl Into<String>) -> Self {
        Id {
            value: value.into(),
            entity: PhantomData,
        }
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The id's text, owned.
    pub fn into_string(self) -> String {
        self.value
    }

    /// The same text as the id of another entity: for ids the types cannot follow (a link whose
    /// target the metadata does not name, an id read from elsewhere).
    pub fn cast<F>(self) -> Id<F> {
        Id::new(self.value)
    }
}

impl<E> Clone for Id<E> {
    fn clone(&self) -> Self {
        Id::new(self.value.clone())
    }
}

impl<E> fmt::Debug for Id<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
    }
}

impl<E> fmt::Display for Id<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<E> PartialEq for Id<E> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<E> Eq for Id<E> {}

impl<E> PartialEq<str> for Id<E> {
    fn eq(&self, other: &str) -> bool {
        self.value == other
    }
}

impl<E> PartialEq<&str> for Id<E> {
    fn eq(&self, other: &&str) -> bool {
        self.value == *other
    }
}

impl<E> PartialEq<String> for Id<E> {
    fn eq(&self, other: &String) -> bool {
        &self.value == other
    }
}

impl<E> PartialEq<Id<E>> for String {
    fn eq(&self, other: &Id<E>) -> bool {
        *self == other.value
    }
}

impl<E> PartialEq<Id<E>> for str {
    fn eq(&self, other: &Id<E>) -> bool {
        *self == other.value
    }
}

impl<E> PartialEq<Id<E>> for &str {
    fn eq(&self, other: &Id<E>) -> bool {
        **self == other.value
    }
}

impl<E> PartialOrd for Id<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Id<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value.cmp(&other.value)
    }
}

impl<E> Hash for Id<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<E> Deref for Id<E> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.value
    }
}

impl<E> AsRef<str> for Id<E> {
    fn as_ref(&self) -> &str {
        &self.value
    }
}

// Hash and Eq agree with `str`'s, so maps keyed by ids can be looked up by text.
impl<E> Borrow<str> for Id<E> {
    fn borrow(&self) -> &str {
        &self.value
    }
}

impl<E> From<String> for Id<E> {
    fn from(value: String) -> Self {
        Id::new(value)
    }
}

impl<E> From<&str> for Id<E> {
    fn from(value: &str) -> Self {
        Id::new(value)
    }
}

impl<E> From<&String> for Id<E> {
    fn from(value: &String) -> Self {
        Id::new(value.as_str())
    }
}

impl<E> From<&Id<E>> for Id<E> {
    fn from(id: &Id<E>) -> Self {
        id.clone()
    }
}

impl<E> From<Id<E>> for String {
    fn from(id: Id<E>) -> Self {
        id.value
    }
}

impl<E> From<&Id<E>> for String {
    fn from(id: &Id<E>) -> Self {
        id.value.clone()
    }
}

impl<E> Serialize for Id<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.value)
    }
}

impl<'de, E> Deserialize<'de> for Id<E> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Id::new)
    }
}

/// What a generated method takes as the id of a record whose id type is `I` (`ProductId`):
/// that id type (owned or borrowed), or text, taken as is. The id of another entity does not
/// fit: `product().read(&brand_id)` does not compile.
pub trait AsId<I> {
    /// The id's text.
    fn id_str(&self) -> &str;
}

impl<E> AsId<Id<E>> for Id<E> {
    fn id_str(&self) -> &str {
        &self.value
    }
}

impl<E> AsId<Id<E>> for &Id<E> {
    fn id_str(&self) -> &str {
        &self.value
    }
}

impl<E> AsId<Id<E>> for &str {
    fn id_str(&self) -> &str {
        self
    }
}

impl<E> AsId<Id<E>> for String {
    fn id_str(&self) -> &str {
        self
    }
}

impl<E> AsId<Id<E>> for &String {
    fn id_str(&self) -> &str {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    enum Product {}
    enum Brand {}

    fn takes_product(id: impl AsId<Id<Product>>) -> String {
        id.id_str().to_owned()
    }

    fn takes_products<S: AsId<Id<Product>>>(ids: &[S]) -> Vec<&str> {
        ids.iter().map(AsId::id_str).collect()
    }

    #[test]
    fn reads_and_writes_plain_strings() {
        let id: Id<Product> = serde_json::from_str("\"p1\"").unwrap();
        assert_eq!(id, "p1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"p1\"");
        assert_eq!(format!("{id} {id:?}"), "p1 \"p1\"");
        assert!(serde_json::from_str::<Id<Product>>("1").is_err());
    }

    #[test]
    fn converts_cheaply_and_looks_up_by_text() {
        let id = Id::<Product>::from("p1");
        assert_eq!(id.len(), 2, "derefs to str");
        assert_eq!(takes_product(&id), "p1");
        assert_eq!(takes_product("p2"), "p2");
        assert_eq!(takes_product(String::from("p3")), "p3");
        assert_eq!(takes_products(std::slice::from_ref(&id)), ["p1"]);
        assert_eq!(takes_products(&["a", "b"]), ["a", "b"]);
        let brand: Id<Brand> = id.clone().cast();
        assert_eq!(brand.as_str(), "p1");
        let mut names = HashMap::new();
        names.insert(id, "Chair");
        assert_eq!(names.get("p1"), Some(&"Chair"));
        assert_eq!(String::from(brand), "p1");
    }
}
