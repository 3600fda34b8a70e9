//! The entity handle: what every entity of a generated crate can do, written once. A generated
//! `ProductApi` wraps an [`EntityHandle<Product>`](EntityHandle) (and dereferences to it), so
//! `client.product().list()`, `.read(id)`, `.create(&post)`, `.update(id, &patch)`,
//! `.delete(id)`, `.upsert(items)`, the mass actions and `.attributes(id)` are these methods;
//! the generated handle adds one method per link and the routes no handler covers.
//!
//! What an entity supports is said by the traits its generated types implement: [`Creatable`]
//! (`POST /E`), [`Updatable`] (`PUT`/`PATCH /E/{id}`), [`Deletable`] (`DELETE /E/{id}`),
//! [`HasAttributes`] (`/E/{id}/attributeValues`) and [`HoldsFiles`] (AtroCore's `File`).

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use bytes::Bytes;
use reqwest::Method;
use serde::Serialize;
use tokio::io::AsyncRead;

use crate::attributes::RecordAttributes;
use crate::changes::{ChangeFeed, Watermark};
use crate::client::Client;
use crate::entity::{
    CreateRequest, DeleteRequest, Entity, ListRequest, ReadRequest, UpdateRequest,
};
use crate::error::Result;
use crate::files::{FileDownload, FileUpload};
use crate::filter::Filter;
use crate::id::AsId;
use crate::links::ToManyLink;
use crate::mass::{MassDelete, MassOutcome, MassSelection};
use crate::operation::Operation;
use crate::sharing::ShareRequest;
use crate::upsert::{UpsertPayload, UpsertRequest};

/// An entity whose records can be created (`POST /E`): its create struct.
pub trait Creatable: Entity {
    /// The create struct (`ProductPost`).
    type Create: Serialize + Send + Sync;
}

/// An entity whose records can be updated: its patch struct and the spec's method.
pub trait Updatable: Entity {
    /// The patch struct (`ProductPatch`).
    type Patch: Serialize + Send + Sync;
    /// `PUT` (2.2 specs) or `PATCH` (2.3).
    const UPDATE_METHOD: Method;
}

/// An entity whose records can be deleted (`DELETE /E/{id}`), one by one or in bulk.
pub trait Deletable: Entity {}

/// An entity with attribute values (`GET /E/{id}/attributeValues`).
pub trait HasAttributes: Entity {}

/// AtroCore's `File` entity: records that are uploaded, shared and downloaded.
pub trait HoldsFiles: Entity {}

/// An upload of a file entity: its record and id typed (`FileUpload<File, FileId>`).
pub type Upload<E> = FileUpload<<E as Entity>::Record, <E as Entity>::Id>;

/// The operations on the records of `E`; a generated `ProductApi` dereferences to
/// `EntityHandle<'_, Product>`.
pub struct EntityHandle<'a, E> {
    client: &'a Client,
    entity: PhantomData<fn() -> E>,
}

impl<E> Clone for EntityHandle<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for EntityHandle<'_, E> {}

impl<E: Entity> fmt::Debug for EntityHandle<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntityHandle")
            .field("entity", &E::NAME)
            .finish_non_exhaustive()
    }
}

impl<'a, E: Entity> EntityHandle<'a, E> {
    /// The handle of `E` over `client`.
    pub fn new(client: &'a Client) -> Self {
        EntityHandle {
            client,
            entity: PhantomData,
        }
    }

    /// The runtime client, for the routes of the entity no handler covers.
    pub fn client(&self) -> &'a Client {
        self.client
    }

    /// `GET /E`: the records (select, filter, paging, sort, `With-Meta`, streams).
    #[doc(alias = "find")]
    #[doc(alias = "search")]
    pub fn list(&self) -> ListRequest<E> {
        self.client.list::<E>()
    }

    /// The changes to the records of `E` since `watermark`, exactly once, in `(modifiedAt, id)`
    /// order; `list()….changes_since(…)` filters and selects first. See
    /// [`ListRequest::changes_since`].
    #[doc(alias = "sync")]
    #[doc(alias = "delta")]
    pub fn changes_since(&self, watermark: &Watermark) -> ChangeFeed<E::Record> {
        self.list().changes_since(watermark)
    }

    /// `GET /E/{id}`: one record.
    #[doc(alias = "get")]
    #[doc(alias = "fetch")]
    pub fn read(&self, id: impl AsId<E::Id>) -> ReadRequest<E> {
        self.client.read::<E>(id.id_str())
    }

    /// The records linked to the record `id` through `L` (a list request that also links and
    /// unlinks: `add`, `remove`, `add_matching`, `clear`). Generated crates name each link
    /// (`product().files(id)`); this is the call behind them.
    pub fn linked<L: ToManyLink<Source = E>>(
        &self,
        id: impl AsId<E::Id>,
    ) -> ListRequest<L::Target, L> {
        ListRequest::through(self.client, id)
    }
}

impl<'a, E: Creatable> EntityHandle<'a, E> {
    /// `POST /E`: creates a record and resolves to it.
    #[doc(alias = "insert")]
    #[doc(alias = "post")]
    pub fn create(&self, record: &E::Create) -> CreateRequest<E> {
        self.client.create::<E, E::Create>(record)
    }

    /// Bulk upsert (`POST /MassActions/action/upsert` on 2.2, `POST /upsert` on 2.3): each item
    /// is created, or updated when its `id` or a unique field finds a record. Items may be owned
    /// or borrowed (each is serialized when its batch is pulled, one batch ahead of the
    /// requests); batching, concurrency and per-item results are those of [`UpsertRequest`].
    pub fn upsert<'i, I>(&self, items: I) -> UpsertRequest<'i>
    where
        I: IntoIterator,
        I::IntoIter: Send + 'i,
        I::Item: UpsertPayload<E>,
    {
        UpsertRequest::of::<E, I>(self.client, items)
    }
}

impl<'a, E: Updatable> EntityHandle<'a, E> {
    /// `PUT` (2.2) or `PATCH` (2.3) `/E/{id}`: sets the fields of `changes` on the record `id`.
    #[doc(alias = "patch")]
    #[doc(alias = "put")]
    pub fn update(&self, id: impl AsId<E::Id>, changes: &E::Patch) -> UpdateRequest<E> {
        self.client
            .update::<E, E::Patch>(E::UPDATE_METHOD, id.id_str(), changes)
    }

    /// Sets the fields of `changes` on every record that matches `filter` (the server selects
    /// them; an empty filter matches every record). 2.2 runs up to 200 records in the request
    /// and queues a job for more; 2.3 always queues a job.
    pub fn update_matching(&self, filter: Filter<E>, changes: &E::Patch) -> Operation<MassOutcome> {
        self.client
            .mass_update(E::NAME, MassSelection::Filter(filter.into_where()), changes)
    }

    /// Sets the fields of `changes` on the records `ids` (up to 200 in the request, more
    /// through a job).
    pub fn update_ids<S: AsId<E::Id>>(
        &self,
        ids: &[S],
        changes: &E::Patch,
    ) -> Operation<MassOutcome> {
        let ids = ids.iter().map(|id| id.id_str().to_owned()).collect();
        self.client
            .mass_update(E::NAME, MassSelection::Ids(ids), changes)
    }
}

impl<'a, E: Deletable> EntityHandle<'a, E> {
    /// `DELETE /E/{id}`: moves the record `id` to the trash (`.permanently(true)` for good).
    #[doc(alias = "remove")]
    pub fn delete(&self, id: impl AsId<E::Id>) -> DeleteRequest<E> {
        self.client.delete::<E>(id.id_str())
    }

    /// Deletes every record that matches `filter` (to the trash; `.permanently(true)` for
    /// good). An empty filter matches every record. 2.2 runs up to 200 records in the request
    /// and queues a job for more; 2.3 always queues a job.
    pub fn delete_matching(&self, filter: Filter<E>) -> MassDelete {
        self.client
            .mass_delete(E::NAME, MassSelection::Filter(filter.into_where()))
    }

    /// Deletes the records `ids` (to the trash; `.permanently(true)` for good).
    pub fn delete_ids<S: AsId<E::Id>>(&self, ids: &[S]) -> MassDelete {
        let ids = ids.iter().map(|id| id.id_str().to_owned()).collect();
        self.client.mass_delete(E::NAME, MassSelection::Ids(ids))
    }
}

impl<'a, E: HasAttributes> EntityHandle<'a, E> {
    /// The attribute values of the record `id`: list them typed (value by attribute type, units,
    /// per-language values), add, upsert (a no-op is `WriteOutcome::NotModified`) and remove.
    pub fn attributes(&self, id: impl AsId<E::Id>) -> RecordAttributes {
        self.client.attributes::<E>(id.id_str())
    }

    /// Writes attribute values of the record `id` by code (a patch of flattened fields, sent
    /// with `Flatten-Attributes`: the answer holds every attribute value); a value written
    /// assigns the attribute when the record lacks it. Build `changes` with the typed
    /// handles of a generated crate (`attr::weight().set(2.5).and(attr::colour().set(…))`)
    /// or [`AttributeChanges`](crate::AttributeChanges) by hand.
    pub fn set_attributes(
        &self,
        id: impl AsId<E::Id>,
        changes: &crate::AttributeChanges,
    ) -> UpdateRequest<E> {
        // 2.2 updates with `PUT`, 2.3 with `PATCH` (both take a partial body).
        let method = match self.client.generation() {
            crate::ApiGeneration::V2_2 => Method::PUT,
            _ => Method::PATCH,
        };
        self.client
            .update::<E, crate::AttributeChanges>(method, id.id_str(), changes)
            .flatten_attributes(true)
    }
}

impl<'a, E: HoldsFiles> EntityHandle<'a, E>
where
    E::Id: From<String>,
{
    /// Uploads `content` as the file `name` (Base64, or chunks above the threshold); the upload
    /// answers the created record. Set fields (`folderId`, …) with `.fields(&FilePost)` or
    /// `.field(..)`, the name-conflict policy with `.on_name_conflict(..)`.
    pub fn upload_bytes(&self, name: impl Into<String>, content: impl Into<Bytes>) -> Upload<E> {
        self.client
            .upload_bytes(name, content)
            .typed::<E::Record>()
            .typed_id::<E::Id>()
    }

    /// Uploads the file at `path`, streamed from disk in chunks when large (resumable, with
    /// progress); answers the created record.
    pub fn upload_path(&self, path: impl AsRef<Path>) -> Upload<E> {
        self.client
            .upload_path(path)
            .typed::<E::Record>()
            .typed_id::<E::Id>()
    }

    /// Uploads `len` bytes read from `reader` as the file `name`; answers the created record.
    pub fn upload_reader<R>(&self, name: impl Into<String>, reader: R, len: u64) -> Upload<E>
    where
        R: AsyncRead + Send + Unpin + 'static,
    {
        self.client
            .upload_reader(name, reader, len)
            .typed::<E::Record>()
            .typed_id::<E::Id>()
    }

    /// Has the server download `url`; answers the created record.
    pub fn upload_url(&self, url: impl Into<String>) -> Upload<E> {
        self.client
            .upload_url(url)
            .typed::<E::Record>()
            .typed_id::<E::Id>()
    }

    /// A public sharing link to the file `id` (name, expiry, allowed usage): answers the typed
    /// [`SharedLink`](crate::SharedLink).
    pub fn share(&self, id: impl AsId<E::Id>) -> ShareRequest {
        self.client.share_file(id.id_str())
    }

    /// Streams the content of the file `id` (`.bytes()`, `.save(path)`, or as a stream).
    pub async fn download(&self, id: impl AsId<E::Id>) -> Result<FileDownload> {
        self.client.download_file(id.id_str()).await
    }
}
