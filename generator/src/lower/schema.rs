//! Schemas to IR types: scalars, arrays, maps, `$ref`s to shared component schemas, inline
//! enums and structs, and the `types` module's definitions.

use super::*;

impl<'a> Lowerer<'a> {
    /// The type of a schema; inline objects and enums become named types in `sink` under `hint`.
    pub(super) fn ty(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        hint: &str,
        sink: &mut Sink,
    ) -> Result<Type, Error> {
        if let Some(name) = Spec::ref_name(schema) {
            // Validate the reference.
            self.spec.resolve(schema, pointer)?;
            return Ok(self.named_ref(&name));
        }
        let (schema, pointer) = self.spec.resolve(schema, pointer)?;
        self.enter(Nesting::Type, schema, &pointer)?;
        let ty = self.ty_of(schema, &pointer, hint, sink);
        self.leave(Nesting::Type);
        ty
    }

    /// [`Lowerer::ty`] of a schema that is not a reference to a component.
    pub(super) fn ty_of(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        hint: &str,
        sink: &mut Sink,
    ) -> Result<Type, Error> {
        let Some(obj) = schema.as_object() else {
            if schema.as_array().is_some_and(Vec::is_empty) {
                self.warn(
                    pointer,
                    "schema `[]` (PHP's empty object) read as `{}`: any JSON value",
                );
                return Ok(Type::Json);
            }
            return Err(self.spec.error(pointer, "schema is not an object"));
        };
        if obj.contains_key("anyOf") || obj.contains_key("oneOf") {
            return Ok(Type::Json);
        }
        if obj.contains_key("allOf") {
            return self.inline_struct(schema, pointer, hint, sink);
        }
        let ty = match obj.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("null"),
            _ if obj.contains_key("properties") => "object",
            _ => return Ok(Type::Json),
        };
        Ok(match ty {
            "string" => match obj.get("enum").and_then(Value::as_array) {
                Some(values) if !values.is_empty() && values.iter().all(Value::is_string) => {
                    let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                    let doc = obj
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .unwrap_or_else(|| describe_pointer(pointer));
                    self.inline_enum(&values, Some(doc), None, hint, sink)
                }
                _ => Type::String,
            },
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            "array" => match obj.get("items") {
                None => {
                    self.warn(
                        pointer,
                        "array without `items`: items read as any JSON value",
                    );
                    Type::Array(Box::new(Type::Json))
                }
                Some(Value::Array(a)) if a.is_empty() => {
                    self.warn(
                        &format!("{pointer}/items"),
                        "`items: []` is invalid OpenAPI (PHP's encoding of `{}`): items read as any JSON value",
                    );
                    Type::Array(Box::new(Type::Json))
                }
                Some(items) => {
                    let item_hint = format!("{hint}Item");
                    Type::Array(Box::new(self.ty(
                        items,
                        &format!("{pointer}/items"),
                        &item_hint,
                        sink,
                    )?))
                }
            },
            "object" => {
                let has_props = obj
                    .get("properties")
                    .and_then(Value::as_object)
                    .is_some_and(|p| !p.is_empty());
                if has_props {
                    self.inline_struct(schema, pointer, hint, sink)?
                } else {
                    match obj.get("additionalProperties") {
                        Some(ap @ Value::Object(m)) if !m.is_empty() => {
                            let value_hint = format!("{hint}Value");
                            Type::Map(Box::new(self.ty(
                                ap,
                                &format!("{pointer}/additionalProperties"),
                                &value_hint,
                                sink,
                            )?))
                        }
                        _ => Type::Json,
                    }
                }
            }
            "null" => Type::Json,
            other => {
                self.warn(
                    pointer,
                    format!("unknown type {other:?}: read as any JSON value"),
                );
                Type::Json
            }
        })
    }

    pub(super) fn named_ref(&mut self, name: &str) -> Type {
        let entity_of = |suffix: &str| {
            name.strip_suffix(suffix)
                .filter(|e| self.all_entities.contains(*e))
        };
        if self.all_entities.contains(name) {
            if !self.entities.contains(name) {
                return Type::Json;
            }
            return Type::Named(self.entity_struct(name, EntityStruct::Read));
        }
        for (suffix, which) in [
            ("Post", EntityStruct::Create),
            ("Patch", EntityStruct::Patch),
        ] {
            if let Some(entity) = entity_of(suffix) {
                if !self.entities.contains(entity) {
                    return Type::Json;
                }
                let entity = entity.to_owned();
                return Type::Named(self.entity_struct(&entity, which));
            }
        }
        if let Some(id) = self.shared_wanted.get(name) {
            return Type::Named(*id);
        }
        // Reserved now, defined by `shared_types` once every reference is known.
        let type_name = self.shared_namer.claim_camel(name);
        let id = self
            .types
            .push(type_name, TYPES_MODULE.to_owned(), Definition::Pending);
        self.shared_wanted.insert(name.to_owned(), id);
        Type::Named(id)
    }

    pub(super) fn inline_enum(
        &mut self,
        values: &[&str],
        doc: Option<String>,
        default: Option<&str>,
        hint: &str,
        sink: &mut Sink,
    ) -> Type {
        let key = format!("enum:{}:{}", default.unwrap_or(""), values.join("\u{0}"));
        if let Some(id) = sink.seen.get(&key) {
            return Type::Named(*id);
        }
        let name = sink.namer.claim_camel(hint);
        let variants = naming::variant_names(values.iter().copied(), &["Other"]);
        let default = default
            .and_then(|d| values.iter().position(|v| *v == d))
            .map(|i| variants[i].clone());
        let def = TypeDef::Enum(Enum {
            name: name.clone(),
            doc,
            variants: variants
                .into_iter()
                .zip(values.iter().map(|v| (*v).to_owned()))
                .collect(),
            default,
        });
        let id = self
            .types
            .push(name, sink.module.clone(), Definition::Def(def));
        sink.seen.insert(key, id);
        sink.ids.push(id);
        Type::Named(id)
    }

    /// An inline object becomes a struct named after where it is used. Identical objects used
    /// in different places are not merged: a shared name like `DeleteAttributeValuesBody` on
    /// `add_attributes` would mislead, and a spec change in one place must not rename another.
    pub(super) fn inline_struct(
        &mut self,
        schema: &'a Value,
        pointer: &str,
        hint: &str,
        sink: &mut Sink,
    ) -> Result<Type, Error> {
        let name = sink.namer.claim_camel(hint);
        // Reserve the slot now so nested types come after their parent in output order.
        let id = self
            .types
            .push(name.clone(), sink.module.clone(), Definition::Pending);
        sink.ids.push(id);
        let fields = self.object_fields(schema, pointer, &name, sink, StructStyle::Plain)?;
        let doc = schema
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| Some(describe_pointer(pointer)));
        self.types.get_mut(id).def = Definition::Def(TypeDef::Struct(Struct {
            name,
            doc,
            fields,
            style: StructStyle::Plain,
        }));
        Ok(Type::Named(id))
    }
}

impl<'a> Lowerer<'a> {
    /// Lower the component schemas referenced from other types into the `types` module.
    pub(super) fn shared_types(&mut self) -> Result<Vec<TypeId>, Error> {
        let mut sink = Sink::new(TYPES_MODULE, &[]);
        let mut done: BTreeSet<String> = BTreeSet::new();
        // Types may reference more shared types: iterate to a fixed point.
        loop {
            let pending: Vec<(String, TypeId)> = self
                .shared_wanted
                .iter()
                .filter(|(n, _)| !done.contains(*n))
                .map(|(n, id)| (n.clone(), *id))
                .collect();
            if pending.is_empty() {
                break;
            }
            for (schema_name, id) in pending {
                let type_name = self.types.get(id).name.clone();
                done.insert(schema_name.clone());
                sink.namer.claim(&type_name, "");
                let pointer = format!("/components/schemas/{}", escape_pointer_token(&schema_name));
                let spec = self.spec;
                let Some(schema) = spec.schemas().get(&schema_name) else {
                    return Err(spec.error(&pointer, "no such component schema"));
                };
                let (resolved, _) = self.spec.resolve(schema, &pointer)?;
                let def = match resolved.get("enum").and_then(Value::as_array) {
                    Some(values) if values.iter().all(Value::is_string) && !values.is_empty() => {
                        let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                        let variants = naming::variant_names(values.iter().copied(), &["Other"]);
                        Some(TypeDef::Enum(Enum {
                            name: type_name.clone(),
                            doc: Some(
                                resolved
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .map_or_else(
                                        || format!("The spec's `{schema_name}` schema."),
                                        str::to_owned,
                                    ),
                            ),
                            variants: variants
                                .into_iter()
                                .zip(values.iter().map(|v| (*v).to_owned()))
                                .collect(),
                            default: None,
                        }))
                    }
                    _ => None,
                };
                let def = match def {
                    Some(d) => d,
                    None => {
                        let fields = self.object_fields(
                            schema,
                            &pointer,
                            &type_name,
                            &mut sink,
                            StructStyle::Plain,
                        )?;
                        TypeDef::Struct(Struct {
                            name: type_name.clone(),
                            doc: Some(
                                resolved
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .map_or_else(
                                        || format!("The spec's `{schema_name}` schema."),
                                        str::to_owned,
                                    ),
                            ),
                            fields,
                            style: StructStyle::Plain,
                        })
                    }
                };
                self.types.get_mut(id).def = Definition::Def(def);
                sink.ids.push(id);
            }
        }
        let mut ids = sink.ids;
        ids.sort_by(|a, b| self.types.get(*a).name.cmp(&self.types.get(*b).name));
        Ok(ids)
    }
}
