//! A tour of the runtime: one short example per feature. Documentation only; nothing here is
//! code you call.
//!
//! The examples use the runtime's generic API with a hand-written record type; with a generated
//! crate you write `client.product().list()` instead of `client.list::<Product>()`, and the
//! field handles come from `product::filter`. The record type used below:
//!
//! ```
//! use atrocore_runtime::{Entity, EntityField, Meta};
//!
//! #[derive(Debug, serde::Deserialize, serde::Serialize)]
//! pub struct Product {
//!     pub id: Option<String>,
//!     pub name: Option<String>,
//!     pub status: Option<String>,
//!     #[serde(rename = "_meta")]
//!     pub meta: Option<Meta>,
//!     /// Fields the type does not know: custom fields, flattened attributes.
//!     #[serde(flatten)]
//!     pub extra: serde_json::Map<String, serde_json::Value>,
//! }
//! #[derive(Debug, Clone, Copy)]
//! pub enum ProductField { Id, Name }
//! impl EntityField for ProductField {
//!     fn name(self) -> &'static str { match self { Self::Id => "id", Self::Name => "name" } }
//! }
//! impl Entity for Product {
//!     const NAME: &'static str = "Product";
//!     type Record = Product;
//!     type Field = ProductField;
//!     type Id = atrocore_runtime::Id<Product>;
//! }
//! ```
//!
//! # Authentication
//!
//! User name and password are exchanged for a token on first use; every clone of the client
//! and every task shares that one token, and a `401` (expired token) triggers one new login and
//! one replay of the request. A token can also be given as is.
//!
//! ```no_run
//! # async fn demo() -> atrocore_runtime::Result<()> {
//! use atrocore_runtime::{ApiGeneration, Client};
//!
//! let client = Client::builder("https://pim.example.com")
//!     .generation(ApiGeneration::V2_2) // token from GET /api/v1/App/user
//!     .basic_auth("api-user", "secret")
//!     .build()?;
//! client.login().await?; // optional: check the credentials now
//!
//! let with_token = Client::builder("https://pim.example.com").token("dXNlcjp0b2tlbg==").build()?;
//! # let _ = with_token;
//! # Ok(())
//! # }
//! ```
//!
//! # Typed filters
//!
//! Field handles build a [`Filter<E>`](crate::Filter) that only fits lists of `E`; `&`, `|` and
//! `!` combine them; [`Filter::attribute`](crate::Filter::attribute) compares PIM attribute
//! values (`isAttribute=true`).
//!
//! ```no_run
//! # #[derive(Debug, serde::Deserialize)] pub struct Product { }
//! # #[derive(Debug, Clone, Copy)] pub enum ProductField { Name }
//! # impl atrocore_runtime::EntityField for ProductField { fn name(self) -> &'static str { "name" } }
//! # impl atrocore_runtime::Entity for Product { const NAME: &'static str = "Product"; type Record = Product; type Field = ProductField; type Id = atrocore_runtime::Id<Product>; }
//! # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
//! use atrocore_runtime::{BoolField, Filter, NumberField, TextField};
//!
//! // A generated crate provides these as `product::filter::name()` and so on.
//! const NAME: TextField<Product> = TextField::new("name");
//! const ACTIVE: BoolField<Product> = BoolField::new("isActive");
//! const PRICE: NumberField<Product> = NumberField::new("price");
//!
//! let filter = (NAME.like("%chair%") | NAME.starts_with("Stool"))
//!     & ACTIVE.is_true()
//!     & PRICE.less_than(100)
//!     & Filter::attribute("a01weight").greater_than(2.5); // attribute id
//! let page = client.list::<Product>().filter(filter).sort_by(ProductField::Name).await?;
//! # let _ = page;
//! # Ok(())
//! # }
//! ```
//!
//! # Streams
//!
//! [`stream`](crate::ListRequest::stream) pages with `offset` (any sort order);
//! [`keyset_stream`](crate::ListRequest::keyset_stream) pages by `id > last id`, which costs the
//! same on every page and never skips or repeats a record when others are created or deleted
//! meanwhile. Both hold one page in memory.
//!
//! ```no_run
//! # #[derive(Debug, serde::Deserialize)] pub struct Product { name: Option<String> }
//! # #[derive(Debug, Clone, Copy)] pub enum ProductField { Name }
//! # impl atrocore_runtime::EntityField for ProductField { fn name(self) -> &'static str { "name" } }
//! # impl atrocore_runtime::Entity for Product { const NAME: &'static str = "Product"; type Record = Product; type Field = ProductField; type Id = atrocore_runtime::Id<Product>; }
//! # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
//! use futures_util::TryStreamExt;
//!
//! let mut all = client.list::<Product>().max_size(500).keyset_stream();
//! while let Some(product) = all.try_next().await? {
//!     println!("{:?}", product.name);
//! }
//! let sorted: Vec<Product> = client
//!     .list::<Product>()
//!     .sort_by(ProductField::Name)
//!     .stream()
//!     .try_collect()
//!     .await?;
//! # let _ = sorted;
//! # Ok(())
//! # }
//! ```
//!
//! # `With-Meta`
//!
//! `with_meta(true)` asks for `_meta` on each record: a typed [`Meta`](crate::Meta) with the
//! user's permissions and, for `extensibleEnum` / `extensibleMultiEnum` fields, the option
//! records behind the values.
//!
//! ```no_run
//! # #[derive(Debug, serde::Deserialize)] pub struct Product { #[serde(rename = "_meta")] meta: Option<atrocore_runtime::Meta> }
//! # #[derive(Debug, Clone, Copy)] pub enum ProductField { Name }
//! # impl atrocore_runtime::EntityField for ProductField { fn name(self) -> &'static str { "name" } }
//! # impl atrocore_runtime::Entity for Product { const NAME: &'static str = "Product"; type Record = Product; type Field = ProductField; type Id = atrocore_runtime::Id<Product>; }
//! # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
//! use atrocore_runtime::OptionRecords;
//!
//! let product = client.read::<Product>("a01product").with_meta(true).await?;
//! let meta = product.meta.unwrap_or_default();
//! if meta.can_edit() {
//!     println!("editable");
//! }
//! match meta.options_of("tags") {
//!     Some(OptionRecords::Many(options)) => println!("{} tags", options.len()),
//!     Some(OptionRecords::One(option)) => println!("tag {}", option["code"]),
//!     _ => {}
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Flatten-Attributes
//!
//! Attributes as virtual fields of the record, keyed by attribute code: read them with
//! [`FlatAttributes`](crate::FlatAttributes), change them with
//! [`AttributeChanges`](crate::AttributeChanges) (see the [`flat`](crate::flat) module).
//!
//! ```no_run
//! # #[derive(Debug, serde::Deserialize, serde::Serialize)] pub struct Product { #[serde(flatten)] extra: serde_json::Map<String, serde_json::Value> }
//! # #[derive(Debug, Clone, Copy)] pub enum ProductField { Name }
//! # impl atrocore_runtime::EntityField for ProductField { fn name(self) -> &'static str { "name" } }
//! # impl atrocore_runtime::Entity for Product { const NAME: &'static str = "Product"; type Record = Product; type Field = ProductField; type Id = atrocore_runtime::Id<Product>; }
//! # async fn demo(client: atrocore_runtime::Client) -> atrocore_runtime::Result<()> {
//! use atrocore_runtime::{AttributeChanges, FlatAttributes, Method};
//!
//! // Read: a record, or every record of a list with all (or some) of its attributes.
//! let product = client.read::<Product>("a01product").flatten_attributes(true).await?;
//! let attrs = FlatAttributes::from_extra(&product.extra);
//! if let Some(weight) = attrs.get("weight") {
//!     println!("{:?} {:?} ({:?})", weight.as_f64(), weight.unit_name(), weight.def());
//! }
//! let page = client.list::<Product>().all_attributes(true).await?; // or .attributes(["a01weight"])
//! # let _ = page;
//!
//! // Write: assign, set by code (with a unit), unassign.
//! let changes = AttributeChanges::new()
//!     .assign(["a01weight"])
//!     .set_with_unit("weight", 12.5, "a01kg")
//!     .unassign(["a01oldattr"]);
//! client
//!     .update::<Product, _>(Method::PATCH, "a01product", &changes)
//!     .flatten_attributes(true)
//!     .await?;
//! // With a generated patch struct: `changes.apply_to(&mut patch.extra)`.
//! # Ok(())
//! # }
//! ```
//!
//! # Errors and retries
//!
//! One [`Error`](crate::Error) type: ask it for its kind, status and AtroCore's reason. Safe
//! requests (`GET`, and requests marked [`idempotent`](crate::RequestBuilder::idempotent)) are
//! retried after connection failures, timeouts, `502`/`503`/`504` and `429` (waiting as its
//! `Retry-After` says); creates are never retried.
//!
//! ```no_run
//! # #[derive(Debug, serde::Deserialize)] pub struct Product { }
//! # #[derive(Debug, Clone, Copy)] pub enum ProductField { Name }
//! # impl atrocore_runtime::EntityField for ProductField { fn name(self) -> &'static str { "name" } }
//! # impl atrocore_runtime::Entity for Product { const NAME: &'static str = "Product"; type Record = Product; type Field = ProductField; type Id = atrocore_runtime::Id<Product>; }
//! # async fn demo() -> atrocore_runtime::Result<()> {
//! use std::time::Duration;
//! use atrocore_runtime::{Client, ErrorKind, Method, RetryPolicy};
//!
//! let client = Client::builder("https://pim.example.com")
//!     .basic_auth("api-user", "secret")
//!     .retry_policy(RetryPolicy {
//!         max_retries: 5,
//!         base_backoff: Duration::from_millis(100),
//!         max_backoff: Duration::from_secs(5),
//!         max_retry_after: Duration::from_secs(30),
//!     })
//!     .build()?;
//! match client.read::<Product>("a01nope").await {
//!     Ok(_) => {}
//!     Err(e) if e.is_not_found() => println!("no such product"),
//!     Err(e) if e.kind() == ErrorKind::RateLimited => println!("slow down: {e}"),
//!     Err(e) if e.is_timeout() => println!("the server is slow: {e}"),
//!     Err(e) => println!("{} {:?}: {:?}", e.kind(), e.status(), e.reason()),
//! }
//! // A POST that is safe to repeat, so that it is retried too.
//! let items = serde_json::json!([{ "entity": "Brand", "payload": { "code": "acme", "name": "Acme" } }]);
//! let _: serde_json::Value = client
//!     .request(Method::POST, "/MassActions/action/upsert")
//!     .json(&items)
//!     .idempotent(true)
//!     .send_json()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Timeouts, proxy, user agent
//!
//! ```
//! # fn demo() -> atrocore_runtime::Result<()> {
//! use std::time::Duration;
//! use atrocore_runtime::{Client, Method};
//!
//! let client = Client::builder("https://pim.example.com")
//!     .basic_auth("api-user", "secret")
//!     .timeout(Duration::from_secs(20))         // per attempt, sending to end of answer
//!     .connect_timeout(Duration::from_secs(5))
//!     .proxy(atrocore_runtime::Proxy::https("http://proxy.internal:3128").unwrap())
//!     .user_agent("my-sync/2.1")
//!     .build()?;
//! // One slow route gets more time than the rest.
//! let export = client.request(Method::GET, "/Product").timeout(Duration::from_secs(120));
//! # let _ = export;
//! # Ok(())
//! # }
//! ```
