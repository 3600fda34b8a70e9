//! Roles: what a non-admin user may do with each entity and field, as AtroCore's ACL has it.
//!
//! AtroCore keeps its ACL in the unmirrored `atrocore-legacy` package; the semantics here follow
//! its last in-tree copy (`app/Espo/Core/Acl/Base.php`, `Acl/Table.php`, `AclManager.php` and
//! `Services/Record.php` before commit `b33a0dffc`) and the handlers and select manager of the
//! core itself (`app/Atro/...` at 2.2.31 and 2.3.13). See `simulator/FIDELITY.md`,
//! "Permissions".
//!
//! ```
//! use atrocore_sim::{AccessLevel, EntityAccess, FieldAccess, SimRole, SimUser};
//! let role = SimRole::new()
//!     // Products: read and edit only the user's own, never delete.
//!     .entity("Product", EntityAccess {
//!         create: true,
//!         read: AccessLevel::Own,
//!         edit: AccessLevel::Own,
//!         delete: AccessLevel::No,
//!         stream: AccessLevel::Own,
//!     })
//!     // No access at all to categories.
//!     .entity("Category", EntityAccess::NONE)
//!     // The price is hidden, the number is read-only.
//!     .field("Product", "price", FieldAccess::HIDDEN)
//!     .field("Product", "number", FieldAccess::READ_ONLY);
//! let user = SimUser::with_role("clerk", "secret", role);
//! assert!(!user.is_admin);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Entity, LinkKind};

/// How many records of an entity an action reaches: AtroCore's role levels (`all`, `team`,
/// `own`, `no`; `Acl/Table.php::$levelList`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessLevel {
    /// Every record.
    All,
    /// Records of the user's teams, and the user's own. The simulator has no teams, so this
    /// reaches exactly what [`AccessLevel::Own`] reaches (`Acl/Base.php::checkInTeam` finds no
    /// common team).
    Team,
    /// Records the user owns: `ownerUserId`, `assignedUserId` or `createdById` is the user
    /// (`Acl/Base.php::checkIsOwner`).
    Own,
    /// None.
    No,
}

impl AccessLevel {
    /// Whether the scope-level check passes: every level but `no` does, the record-level check
    /// deciding later (`Acl/Base.php::checkScope` without an entity).
    pub fn any(self) -> bool {
        self != AccessLevel::No
    }
}

/// The action a role grants or refuses on an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `create` (yes/no).
    Create,
    /// `read`.
    Read,
    /// `edit`.
    Edit,
    /// `delete`.
    Delete,
    /// `stream`.
    Stream,
}

/// A role's access to one entity (`scope` in AtroCore's role editor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityAccess {
    /// May create records (AtroCore's `create` is `yes` or `no`).
    pub create: bool,
    /// Which records the user may read.
    pub read: AccessLevel,
    /// Which records the user may edit.
    pub edit: AccessLevel,
    /// Which records the user may delete.
    pub delete: AccessLevel,
    /// Which records' streams the user may follow.
    pub stream: AccessLevel,
}

impl EntityAccess {
    /// Everything on every record.
    pub const FULL: EntityAccess = EntityAccess {
        create: true,
        read: AccessLevel::All,
        edit: AccessLevel::All,
        delete: AccessLevel::All,
        stream: AccessLevel::All,
    };
    /// Nothing at all (AtroCore's `false` scope).
    pub const NONE: EntityAccess = EntityAccess {
        create: false,
        read: AccessLevel::No,
        edit: AccessLevel::No,
        delete: AccessLevel::No,
        stream: AccessLevel::No,
    };
    /// Read every record, change none.
    pub const READ_ONLY: EntityAccess = EntityAccess {
        create: false,
        read: AccessLevel::All,
        edit: AccessLevel::No,
        delete: AccessLevel::No,
        stream: AccessLevel::All,
    };
    /// What AtroCore gives a scope that no role of the user names, outside strict mode: read,
    /// stream and edit all, create, but no delete (`Resources/metadata/app/acl.json`,
    /// `scopeLevelTypesDefaults.record`, 2.2.31 and 2.3.13).
    pub const ATROCORE_DEFAULT: EntityAccess = EntityAccess {
        create: true,
        read: AccessLevel::All,
        edit: AccessLevel::All,
        delete: AccessLevel::No,
        stream: AccessLevel::All,
    };

    /// The level of `action` (`create`: `All` or `No`).
    pub fn level(&self, action: Action) -> AccessLevel {
        match action {
            Action::Create if self.create => AccessLevel::All,
            Action::Create => AccessLevel::No,
            Action::Read => self.read,
            Action::Edit => self.edit,
            Action::Delete => self.delete,
            Action::Stream => self.stream,
        }
    }
}

/// A role's access to one field (`yes`/`no` for `read` and `edit` in AtroCore's role editor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldAccess {
    /// The field is output and may be filtered on.
    pub read: bool,
    /// The field is taken from create and update input (else dropped silently).
    pub edit: bool,
}

impl FieldAccess {
    /// Read and edit.
    pub const FULL: FieldAccess = FieldAccess {
        read: true,
        edit: true,
    };
    /// Read, not edit.
    pub const READ_ONLY: FieldAccess = FieldAccess {
        read: true,
        edit: false,
    };
    /// Neither read nor edit (AtroCore's role editor sets `edit` to `no` with `read`).
    pub const HIDDEN: FieldAccess = FieldAccess {
        read: false,
        edit: false,
    };
}

/// A role: access per entity and per field. Administrators ignore roles.
///
/// Entities the role does not name get [`SimRole::others`] ([`EntityAccess::FULL`] unless set;
/// AtroCore's own default for unnamed scopes is [`EntityAccess::ATROCORE_DEFAULT`]). Fields it
/// does not name are readable and editable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRole {
    /// Access to named entities.
    pub entities: BTreeMap<String, EntityAccess>,
    /// Access to every other entity.
    pub others: EntityAccess,
    /// Access to named fields, by entity then field name (metadata field names: `brand`, not
    /// `brandId`).
    pub fields: BTreeMap<String, BTreeMap<String, FieldAccess>>,
}

impl Default for SimRole {
    fn default() -> Self {
        SimRole::new()
    }
}

impl SimRole {
    /// A role that allows everything until entities or fields are restricted.
    pub fn new() -> SimRole {
        SimRole {
            entities: BTreeMap::new(),
            others: EntityAccess::FULL,
            fields: BTreeMap::new(),
        }
    }

    /// A role reading every entity and changing none.
    pub fn read_only() -> SimRole {
        SimRole::new().others(EntityAccess::READ_ONLY)
    }

    /// Sets the access to `entity`.
    pub fn entity(mut self, entity: impl Into<String>, access: EntityAccess) -> SimRole {
        self.entities.insert(entity.into(), access);
        self
    }

    /// Sets the access to the entities not named.
    pub fn others(mut self, access: EntityAccess) -> SimRole {
        self.others = access;
        self
    }

    /// Sets the access to `field` of `entity`.
    pub fn field(
        mut self,
        entity: impl Into<String>,
        field: impl Into<String>,
        access: FieldAccess,
    ) -> SimRole {
        self.fields
            .entry(entity.into())
            .or_default()
            .insert(field.into(), access);
        self
    }

    /// The access to `entity`.
    pub fn access(&self, entity: &str) -> EntityAccess {
        self.entities.get(entity).copied().unwrap_or(self.others)
    }

    /// The fields of `entity` the role refuses for reading (`read`) or editing (`!read`).
    pub fn forbidden_fields(&self, entity: &str, read: bool) -> BTreeSet<String> {
        self.fields
            .get(entity)
            .into_iter()
            .flatten()
            .filter(|(_, a)| if read { !a.read } else { !a.edit })
            .map(|(f, _)| f.clone())
            .collect()
    }
}

/// The attributes (JSON keys) of the field `field` of `e`, as AtroCore's field manager lists
/// them (`getAttributeList`): the field itself, a link's `<link>Id`/`<link>Name` or
/// `<link>Ids`/`<link>Names`, and the keys derived from it (`nameDeDe`, `priceCurrency`,
/// `weightUnitId`) that are neither fields nor another link's keys.
pub(crate) fn field_attributes(e: &Entity, field: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    out.insert(field.to_string());
    if let Some(l) = e.links.get(field) {
        let (id, name) = match l.kind {
            LinkKind::BelongsTo => (format!("{field}Id"), format!("{field}Name")),
            LinkKind::HasMany => (format!("{field}Ids"), format!("{field}Names")),
        };
        out.insert(id);
        out.insert(name);
        if let Some(c) = &l.column {
            out.insert(c.clone());
        }
    }
    let other_link_key = |p: &str| {
        e.links.values().any(|l| {
            l.name != field
                && (l.column.as_deref() == Some(p)
                    || p.strip_prefix(l.name.as_str())
                        .is_some_and(|s| matches!(s, "Id" | "Ids" | "Name" | "Names")))
        })
    };
    for p in e
        .properties
        .iter()
        .map(String::as_str)
        .chain(e.fields.iter().map(|f| f.name.as_str()))
    {
        let derived = p.strip_prefix(field).is_some_and(is_derived_suffix);
        if derived && !other_link_key(p) {
            out.insert(p.to_string());
        }
    }
    out
}

/// A suffix AtroCore's field types add to a field's name for its other attributes: a language
/// (`DeDe`, `EnUs`: `multilangField` variants), a unit or currency, a range's bounds, a file's or
/// link's id and name.
fn is_derived_suffix(rest: &str) -> bool {
    let b = rest.as_bytes();
    let language = b.len() == 4
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_lowercase()
        && b[2].is_ascii_uppercase()
        && b[3].is_ascii_lowercase();
    language
        || matches!(
            rest,
            "Id" | "Ids"
                | "Name"
                | "Names"
                | "Currency"
                | "Unit"
                | "UnitId"
                | "UnitName"
                | "UnitData"
                | "AllUnits"
                | "From"
                | "To"
                | "PathsData"
        )
}
