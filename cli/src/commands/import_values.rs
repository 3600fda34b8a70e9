//! Import input → upsert payloads, checked against the metadata: which field a column (or JSON
//! key) names, and the value of a cell (text) or JSON value for the field's kind.
//!
//! Names: `field` (a link field takes the linked record's id), `brandId` / `categoriesIds` (ids),
//! `brand.name` / `categories.code` (find the linked record by that field, creating it when none
//! matches: the runtime's `LinkTo` lookup). Read-only fields and the `brandName`-style labels an
//! export writes are skipped. In CSV, lists are separated by `|` (or written as a JSON array).

use atrocore_runtime::{Date, DateTime};
use serde_json::{Map, Number, Value};

use crate::metadata::{Entity, Field, Kind};

/// What an input column is.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// The record id.
    Id,
    /// A field written as is (after conversion).
    Field(Field),
    /// The id(s) of a link field, under `brandId` / `categoriesIds`.
    LinkIds(Field),
    /// Find-or-create a linked record by `lookup_field`.
    Lookup {
        /// The link field.
        link: Field,
        /// The linked entity's field to find by.
        lookup_field: String,
    },
    /// Not written (read-only field, derived label, or unknown with `--ignore-unknown`).
    Skip,
    /// An attribute value by code (a CSV header `attr:CODE`, or a name given to
    /// `--attributes`): written as the flattened field `CODE` (the import then sends
    /// `Flatten-Attributes`); a number, `true`/`false`, or text.
    Attribute(String),
}

/// The attribute column `name` names: `attr:CODE` (CSV headers), or a name in `listed`.
pub fn attribute_column(name: &str, listed: &[String], prefix: bool) -> Option<Column> {
    match name.strip_prefix("attr:") {
        Some(code) if prefix && !code.is_empty() => Some(Column::Attribute(code.to_owned())),
        _ => listed
            .iter()
            .any(|l| l == name)
            .then(|| Column::Attribute(name.to_owned())),
    }
}

/// An attribute cell: no metadata says its kind, so a number stays a number, `true`/`false`
/// a flag, the rest text.
fn attribute_value(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if let Some(n) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
        return Value::from(n);
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text.to_owned()),
    }
}

/// What `name` means for `entity`; `Err` for a name that is not a field (with suggestions).
pub fn column(entity: &Entity, name: &str) -> Result<Column, String> {
    if name == "id" {
        return Ok(Column::Id);
    }
    if let Some((link, lookup)) = name.split_once('.') {
        let f = entity.field(link)?;
        if !matches!(f.kind, Kind::Link | Kind::LinkMultiple) || lookup.is_empty() {
            return Err(format!(
                "`{name}`: `{link}.<field>` finds a linked record, but `{link}` is a {} field",
                f.ty
            ));
        }
        return Ok(Column::Lookup {
            link: f.clone(),
            lookup_field: lookup.to_owned(),
        });
    }
    if let Some(f) = entity.fields.get(name) {
        if f.read_only {
            return Ok(Column::Skip);
        }
        return Ok(match f.kind {
            Kind::Link | Kind::LinkMultiple => Column::LinkIds(f.clone()),
            _ => Column::Field(f.clone()),
        });
    }
    if let Some(f) = entity.field_or_id(name) {
        return Ok(if f.read_only {
            Column::Skip
        } else {
            Column::LinkIds(f.clone())
        });
    }
    // `brandName`, `categoriesNames`: labels an export carries.
    let label_of = name
        .strip_suffix("Names")
        .or_else(|| name.strip_suffix("Name"))
        .and_then(|base| entity.fields.get(base));
    if label_of.is_some_and(|f| matches!(f.kind, Kind::Link | Kind::LinkMultiple)) {
        return Ok(Column::Skip);
    }
    entity.field(name).map(|_| Column::Skip)
}

fn split_list(text: &str) -> Result<Vec<String>, String> {
    let t = text.trim();
    if t.starts_with('[') {
        let v: Vec<Value> =
            serde_json::from_str(t).map_err(|e| format!("not a JSON list ({e})"))?;
        return Ok(v
            .into_iter()
            .map(|x| match x {
                Value::String(s) => s,
                other => other.to_string(),
            })
            .collect());
    }
    Ok(t.split('|')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

fn check_options(f: &Field, values: &[&str]) -> Result<(), String> {
    let enumish = matches!(f.ty.as_str(), "enum" | "multiEnum");
    if let (true, Some(options)) = (enumish, &f.options) {
        for v in values {
            if !options.is_empty() && !options.iter().any(|o| o == v) {
                return Err(format!(
                    "`{}`: no option {v:?} (options: {})",
                    f.name,
                    options.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// The value of a text cell (CSV) for field `f`.
pub fn from_text(f: &Field, text: &str) -> Result<Value, String> {
    let bad = |expected: &str| {
        format!(
            "`{}` ({}): expected {expected}, found {text:?}",
            f.name, f.ty
        )
    };
    let t = text.trim();
    Ok(match f.kind {
        Kind::Int => Value::Number(t.parse::<i64>().map_err(|_| bad("a whole number"))?.into()),
        Kind::Float => Value::Number(
            t.parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .ok_or_else(|| bad("a number"))?,
        ),
        Kind::Bool => Value::Bool(match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => return Err(bad("true or false")),
        }),
        Kind::Date => Value::String(
            t.parse::<Date>()
                .map_err(|_| bad("a date (2024-05-01)"))?
                .to_string(),
        ),
        Kind::DateTime => Value::String(
            t.parse::<DateTime>()
                .map_err(|_| bad("a date-time (2024-05-01 10:00:00)"))?
                .to_string(),
        ),
        Kind::Array => {
            let items = split_list(text).map_err(|e| bad(&e))?;
            check_options(f, &items.iter().map(String::as_str).collect::<Vec<_>>())?;
            Value::Array(items.into_iter().map(Value::String).collect())
        }
        Kind::Json => serde_json::from_str(t).map_err(|_| bad("JSON"))?,
        Kind::Link => Value::String(t.to_owned()),
        Kind::LinkMultiple => Value::Array(
            split_list(text)
                .map_err(|e| bad(&e))?
                .into_iter()
                .map(Value::String)
                .collect(),
        ),
        Kind::Text | Kind::Other => {
            check_options(f, &[text])?;
            Value::String(text.to_owned())
        }
    })
}

/// The value of a JSON value (JSONL) for field `f`: JSON of the right type, or text converted
/// as a CSV cell would be.
pub fn from_json(f: &Field, v: &Value) -> Result<Value, String> {
    let bad = |expected: &str| format!("`{}` ({}): expected {expected}, found {v}", f.name, f.ty);
    match (f.kind, v) {
        (_, Value::Null) => Ok(Value::Null),
        (_, Value::String(s)) if f.kind != Kind::Json => from_text(f, s),
        (Kind::Int, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(v.clone()),
        (Kind::Int, _) => Err(bad("a whole number")),
        (Kind::Float, Value::Number(_)) => Ok(v.clone()),
        (Kind::Float, _) => Err(bad("a number")),
        (Kind::Bool, Value::Bool(_)) => Ok(v.clone()),
        (Kind::Bool, _) => Err(bad("true or false")),
        (Kind::Array | Kind::LinkMultiple, Value::Array(items)) => {
            let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            if texts.len() != items.len() {
                return Err(bad("a list of strings"));
            }
            check_options(f, &texts)?;
            Ok(v.clone())
        }
        (Kind::Json | Kind::Other, _) => Ok(v.clone()),
        (Kind::Text, Value::Number(_) | Value::Bool(_)) => Ok(Value::String(v.to_string())),
        _ => Err(bad("text")),
    }
}

/// Adds the value of `col` to `payload`.
pub fn put(payload: &mut Map<String, Value>, col: &Column, value: Value) -> Result<(), String> {
    match col {
        Column::Skip => {}
        Column::Id => {
            payload.insert("id".into(), value);
        }
        Column::Field(f) => {
            payload.insert(f.name.clone(), value);
        }
        Column::Attribute(code) => {
            payload.insert(code.clone(), value);
        }
        Column::LinkIds(f) => {
            if payload.contains_key(&f.name) {
                return Err(format!("`{}` is given both by id and by lookup", f.name));
            }
            payload.insert(f.id_name(), value);
        }
        Column::Lookup { link, lookup_field } => {
            if payload.contains_key(&link.id_name()) {
                return Err(format!("`{}` is given both by id and by lookup", link.name));
            }
            let one = |v: Value| {
                let mut m = Map::new();
                m.insert(lookup_field.clone(), v);
                Value::Object(m)
            };
            let entry = if link.kind == Kind::LinkMultiple {
                let items = match value {
                    Value::Array(items) => items,
                    Value::String(s) => split_list(&s)?.into_iter().map(Value::String).collect(),
                    other => vec![other],
                };
                Value::Array(items.into_iter().map(one).collect())
            } else {
                one(value)
            };
            // Several lookup columns of one link (brand.name, brand.code) make one lookup.
            match (payload.get_mut(&link.name), entry) {
                (Some(Value::Object(existing)), Value::Object(add)) => existing.extend(add),
                (_, entry) => {
                    payload.insert(link.name.clone(), entry);
                }
            }
        }
    }
    Ok(())
}

/// The value of `col` from a CSV cell (`None` for an empty cell: the field is not sent).
pub fn cell_value(col: &Column, text: &str) -> Result<Option<Value>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    Ok(Some(match col {
        Column::Skip => return Ok(None),
        Column::Id => Value::String(text.to_owned()),
        Column::Field(f) | Column::LinkIds(f) => from_text(f, text)?,
        Column::Lookup { .. } => Value::String(text.to_owned()),
        Column::Attribute(_) => attribute_value(text),
    }))
}

/// Adds the JSON value `v` of `col` to `payload`. Under a link field's own name, an object (or
/// a list of objects for a multiple link) is a find-or-create lookup (`"brand": {"name": "Acme"}`)
/// and text an id.
pub fn put_json(payload: &mut Map<String, Value>, col: &Column, v: &Value) -> Result<(), String> {
    let value = match col {
        Column::Skip => return Ok(()),
        Column::Id => match v {
            Value::String(_) => v.clone(),
            _ => return Err(format!("`id` must be a string, found {v}")),
        },
        Column::Field(f) => from_json(f, v)?,
        Column::Attribute(_) => v.clone(),
        Column::LinkIds(f) => {
            let lookups = match v {
                Value::Object(_) => f.kind == Kind::Link,
                Value::Array(items) => {
                    f.kind == Kind::LinkMultiple
                        && !items.is_empty()
                        && items.iter().all(Value::is_object)
                }
                _ => false,
            };
            if lookups {
                if payload.contains_key(&f.id_name()) {
                    return Err(format!("`{}` is given both by id and by lookup", f.name));
                }
                payload.insert(f.name.clone(), v.clone());
                return Ok(());
            }
            from_json(f, v)?
        }
        Column::Lookup { .. } => v.clone(),
    };
    put(payload, col, value)
}

/// The required fields `payload` lacks, when it would create a record (no id and no unique
/// field value).
pub fn missing_required(entity: &Entity, payload: &Map<String, Value>) -> Vec<String> {
    let set = |k: &str| payload.get(k).is_some_and(|v| !v.is_null() && v != "");
    if set("id") || entity.unique_fields().iter().any(|u| set(u)) {
        return Vec::new();
    }
    entity
        .fields
        .values()
        .filter(|f| f.required && !f.read_only)
        .filter(|f| !(set(&f.name) || set(&f.id_name())))
        .map(|f| f.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::Metadata;
    use serde_json::json;

    fn product() -> Entity {
        Metadata::from_json(&json!({"entityDefs": {"Product": {
            "fields": {
                "name": {"type": "varchar", "required": true},
                "sku": {"type": "varchar", "unique": true},
                "sortOrder": {"type": "int"},
                "price": {"type": "float"},
                "isActive": {"type": "bool"},
                "brand": {"type": "link", "required": true},
                "categories": {"type": "linkMultiple"},
                "tag": {"type": "multiEnum", "options": ["a", "b"]},
                "releaseDate": {"type": "date"},
                "createdAt": {"type": "datetime", "readOnly": true}
            }
        }}}))
        .unwrap()
        .entities["Product"]
            .clone()
    }

    fn row(cells: &[(&str, &str)]) -> Result<Map<String, Value>, String> {
        let e = product();
        let mut m = Map::new();
        for (name, text) in cells {
            let col = column(&e, name)?;
            if let Some(v) = cell_value(&col, text)? {
                put(&mut m, &col, v)?;
            }
        }
        Ok(m)
    }

    #[test]
    fn columns_by_name() {
        let e = product();
        assert_eq!(column(&e, "id").unwrap(), Column::Id);
        assert!(matches!(column(&e, "brand").unwrap(), Column::LinkIds(_)));
        assert!(matches!(column(&e, "brandId").unwrap(), Column::LinkIds(_)));
        assert!(matches!(
            column(&e, "brand.name").unwrap(),
            Column::Lookup { .. }
        ));
        assert_eq!(column(&e, "brandName").unwrap(), Column::Skip);
        assert_eq!(column(&e, "createdAt").unwrap(), Column::Skip);
        assert!(
            column(&e, "nmae")
                .unwrap_err()
                .contains("did you mean `name`")
        );
        assert!(column(&e, "sortOrder.x").unwrap_err().contains("int field"));
    }

    #[test]
    fn cells_are_converted_by_kind() {
        let m = row(&[
            ("name", "Chair"),
            ("sortOrder", " 3 "),
            ("price", "2.5"),
            ("isActive", "yes"),
            ("brand.name", "Acme"),
            ("categories", "c1|c2"),
            ("tag", "[\"a\",\"b\"]"),
            ("releaseDate", "2024-05-01"),
            ("createdAt", "whatever"),
            ("sku", ""),
        ])
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"name": "Chair", "sortOrder": 3, "price": 2.5, "isActive": true,
                   "brand": {"name": "Acme"}, "categoriesIds": ["c1", "c2"], "tag": ["a", "b"],
                   "releaseDate": "2024-05-01"})
        );
        assert!(
            row(&[("sortOrder", "3.5")])
                .unwrap_err()
                .contains("whole number")
        );
        assert!(
            row(&[("tag", "a|c")])
                .unwrap_err()
                .contains("no option \"c\"")
        );
        assert!(
            row(&[("releaseDate", "01/05/2024")])
                .unwrap_err()
                .contains("a date")
        );
        assert!(
            row(&[("brand", "b1"), ("brand.name", "x")])
                .unwrap_err()
                .contains("both")
        );
    }

    #[test]
    fn json_values_and_required_fields() {
        let e = product();
        let f = e.fields["sortOrder"].clone();
        assert_eq!(from_json(&f, &json!(4)).unwrap(), json!(4));
        assert_eq!(from_json(&f, &json!("4")).unwrap(), json!(4));
        assert!(from_json(&f, &json!(4.5)).is_err());
        let text = e.fields["name"].clone();
        assert_eq!(from_json(&text, &json!(12)).unwrap(), json!("12"));
        let m = row(&[("sortOrder", "1")]).unwrap();
        assert_eq!(missing_required(&e, &m), ["brand", "name"]);
        let keyed = row(&[("sku", "x1")]).unwrap();
        assert!(missing_required(&e, &keyed).is_empty());
        let full = row(&[("name", "n"), ("brandId", "b1")]).unwrap();
        assert!(missing_required(&e, &full).is_empty());
        let mut m = Map::new();
        put_json(
            &mut m,
            &column(&e, "brand").unwrap(),
            &json!({"code": "acme"}),
        )
        .unwrap();
        put_json(&mut m, &column(&e, "categories").unwrap(), &json!(["c1"])).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"brand": {"code": "acme"}, "categoriesIds": ["c1"]})
        );
    }
}
