//! A link of a create or update body as one field: the linked record's id, or the values the
//! server finds (or creates) it by, never both. AtroCore takes either `brandId` or the
//! find-or-create form `brand` for the same link; a body with both is ambiguous, so the generated
//! write structs hold one [`LinkOne`] (to-one links) or [`LinkMany`] (to-many links) per link,
//! written in place of the two keys (`#[serde(flatten)]`).
//!
//! The wire names of a link come from a key type the generated crate defines per link
//! ([`LinkKeys`]):
//!
//! ```
//! use atrocore_runtime::{Id, LinkKeys, LinkOne, Lookup};
//!
//! enum Brand {}
//! struct BrandKeys;
//! impl LinkKeys for BrandKeys {
//!     const ID: &'static str = "brandId";
//!     const LINK: &'static str = "brand";
//! }
//! #[derive(serde::Serialize)]
//! struct ProductPost {
//!     name: String,
//!     #[serde(flatten, skip_serializing_if = "Option::is_none")]
//!     brand: Option<LinkOne<Id<Brand>, BrandKeys>>,
//! }
//!
//! let by_id = ProductPost { name: "Chair".into(), brand: Some(Id::from("b1").into()) };
//! assert_eq!(serde_json::to_value(&by_id).unwrap(), serde_json::json!({"name": "Chair", "brandId": "b1"}));
//! let by_code = ProductPost {
//!     name: "Chair".into(),
//!     brand: Some(LinkOne::find(Lookup::new().field("code", "acme"))),
//! };
//! assert_eq!(
//!     serde_json::to_value(&by_code).unwrap(),
//!     serde_json::json!({"name": "Chair", "brand": {"code": "acme"}})
//! );
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::link::LinkTo;

/// The wire names of one link of a write body: its id key and its find-or-create key.
pub trait LinkKeys {
    /// The id key (`brandId`, `teamsIds`).
    const ID: &'static str;
    /// The find-or-create key (`brand`, `teams`).
    const LINK: &'static str;
    /// Both, id key first (what serde reads from a flattened body).
    const FIELDS: &'static [&'static str] = &[Self::ID, Self::LINK];
}

/// A link of a write body in one of its forms `V` ([`One`] or [`Many`]), written under the
/// keys of `K`. Use it as [`LinkOne`] or [`LinkMany`].
pub struct Link<V, K> {
    value: V,
    keys: PhantomData<fn() -> K>,
}

/// A to-one link of a write body; `I` is the id type (`BrandId`), `K` the link's [`LinkKeys`].
pub type LinkOne<I, K> = Link<One<I>, K>;

/// A to-many link of a write body; `I` is the id type (`TeamId`), `K` the link's [`LinkKeys`].
pub type LinkMany<I, K> = Link<Many<I>, K>;

/// What a [`LinkOne`] holds.
#[derive(Debug, Clone, PartialEq)]
pub enum One<I> {
    /// The linked record's id (`brandId`).
    Id(I),
    /// The record the server finds by these values, or creates (`brand`).
    FindOrCreate(LinkTo),
    /// No linked record (`brandId: null`): unlinks in an update.
    Clear,
}

/// What a [`LinkMany`] holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Many<I> {
    /// The linked records' ids (`teamsIds`); empty unlinks them all in an update.
    Ids(Vec<I>),
    /// The records the server finds (or creates) one by one (`teams`).
    FindOrCreate(Vec<LinkTo>),
}

impl<V, K> Link<V, K> {
    /// What it holds.
    pub fn value(&self) -> &V {
        &self.value
    }

    fn from_value(value: V) -> Self {
        Link {
            value,
            keys: PhantomData,
        }
    }
}

impl<I, K> Link<One<I>, K> {
    /// The record with this id.
    pub fn id(id: impl Into<I>) -> Self {
        Self::from_value(One::Id(id.into()))
    }

    /// The record the server finds by these values, creating it when none matches.
    pub fn find(lookup: impl Into<LinkTo>) -> Self {
        Self::from_value(One::FindOrCreate(lookup.into()))
    }

    /// No linked record: `brandId: null` (an update unlinks).
    pub fn clear() -> Self {
        Self::from_value(One::Clear)
    }
}

impl<I, K> Link<Many<I>, K> {
    /// The records with these ids.
    pub fn ids<T: Into<I>>(ids: impl IntoIterator<Item = T>) -> Self {
        Self::from_value(Many::Ids(ids.into_iter().map(Into::into).collect()))
    }

    /// The records the server finds by these values, each created when none matches.
    pub fn find<T: Into<LinkTo>>(links: impl IntoIterator<Item = T>) -> Self {
        Self::from_value(Many::FindOrCreate(
            links.into_iter().map(Into::into).collect(),
        ))
    }
}

impl<I, K> From<I> for Link<One<I>, K> {
    fn from(id: I) -> Self {
        Self::from_value(One::Id(id))
    }
}

impl<I, K> From<Vec<I>> for Link<Many<I>, K> {
    fn from(ids: Vec<I>) -> Self {
        Self::from_value(Many::Ids(ids))
    }
}

impl<V: Clone, K> Clone for Link<V, K> {
    fn clone(&self) -> Self {
        Self::from_value(self.value.clone())
    }
}

impl<V: PartialEq, K> PartialEq for Link<V, K> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<V: fmt::Debug, K: LinkKeys> fmt::Debug for Link<V, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}: {:?}", K::ID, K::LINK, self.value)
    }
}

/// How a form of a link is written under one of its two keys.
pub trait LinkForm {
    /// Writes the one entry of this value (`brandId: …` or `brand: …`).
    fn write<M: SerializeMap>(&self, map: &mut M, id: &str, link: &str) -> Result<(), M::Error>;
}

/// How a form of a link is read from one of its two keys.
pub trait ReadLinkForm<'de>: Sized {
    /// Reads the value of the id key.
    fn read_id<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error>;
    /// Reads the value of the find-or-create key.
    fn read_link<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error>;
}

impl<I: Serialize> LinkForm for One<I> {
    fn write<M: SerializeMap>(&self, map: &mut M, id: &str, link: &str) -> Result<(), M::Error> {
        match self {
            One::Id(value) => map.serialize_entry(id, value),
            One::FindOrCreate(value) => map.serialize_entry(link, value),
            One::Clear => map.serialize_entry(id, &()),
        }
    }
}

impl<'de, I: Deserialize<'de>> ReadLinkForm<'de> for One<I> {
    fn read_id<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        Ok(map.next_value::<Option<I>>()?.map_or(One::Clear, One::Id))
    }
    fn read_link<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        map.next_value().map(One::FindOrCreate)
    }
}

impl<I: Serialize> LinkForm for Many<I> {
    fn write<M: SerializeMap>(&self, map: &mut M, id: &str, link: &str) -> Result<(), M::Error> {
        match self {
            Many::Ids(value) => map.serialize_entry(id, value),
            Many::FindOrCreate(value) => map.serialize_entry(link, value),
        }
    }
}

impl<'de, I: Deserialize<'de>> ReadLinkForm<'de> for Many<I> {
    fn read_id<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        Ok(Many::Ids(
            map.next_value::<Option<Vec<I>>>()?.unwrap_or_default(),
        ))
    }
    fn read_link<A: MapAccess<'de>>(map: &mut A) -> Result<Self, A::Error> {
        map.next_value().map(Many::FindOrCreate)
    }
}

impl<V: LinkForm, K: LinkKeys> Link<V, K> {
    /// Writes the link's one key (`brandId` or `brand`) into the map of the struct that holds it
    /// (what generated `Serialize` impls call).
    #[doc(hidden)]
    pub fn write_entry<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        self.value.write(map, K::ID, K::LINK)
    }
}

impl<V: LinkForm, K: LinkKeys> Serialize for Link<V, K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        self.write_entry(&mut map)?;
        map.end()
    }
}

impl<'de, V: ReadLinkForm<'de>, K: LinkKeys> Deserialize<'de> for Link<V, K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LinkVisitor<V, K>(PhantomData<fn() -> (V, K)>);
        impl<'de, V: ReadLinkForm<'de>, K: LinkKeys> Visitor<'de> for LinkVisitor<V, K> {
            type Value = Link<V, K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "`{}` or `{}`", K::ID, K::LINK)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut found: Option<V> = None;
                while let Some(key) = map.next_key::<String>()? {
                    let value = if key == K::ID {
                        V::read_id(&mut map)?
                    } else if key == K::LINK {
                        V::read_link(&mut map)?
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    if found.is_some() {
                        return Err(de::Error::custom(format_args!(
                            "both `{}` and `{}` given for one link",
                            K::ID,
                            K::LINK
                        )));
                    }
                    found = Some(value);
                }
                found
                    .map(Link::from_value)
                    .ok_or_else(|| de::Error::missing_field(K::ID))
            }
        }
        deserializer.deserialize_struct("Link", K::FIELDS, LinkVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Id, Lookup};
    use serde::{Deserialize, Serialize};
    use serde_json::{Map, Value, json};

    enum Brand {}
    enum Team {}
    struct BrandKeys;
    impl LinkKeys for BrandKeys {
        const ID: &'static str = "brandId";
        const LINK: &'static str = "brand";
    }
    struct TeamsKeys;
    impl LinkKeys for TeamsKeys {
        const ID: &'static str = "teamsIds";
        const LINK: &'static str = "teams";
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Post {
        name: String,
        #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
        brand: Option<LinkOne<Id<Brand>, BrandKeys>>,
        #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
        teams: Option<LinkMany<Id<Team>, TeamsKeys>>,
        #[serde(flatten)]
        extra: Map<String, Value>,
    }

    fn post(brand: Option<LinkOne<Id<Brand>, BrandKeys>>) -> Post {
        Post {
            name: "n".into(),
            brand,
            teams: None,
            extra: Map::new(),
        }
    }

    #[test]
    fn writes_one_key_per_link() {
        let p = Post {
            teams: Some(LinkMany::find([LinkTo::named("red"), LinkTo::id("t2")])),
            ..post(Some(LinkOne::clear()))
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"name": "n", "brandId": null, "teams": [{"name": "red"}, {"id": "t2"}]})
        );
        let p = Post {
            teams: Some(LinkMany::ids(["t1"])),
            ..post(Some(LinkOne::id("b1")))
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"name": "n", "brandId": "b1", "teamsIds": ["t1"]})
        );
    }

    #[test]
    fn reads_back_and_refuses_both_forms() {
        let p: Post =
            serde_json::from_value(json!({"name": "n", "brand": {"code": "acme"}, "other": 1}))
                .unwrap();
        assert_eq!(
            p.brand,
            Some(LinkOne::find(Lookup::new().field("code", "acme")))
        );
        assert_eq!(p.extra.get("other"), Some(&json!(1)));
        assert!(p.teams.is_none());
        let p: Post = serde_json::from_value(json!({"name": "n", "brandId": null})).unwrap();
        assert_eq!(p.brand, Some(LinkOne::clear()));
        // Both forms of one link: not read as a link (the flattened option is left empty and
        // the keys stay in `extra`), never silently one of them.
        let p: Post =
            serde_json::from_value(json!({"name": "n", "brandId": "b", "brand": {"code": "x"}}))
                .unwrap();
        assert!(p.brand.is_none());
        let direct: Result<LinkOne<Id<Brand>, BrandKeys>, _> =
            serde_json::from_value(json!({"brandId": "b", "brand": {"code": "x"}}));
        assert!(
            direct
                .unwrap_err()
                .to_string()
                .contains("both `brandId` and `brand`")
        );
    }
}
