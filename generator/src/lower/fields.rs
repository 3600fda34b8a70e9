//! Object schemas to struct fields: request bodies, properties (`allOf` merged), instance
//! metadata applied, server-computed fields kept out of writes, find-or-create link fields.

use super::metadata::MetaField;
use super::*;

impl<'a> Lowerer<'a> {
    /// Fields of the object schema of an operation's JSON body (for create/patch structs).
    pub(super) fn body_object(
        &mut self,
        op: &'a Value,
        op_pointer: &str,
        type_name: &str,
        entity: &str,
        sink: &mut Sink,
        style: StructStyle,
    ) -> Result<Vec<Field>, Error> {
        let Some((schema, pointer)) = self.body_schema(op, op_pointer)? else {
            return Ok(Vec::new());
        };
        self.fields_of(schema, &pointer, type_name, Some(entity), sink, style)
    }

    pub(super) fn body_schema(
        &mut self,
        op: &'a Value,
        op_pointer: &str,
    ) -> Result<Option<(&'a Value, String)>, Error> {
        let Some(content) = op
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
        else {
            return Ok(None);
        };
        let (ct, media) = match content.get_key_value("application/json") {
            Some(kv) => kv,
            None => match content.iter().next() {
                Some(kv) => kv,
                None => return Ok(None),
            },
        };
        match media.get("schema") {
            Some(schema) => Ok(Some((
                schema,
                format!(
                    "{op_pointer}/requestBody/content/{}/schema",
                    escape_pointer_token(ct)
                ),
            ))),
            None => Ok(None),
        }
    }

    /// Collect properties and required names of an object schema, resolving `$ref` and merging
    /// `allOf` parts.
    pub(super) fn collect_object(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        props: &mut Vec<(String, &'a Value, String)>,
        required: &mut BTreeSet<String>,
    ) -> Result<(), Error> {
        let (schema, pointer) = self.spec.resolve(schema, pointer)?;
        self.enter(Nesting::AllOf, schema, &pointer)?;
        let collected = self.collect_object_of(schema, &pointer, props, required);
        self.leave(Nesting::AllOf);
        collected
    }

    /// [`Lowerer::collect_object`] of a resolved schema.
    pub(super) fn collect_object_of(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        props: &mut Vec<(String, &'a Value, String)>,
        required: &mut BTreeSet<String>,
    ) -> Result<(), Error> {
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for (i, part) in parts.iter().enumerate() {
                self.collect_object(part, &format!("{pointer}/allOf/{i}"), props, required)?;
            }
        }
        if let Some(p) = schema.get("properties") {
            let Some(p) = p.as_object() else {
                if p.as_array().is_some_and(Vec::is_empty) {
                    self.warn(
                        &format!("{pointer}/properties"),
                        "`properties: []` (PHP's empty object) read as `{}`",
                    );
                    return Ok(());
                }
                return Err(self.spec.error(
                    &format!("{pointer}/properties"),
                    "`properties` is not an object",
                ));
            };
            for (name, prop) in p {
                let at = format!("{pointer}/properties/{}", escape_pointer_token(name));
                if let Some(existing) = props.iter_mut().find(|(n, _, _)| n == name) {
                    existing.1 = prop;
                    existing.2 = at;
                } else {
                    props.push((name.clone(), prop, at));
                }
            }
        }
        if let Some(r) = schema.get("required").and_then(Value::as_array) {
            required.extend(r.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        Ok(())
    }

    pub(super) fn object_fields(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        type_name: &str,
        sink: &mut Sink,
        style: StructStyle,
    ) -> Result<Vec<Field>, Error> {
        self.fields_of(schema, pointer, type_name, None, sink, style)
    }

    /// Fields of an object schema; `entity` (the wire name) enables instance metadata.
    pub(super) fn fields_of(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        type_name: &str,
        entity: Option<&str>,
        sink: &mut Sink,
        style: StructStyle,
    ) -> Result<Vec<Field>, Error> {
        let mut props = Vec::new();
        let mut required = BTreeSet::new();
        self.collect_object(schema, pointer, &mut props, &mut required)?;
        let wire: Vec<&str> = props.iter().map(|(n, _, _)| n.as_str()).collect();
        let idents = naming::field_names(wire.iter().copied(), &["extra"]);
        let variants = naming::variant_names(wire.iter().copied(), &[]);
        let mut fields = Vec::new();
        for (i, (name, prop, at)) in props.iter().enumerate() {
            let (resolved, _) = self.spec.resolve(prop, at)?;
            // A flag holds when the reference or its target sets it (`$ref` with siblings).
            let flag = |key: &str| {
                [prop, resolved]
                    .iter()
                    .any(|v| v.get(key).and_then(Value::as_bool) == Some(true))
            };
            let read_only = flag("readOnly");
            if read_only && matches!(style, StructStyle::Create | StructStyle::Patch) {
                continue;
            }
            let nullable = flag("nullable");
            let meta = entity.and_then(|e| self.meta_field(e, name));
            // Create and patch bodies carry only what a client may set: what the instance's
            // metadata marks as computed by the server, and the `*Name(s)` companions of links
            // that AtroCore fills on read, stay in the read struct.
            let writes = matches!(style, StructStyle::Create | StructStyle::Patch);
            // An update names its record in the path; an `id` in its body changes nothing.
            if style == StructStyle::Patch && name == "id" {
                continue;
            }
            if writes
                && (meta.as_ref().is_some_and(MetaField::server_computed)
                    || entity.is_some_and(|e| self.is_link_name_companion(e, name)))
            {
                continue;
            }
            let hint = naming::nested_type(entity.map_or(type_name, |e| e), name);
            let spec_ty = self.ty(prop, at, &hint, sink)?;
            // What AtroCore puts in every record's `_meta` (permissions, `With-Meta` options)
            // and the definitions of flattened attributes have runtime types; the spec says
            // `object`.
            let spec_ty = match name.as_str() {
                "_meta" if ty_is_free_object(&spec_ty) => Type::Meta,
                "attributesDefs" if ty_is_free_object(&spec_ty) => Type::AttributeDefs,
                _ => spec_ty,
            };
            let ty = match &meta {
                Some(m) => self.meta_type(m, spec_ty, entity.unwrap_or(type_name), name, sink),
                // `teamsNames`: the names of the linked records by id (the spec says `object`).
                None if ty_is_free_object(&spec_ty)
                    && name.ends_with("Names")
                    && entity.is_some_and(|e| self.is_link_name_companion(e, name)) =>
                {
                    Type::LinkNames
                }
                None => spec_ty,
            };
            let ty = self.typed_ids(entity, name, meta.as_ref(), ty);
            let ty = if self.attribute_route {
                self.attribute_field(name, ty)
            } else {
                ty
            };
            let mut doc = prop
                .get("description")
                .or_else(|| resolved.get("description"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            if let Some(note) = meta.as_ref().and_then(MetaField::note) {
                doc = Some(match doc {
                    Some(d) => format!("{d}\n\n{note}"),
                    None => note,
                });
            }
            let kind = match &meta {
                // `brandId` compares ids (equals, in); `teamsIds` is no column at all: the
                // link conditions go on the link's own filter (`Field::link`).
                Some(m) if m.link.is_some() && m.field_type == metadata::MetaType::Link => {
                    FieldKind::Text
                }
                Some(m) if m.link.is_some() => FieldKind::Any,
                Some(m) => m.kind().unwrap_or_else(|| Self::spec_kind(&ty)),
                None => Self::spec_kind(&ty),
            };
            // Known to be one of this module's generated enums (from a metadata `enum` or an
            // inline spec enum): conditions take the enum.
            let kind = match (kind, &ty) {
                (FieldKind::Text, Type::Named(_)) if self.local_enum(sink, &ty) => FieldKind::Enum,
                (kind, _) => kind,
            };
            let link = meta.as_ref().and_then(|m| m.link.clone());
            let spec_required = required.contains(name);
            let required = match (style, &meta) {
                // 2.2 fills a missing field with its metadata default before it checks
                // `required`, so such a field is optional to a client there. 2.3 checks the body
                // against the spec first (`app/Atro/Core/Middleware/ApiValidationMiddleware.php`):
                // the spec's `required` holds as written.
                (StructStyle::Create, Some(m)) if !self.validates_bodies() => {
                    spec_required && !m.has_server_default()
                }
                // A field the instance requires can be changed but never cleared.
                (StructStyle::Patch, Some(m)) => spec_required || m.required(),
                _ => spec_required,
            };
            fields.push(Field {
                wire: name.clone(),
                ident: idents[i].clone(),
                variant: variants[i].clone(),
                kind,
                link,
                ty,
                required,
                nullable,
                read_only,
                doc,
                boxed: false,
            });
        }
        if matches!(style, StructStyle::Create | StructStyle::Patch) {
            self.merge_link_fields(&mut fields);
        }
        Ok(fields)
    }

    /// Every link field (`brandId`, `teamsIds`, known from instance metadata) of a create or
    /// patch body becomes one field named after the link (`brand`, `teams`): the runtime's
    /// `LinkOne`/`LinkMany`, which holds either the ids or the find-or-create form (values the
    /// server finds the record by, creating it when none matches; one level deep), never both,
    /// and writes the matching key (`brandId` or `brand`) in place.
    pub(super) fn merge_link_fields(&self, fields: &mut [Field]) {
        let wires: BTreeSet<String> = fields.iter().map(|f| f.wire.clone()).collect();
        let mut namer = Namer::with_reserved(
            fields
                .iter()
                .filter(|f| f.link.is_none())
                .map(|f| f.ident.as_str())
                .chain(["extra"]),
        );
        for f in fields.iter_mut() {
            let Some(link) = f.link.clone() else { continue };
            // A spec that also names the link itself keeps both fields as they are.
            if wires.contains(&link) {
                continue;
            }
            let (id, many) = match &f.ty {
                Type::Array(item) => ((**item).clone(), true),
                other => (other.clone(), false),
            };
            let doc = format!(
                "`{}` or its find-or-create form `{link}`: {} by id, or by simple field values the \
                 server finds {} by (creating {} when none matches).",
                f.wire,
                if many {
                    "the linked records"
                } else {
                    "the linked record"
                },
                if many { "each" } else { "it" },
                if many { "those" } else { "it" },
            );
            let ident = namer.claim_snake(&link);
            *f = Field {
                ty: Type::Link(Box::new(LinkField {
                    keys: naming::link_keys_type(&link),
                    id_wire: f.wire.clone(),
                    link_wire: link.clone(),
                    id,
                    many,
                })),
                wire: link,
                ident,
                variant: f.variant.clone(),
                required: f.required,
                nullable: false,
                read_only: false,
                kind: FieldKind::Any,
                doc: Some(match &f.doc {
                    Some(d) => format!("{doc}\n\n{d}"),
                    None => doc,
                }),
                link: None,
                boxed: false,
            };
        }
    }

    /// Ids typed by their entity: an entity's own `id`, and the ids of a link to a generated
    /// entity (`brandId` → `BrandId`, `teamsIds` → `Vec<TeamId>`, targets from the metadata).
    fn typed_ids(
        &self,
        entity: Option<&str>,
        wire: &str,
        meta: Option<&MetaField>,
        ty: Type,
    ) -> Type {
        let id_of = |e: &str| self.id_types.get(e).map(|id| Type::Named(*id));
        let target = match (entity, meta) {
            (Some(e), _) if wire == "id" => Some(e),
            (_, Some(m)) if m.link.is_some() => m.link_target.as_deref(),
            _ => None,
        };
        let Some(id) = target.and_then(id_of) else {
            return ty;
        };
        match ty {
            Type::String => id,
            Type::Array(item) if *item == Type::String => Type::Array(Box::new(id)),
            other => other,
        }
    }

    /// A field of an attribute value on the attribute routes: the value is whatever the
    /// attribute's type holds (a number, a boolean, a list, text; the spec says `string`, and
    /// a float attribute's value would not read), the runtime's `AttrValue`; the attribute and
    /// unit ids are typed when their entities are generated, the names of linked values are
    /// `LinkNames`.
    fn attribute_field(&self, wire: &str, ty: Type) -> Type {
        let id_of = |e: &str| self.id_types.get(e).map(|id| Type::Named(*id));
        match (wire, ty) {
            ("value", Type::String) => Type::AttrValue,
            ("attributeId", Type::String) => id_of("Attribute").unwrap_or(Type::String),
            ("attributeIds", Type::Array(item)) if *item == Type::String => {
                id_of("Attribute").map_or(Type::Array(item), |id| Type::Array(Box::new(id)))
            }
            ("valueUnitId", Type::String) => id_of("Unit").unwrap_or(Type::String),
            ("valueNames", t) if ty_is_free_object(&t) => Type::LinkNames,
            (_, t) => t,
        }
    }

    /// The filter kind a spec type suggests (without metadata).
    pub(super) fn spec_kind(ty: &Type) -> FieldKind {
        match ty {
            Type::String | Type::Named(_) => FieldKind::Text,
            Type::Integer | Type::Number => FieldKind::Number,
            Type::Boolean => FieldKind::Bool,
            Type::Array(_) => FieldKind::Array,
            Type::Date => FieldKind::Date,
            Type::DateTime => FieldKind::DateTime,
            _ => FieldKind::Any,
        }
    }
}
