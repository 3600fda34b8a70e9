//! One route to an IR operation: its name, path template, parameters (path arguments, a
//! params struct), body and response.

use super::*;
use crate::path::{PathPart, PathTemplate};

impl<'a> Lowerer<'a> {
    pub(super) fn operation(
        &mut self,
        tag: &str,
        path: &str,
        method: Method,
        op: &'a Value,
        namer: &mut Namer,
        sink: &mut Sink,
    ) -> Result<Operation, Error> {
        let op_pointer = format!("/paths/{}/{}", escape_pointer_token(path), method.key());
        let template = PathTemplate::parse(path).map_err(|e| {
            self.spec.error(
                &format!("/paths/{}", escape_pointer_token(path)),
                format!("{} (at byte {})", e.message, e.at),
            )
        })?;
        // Named by what follows the module's own prefix.
        let rest =
            PathTemplate::below(path, &format!("/{tag}")).unwrap_or_else(|| template.clone());
        let base = naming::operation_name(method, &rest);
        let name = if namer.is_taken(&base) {
            let other = naming::operation_name_on_collision(method, &rest, &base);
            namer.claim(&other, "_")
        } else {
            namer.claim(&base, "_")
        };

        // Parameters: path ones become arguments; query/header ones a params struct.
        let mut path_params: BTreeMap<String, Type> = BTreeMap::new();
        let mut params_raw = Vec::new();
        if let Some(list) = op.get("parameters").and_then(Value::as_array) {
            for (i, p) in list.iter().enumerate() {
                let at = format!("{op_pointer}/parameters/{i}");
                let (p, at) = self.spec.resolve(p, &at)?;
                let (Some(pname), Some(location)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    return Err(self.spec.error(&at, "parameter without `name` or `in`"));
                };
                match location {
                    "path" => {
                        let ty = match p.pointer("/schema/type").and_then(Value::as_str) {
                            Some("integer") => Type::Integer,
                            _ => Type::String,
                        };
                        path_params.insert(pname.to_owned(), ty);
                    }
                    "query" | "header" => {
                        params_raw.push((pname.to_owned(), location == "query", p, at))
                    }
                    _ => {} // cookies: the runtime authenticates by header
                }
            }
        }
        let arg_names = naming::field_names(template.params(), &["self", "params", "body"]);
        let mut arg_iter = arg_names.into_iter();
        let path_parts = template
            .parts()
            .iter()
            .map(|p| match p {
                PathPart::Literal(l) => PathSegment::Literal(l.clone()),
                PathPart::Param(wire) => PathSegment::Param {
                    ident: arg_iter.next().unwrap_or_else(|| naming::snake(wire)),
                    // An entity's own `{id}` takes its id type (`impl AsId<ProductId>`).
                    ty: match (wire.as_str(), self.id_types.get(tag)) {
                        ("id", Some(id)) if path.starts_with(&format!("/{tag}/")) => {
                            Type::Named(*id)
                        }
                        _ => path_params.get(wire).cloned().unwrap_or(Type::String),
                    },
                    wire: wire.clone(),
                },
            })
            .collect();

        let idents = naming::field_names(params_raw.iter().map(|(n, _, _, _)| n.as_str()), &[]);
        let mut params = Vec::new();
        let params_type = naming::params_type(&name);
        for (i, (wire, is_query, p, at)) in params_raw.into_iter().enumerate() {
            let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
            let doc = p
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let (ty, encoding) = if wire == "where" && is_query {
                (Type::Where, ParamEncoding::Where)
            } else if p.get("content").is_some_and(Value::is_object) {
                // A JSON-content parameter: any value, sent in bracket notation.
                (Type::Json, ParamEncoding::Json)
            } else if let Some(schema) = p.get("schema") {
                // Named after the parameter alone, so the enum a module repeats on every route
                // (the `language` header) is one `Language` type.
                let ty = self.ty(schema, &format!("{at}/schema"), &wire, sink)?;
                let enc = match ty {
                    Type::Array(_) | Type::Json | Type::Map(_) => ParamEncoding::Json,
                    Type::Named(_) if !self.local_enum(sink, &ty) => ParamEncoding::Json,
                    _ => ParamEncoding::Plain,
                };
                (ty, enc)
            } else {
                (Type::String, ParamEncoding::Plain)
            };
            params.push(Param {
                wire,
                ident: idents[i].clone(),
                location: if is_query {
                    ParamLocation::Query
                } else {
                    ParamLocation::Header
                },
                ty,
                required,
                doc,
                encoding,
            });
        }
        let params_type = if params.is_empty() {
            None
        } else {
            Some(sink.namer.claim(&params_type, ""))
        };

        // The attribute routes (`app/Atro/Core/OpenApiGenerator.php` writes their schemas) say
        // `string` for every attribute value: their fields are typed by `attribute_field`.
        self.attribute_route = matches!(
            path.rsplit('/').next(),
            Some("attributeValues" | "upsertAttributeValues" | "addAttributes")
        );
        // The values of a record's attributes are one runtime type in both generations (2.2
        // `Templates/Controllers/Base.php`, 2.3 `EntityTypeHandlers/GetAttributeValuesHandler.php`
        // and `UpsertAttributeValuesHandler.php`: the same fields), as the typed
        // `attributes(id)` API reads and writes them: the route has the same type in both.
        let record_route = |tail: &str| path.ends_with(&format!("/{{id}}/{tail}"));
        let values_list = method == Method::Get && record_route("attributeValues");
        let values_upsert = method == Method::Post && record_route("upsertAttributeValues");
        let values_delete = method == Method::Delete && record_route("attributeValues");
        let body = match self.body_schema(op, &op_pointer)? {
            Some(_) if values_upsert => Some(Body {
                ty: Type::Array(Box::new(Type::AttributeValue)),
                required: true,
            }),
            Some((schema, at)) => {
                let hint = naming::body_type(&name);
                let ty = self.ty(schema, &at, &hint, sink)?;
                Some(Body {
                    ty,
                    required: op
                        .pointer("/requestBody/required")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            }
            None => None,
        };
        let mut response = if values_list {
            Response::Json(Type::Array(Box::new(Type::AttributeValue)))
        } else if values_delete {
            // 2.2 answers `{count, errors}` (`Templates/Controllers/Base.php`), 2.3 `true` or
            // `304` (`EntityTypeHandlers/DeleteAttributeValuesHandler.php`).
            Response::RemovedAttributes
        } else {
            self.response(op, &op_pointer, &name, sink)?
        };
        self.attribute_route = false;
        // Attribute writes answer `true`, or `304` when they change nothing (2.2
        // `Base::actionUpsertAttributeValues`, 2.3 `UpsertAttributeValuesHandler` and
        // `DeleteAttributeValuesHandler` let `NotModified` through).
        let attribute_write = matches!(
            (method, path.rsplit('/').next()),
            (Method::Post, Some("upsertAttributeValues"))
                | (Method::Delete, Some("attributeValues"))
        );
        if attribute_write && matches!(response, Response::Json(Type::Boolean)) {
            response = Response::WriteOutcome;
        }
        // Where the spec says something AtroCore does not do, the server wins (`errata.rs`).
        let mut method = method;
        let mut doc_note = None;
        if let Some(e) = errata::find(
            self.generation,
            method,
            path,
            self.entity_modules.contains_key(tag),
        ) {
            method = e.send.unwrap_or(method);
            response = match &e.answer {
                errata::Answer::Json(schema) => {
                    let at = format!("{op_pointer}/responses (corrected: {})", e.source);
                    Response::Json(self.ty(schema, &at, &naming::response_type(&name), sink)?)
                }
                errata::Answer::Bytes => Response::Bytes,
            };
            doc_note = Some(format!(
                "The spec is corrected here: {} ({}).",
                e.note, e.source
            ));
        }
        let mut doc = Self::op_doc(op, method, path);
        if let Some(note) = doc_note {
            doc.text = Some(match doc.text.take() {
                Some(t) => format!("{t}\n\n{note}"),
                None => note,
            });
        }
        Ok(Operation {
            name,
            method,
            path: path.to_owned(),
            path_parts,
            doc,
            params,
            params_type,
            params_shared: false,
            body,
            response,
            deprecated: op
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    pub(super) fn response(
        &mut self,
        op: &'a Value,
        op_pointer: &str,
        name: &str,
        sink: &mut Sink,
    ) -> Result<Response, Error> {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            return Ok(Response::Empty);
        };
        let mut success: Vec<(&String, &Value)> = responses
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .collect();
        success.sort_by(|a, b| a.0.cmp(b.0));
        let Some((code, response)) = success.first() else {
            return Ok(Response::Empty);
        };
        let at = format!("{op_pointer}/responses/{code}");
        let (response, at) = self.spec.resolve(response, &at)?;
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            return Ok(Response::Empty);
        };
        let json = content
            .iter()
            .find(|(ct, _)| ct.starts_with("application/json") || ct.ends_with("+json"));
        match json {
            Some((ct, media)) => match media.get("schema") {
                Some(schema) => {
                    let hint = naming::response_type(name);
                    let ty = self.ty(
                        schema,
                        &format!("{at}/content/{}/schema", escape_pointer_token(ct)),
                        &hint,
                        sink,
                    )?;
                    Ok(Response::Json(ty))
                }
                None => Ok(Response::Json(Type::Json)),
            },
            None if content.is_empty() => Ok(Response::Empty),
            None => Ok(Response::Bytes),
        }
    }
}
