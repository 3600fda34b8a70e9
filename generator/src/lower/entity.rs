//! An entity's module (read/create/patch structs, standard and other routes, link lists) and a
//! route group's.

use super::*;

impl<'a> Lowerer<'a> {
    pub(super) fn entity(
        &mut self,
        name: &str,
        ops: &[(String, Method, &'a Value)],
    ) -> Result<Entity, Error> {
        let module = self.entity_module(name);
        let type_name = naming::entity_type(name);
        let create_name = naming::create_type(name);
        let patch_name = naming::patch_type(name);
        let field_enum = naming::field_enum(name);
        let api_type = naming::api_type(name);
        let mut sink = Sink::new(
            &module,
            &[
                &type_name,
                &create_name,
                &patch_name,
                &field_enum,
                &api_type,
            ],
        );

        // The read struct.
        let pointer = format!("/components/schemas/{}", escape_pointer_token(name));
        let spec = self.spec;
        let Some(schema) = spec.schemas().get(name) else {
            return Err(spec.error(&pointer, "no such component schema"));
        };
        let fields = self.fields_of(
            schema,
            &pointer,
            &type_name,
            Some(name),
            &mut sink,
            StructStyle::Read,
        )?;

        let (collection, item) = (format!("/{name}"), format!("/{name}/{{id}}"));
        let mut standard = StandardOps::default();
        let mut create = None;
        let mut patch = None;
        let mut rest = Vec::new();
        let has_patch = ops
            .iter()
            .any(|(p, m, _)| *p == item && *m == Method::Patch);
        for (path, method, op) in ops {
            let op_pointer = format!("/paths/{}/{}", escape_pointer_token(path), method.key());
            let doc = Self::op_doc(op, *method, path);
            match (path == &collection, path == &item, method) {
                (true, _, Method::Get) => standard.list = Some(doc),
                (true, _, Method::Post) => {
                    let body = self.body_object(
                        op,
                        &op_pointer,
                        &create_name,
                        name,
                        &mut sink,
                        StructStyle::Create,
                    )?;
                    create = Some(Struct {
                        name: create_name.clone(),
                        doc: Some(format!(
                            "The fields of a new `{name}` record (`POST /{name}`)."
                        )),
                        fields: body,
                        style: StructStyle::Create,
                    });
                    standard.create = Some(doc);
                }
                (_, true, Method::Get) => standard.read = Some(doc),
                (_, true, Method::Delete) => standard.delete = Some(doc),
                (_, true, m @ (Method::Put | Method::Patch))
                    if *m == Method::Patch || !has_patch =>
                {
                    let body = self.body_object(
                        op,
                        &op_pointer,
                        &patch_name,
                        name,
                        &mut sink,
                        StructStyle::Patch,
                    )?;
                    patch = Some(Struct {
                        name: patch_name.clone(),
                        doc: Some(format!(
                            "Changes to a `{name}` record (`{} /{name}/{{id}}`): fields left `Unchanged` are not sent.",
                            m.as_str()
                        )),
                        fields: body,
                        style: StructStyle::Patch,
                    });
                    standard.update = Some((*m, doc));
                }
                _ => rest.push((path.clone(), *method, *op)),
            }
        }
        let mut namer = Namer::with_reserved([
            "list",
            "read",
            "create",
            "update",
            "update_matching",
            "update_ids",
            "delete",
            "delete_matching",
            "delete_ids",
            "upsert",
            "new",
            "client",
            "linked",
            "upload_bytes",
            "upload_path",
            "upload_reader",
            "upload_url",
            "download",
            "share",
        ]);
        let has_attributes = self
            .spec
            .paths()
            .get(&format!("/{name}/{{id}}/attributeValues"))
            .and_then(|p| p.get("get"))
            .is_some();
        if has_attributes {
            namer.claim("attributes", "_");
        }
        let mut operations = Vec::new();
        let mut runtime_routes = Vec::new();
        for (path, method, op) in rest {
            if let Some(by) = covered::entity_route(name, &path, method, has_attributes) {
                runtime_routes.push(RuntimeRoute {
                    route: format!("{} {path}", method.as_str()),
                    by: by.to_owned(),
                });
                continue;
            }
            operations.push(self.operation(name, &path, method, op, &mut namer, &mut sink)?);
        }
        let link_lists = self.link_lists(name, &mut namer);
        let flat_attributes = fields.iter().any(|f| {
            f.wire == "attributesDefs"
                && f.ty == Type::AttributeDefs
                && f.ident == "attributes_defs"
        });
        // The fields AtroCore's bulk upsert looks records up by (`unique: true` in the instance
        // metadata; `app/Atro/Services/MassActions.php::upsert`).
        let unique_fields = fields
            .iter()
            .filter(|f| {
                self.meta_field(name, &f.wire).is_some_and(|m| {
                    m.link.is_none() && m.def.get("unique").and_then(Value::as_bool) == Some(true)
                })
            })
            .map(|f| f.wire.clone())
            .collect();
        let (has_create, has_patch_struct) = (create.is_some(), patch.is_some());
        // The link fields of the write structs, one key type per link.
        let mut link_keys: Vec<LinkField> = Vec::new();
        for f in create.iter().chain(patch.iter()).flat_map(|s| &s.fields) {
            if let Type::Link(l) = &f.ty
                && !link_keys.iter().any(|k| k.keys == l.keys)
            {
                link_keys.push((**l).clone());
            }
        }
        link_keys.sort_by(|a, b| a.keys.cmp(&b.keys));
        Ok(Entity {
            name: name.to_owned(),
            module,
            doc: self.tag_docs.get(name).cloned(),
            unique_fields,
            // AtroCore keeps file contents on `File` records (`POST /File`, chunks; 2.2 serves
            // `POST /File` without documenting it).
            holds_files: name == "File",
            link_lists,
            has_attributes,
            schema_fields: self.schema_fields(name),
            attributes: Vec::new(),
            flat_attributes,
            type_name,
            field_enum,
            feature: None,
            feature_deps: Vec::new(),
            api_type,
            fields,
            create,
            patch,
            standard,
            operations,
            runtime_routes,
            shared_uses: Vec::new(),
            link_keys,
            ids: EntityTypeIds {
                id: self.id_types[name],
                read: self.entity_struct(name, EntityStruct::Read),
                create: has_create.then(|| self.entity_struct(name, EntityStruct::Create)),
                patch: has_patch_struct.then(|| self.entity_struct(name, EntityStruct::Patch)),
            },
            types: sink.ids,
        })
    }

    pub(super) fn group(
        &mut self,
        tag: &str,
        ops: &[(String, Method, &'a Value)],
    ) -> Result<Group, Error> {
        let module = self
            .group_modules
            .get(tag)
            .cloned()
            .unwrap_or_else(|| naming::module_name(tag));
        let api_type = naming::api_type(tag);
        let mut sink = Sink::new(&module, &[&api_type]);
        let mut namer = Namer::with_reserved(["new", "client"]);
        let mut operations = Vec::new();
        let mut runtime_routes = Vec::new();
        for (path, method, op) in ops {
            if let Some(by) = covered::global_route(path, *method) {
                runtime_routes.push(RuntimeRoute {
                    route: format!("{} {path}", method.as_str()),
                    by: by.to_owned(),
                });
                continue;
            }
            operations.push(self.operation(tag, path, *method, op, &mut namer, &mut sink)?);
        }
        Ok(Group {
            tag: tag.to_owned(),
            module,
            api_type,
            doc: self.tag_docs.get(tag).cloned(),
            operations,
            runtime_routes,
            shared_uses: Vec::new(),
            types: sink.ids,
        })
    }
}
