//! Translation of AtroCore `where` conditions (already parsed from PHP bracket notation) to SQL,
//! with AtroCore's semantics, defects included (`app/Atro/Core/SelectManagers/Base.php`
//! `convertWhere`/`getWherePart` and `app/Atro/ORM/DB/RDB/Query/QueryConverter.php::getWhere`,
//! 2.2.31 and 2.3.16; see `FIDELITY.md`):
//! - an item without `type`, or with a type the select manager does not know, adds no condition;
//!   so does an `and`/`or` with no members (it is dropped from the group around it);
//! - `not` never negates: at the top level the converter turns it into `id IN (<array>)`, which
//!   matches nothing; inside a group it is dropped (its siblings stay);
//! - an empty `in`/`notIn` list is `FALSE`/`TRUE` at the top level and dropped inside a group;
//! - positive operators never match `NULL` (`<>`, `NOT IN`, `NOT LIKE`, `= FALSE`);
//! - `like`/`notLike` lower-case both sides only when the pattern holds `%` (so `contains`,
//!   `startsWith`, `endsWith` are case-insensitive, an exact `like` is case-sensitive as on
//!   PostgreSQL; the store sets `case_sensitive_like`);
//! - an unknown field matches nothing on 2.2 (`:false`) and fails with a database error (500) on 2.3.
//!
//! Values arrive as strings, the way PHP hands them over; the SQL compares them against typed
//! columns, so SQLite's column affinity converts them like MySQL/PostgreSQL would for AtroCore.
//! Booleans are the exception: `"true"`/`"false"` become 1/0 explicitly.

use axum::http::StatusCode;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::model::{Entity, Generation, Kind, LinkKind, Model};
use crate::query::dates::{self, DateCond, Temporal};
use crate::store::ident;
use crate::util::ApiError;

/// An SQL condition over table alias `t` with its positional parameters.
#[derive(Debug, Default)]
pub struct SqlFilter {
    /// The condition text (empty = no condition).
    pub sql: String,
    /// Parameters for the `?` placeholders, in order.
    pub params: Vec<SqlValue>,
    /// The bool filters named by top-level `{type: bool, value: [names]}` items
    /// (`app/Atro/Core/SelectManagers/Base.php::where` applies them at the top level only).
    pub bool_filters: Vec<String>,
    /// The attribute ids of `isAttribute` conditions (suffixes `UnitId`, `From`, `To`, `Id`,
    /// `PrefixId` removed), which must name existing attributes.
    pub attribute_ids: Vec<String>,
}

/// Why a `where` cannot be run: a bad request (400) or what AtroCore answers with a database
/// error (500).
#[derive(Debug)]
pub enum WhereError {
    /// 400 with this message.
    Bad(String),
    /// 500 with this message (2.3 builds SQL on a column that does not exist).
    Server(String),
}

impl From<WhereError> for ApiError {
    fn from(e: WhereError) -> Self {
        match e {
            WhereError::Bad(m) => ApiError::bad(m),
            WhereError::Server(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

impl From<String> for WhereError {
    fn from(s: String) -> Self {
        WhereError::Bad(s)
    }
}

impl From<&str> for WhereError {
    fn from(s: &str) -> Self {
        WhereError::Bad(s.to_string())
    }
}

/// Builds the SQL for a whole `where` array.
pub fn build_where(model: &Model, e: &Entity, where_: &Value) -> Result<SqlFilter, WhereError> {
    let items = as_list(where_).ok_or("Parameter 'where' must be an array of conditions.")?;
    let mut b = Builder {
        model,
        e,
        params: Vec::new(),
        attribute_ids: Vec::new(),
    };
    let mut parts = Vec::new();
    let mut bool_filters = Vec::new();
    for c in items {
        if c.get("type").and_then(Value::as_str) == Some("bool") {
            let names = c
                .get("value")
                .map(|v| Builder::list(Some(v)))
                .unwrap_or_default();
            bool_filters.extend(names.iter().filter_map(|n| n.as_str().map(str::to_string)));
            continue;
        }
        if let Some(p) = b.cond(c, false)? {
            parts.push(p);
        }
    }
    Ok(SqlFilter {
        sql: join(&parts, "AND", "1"),
        params: b.params,
        bool_filters,
        attribute_ids: b.attribute_ids,
    })
}

/// A PHP array as a list: a JSON array, or an object's values in key order.
fn as_list(v: &Value) -> Option<Vec<&Value>> {
    match v {
        Value::Array(a) => Some(a.iter().collect()),
        Value::Object(o) => Some(o.values().collect()),
        _ => None,
    }
}

fn join(parts: &[String], op: &str, empty: &str) -> String {
    if parts.is_empty() {
        empty.to_string()
    } else {
        format!("({})", parts.join(&format!(" {op} ")))
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true" || s == "1",
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

struct Builder<'a> {
    model: &'a Model,
    e: &'a Entity,
    params: Vec<SqlValue>,
    /// The attribute ids the conditions name (`isAttribute`).
    attribute_ids: Vec<String>,
}

/// A value expression to compare, and how to convert compared values.
struct Target {
    expr: String,
    kind: Option<Kind>,
    /// A `date` or `datetime` field (from the instance metadata).
    temporal: Option<Temporal>,
}

impl Builder<'_> {
    fn push(&mut self, v: SqlValue) -> &'static str {
        self.params.push(v);
        "?"
    }

    fn scalar(&self, t: &Target, v: &Value) -> SqlValue {
        match (t.kind, v) {
            (_, Value::Null) => SqlValue::Null,
            (Some(Kind::Bool), Value::String(s)) => {
                SqlValue::Integer(i64::from(s == "true" || s == "1"))
            }
            (Some(Kind::Bool), Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
            (None, Value::String(s)) => match (s.parse::<i64>(), s.parse::<f64>()) {
                (Ok(i), _) => SqlValue::Integer(i),
                (_, Ok(f)) if f.is_finite() => SqlValue::Real(f),
                _ => SqlValue::Text(s.clone()),
            },
            (_, Value::String(s)) => SqlValue::Text(s.clone()),
            (_, Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
            (_, Value::Number(n)) => match n.as_i64() {
                Some(i) => SqlValue::Integer(i),
                None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
            },
            (_, other) => SqlValue::Text(other.to_string()),
        }
    }

    fn text(v: Option<&Value>) -> Result<String, String> {
        match v {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            _ => Err("Where condition needs a scalar 'value'.".to_string()),
        }
    }

    fn list(v: Option<&Value>) -> Vec<Value> {
        match v {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Object(o)) => o.values().cloned().collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![other.clone()],
        }
    }

    fn target(&mut self, cond: &Value, attr: &str) -> Option<Target> {
        if truthy(cond.get("isAttribute")) {
            // `AttributeFieldConverter::getAttributeIdFromFieldName`.
            let id = ["PrefixId", "UnitId", "From", "To", "Id"]
                .iter()
                .find_map(|s| attr.strip_suffix(s))
                .unwrap_or(attr);
            self.attribute_ids.push(id.to_owned());
            return Some(Target {
                expr: format!(
                    "(SELECT json_extract(av.data, '$.value') FROM _sim_attr_value av \
                     WHERE av.entity={} AND av.record_id=t.\"id\" AND av.attribute_id={})",
                    sql_str(&self.e.name),
                    sql_str(attr)
                ),
                kind: None,
                temporal: None,
            });
        }
        if let Some(f) = self.e.field(attr) {
            let temporal = match f.meta_type.as_deref() {
                Some("date") => Some(Temporal::Date),
                Some("datetime") => Some(Temporal::DateTime),
                _ => None,
            };
            return Some(Target {
                expr: format!("t.{}", ident(&f.name)),
                kind: Some(f.kind),
                temporal,
            });
        }
        if let Some(col) = self.e.link(attr).and_then(|l| l.column.clone())
            && let Some(f) = self.e.field(&col)
        {
            return Some(Target {
                expr: format!("t.{}", ident(&col)),
                kind: Some(f.kind),
                temporal: None,
            });
        }
        None
    }

    /// On 2.3, for `<link>Id` of a belongs-to link: "the linked record exists but is deleted".
    fn deleted_target(&self, attr: &str) -> Option<String> {
        if self.model.generation != Generation::V23 {
            return None;
        }
        let link = self.e.link(attr.strip_suffix("Id")?)?;
        if link.kind != LinkKind::BelongsTo || link.column.as_deref() != Some(attr) {
            return None;
        }
        let target = self.model.entity(link.entity.as_deref()?)?;
        Some(format!(
            "EXISTS (SELECT 1 FROM {} d WHERE d.\"id\" = t.{} AND COALESCE(d.\"deleted\", 0) = 1)",
            ident(&target.name),
            ident(attr)
        ))
    }

    fn date_sql(&mut self, x: &str, cond: DateCond) -> String {
        match cond {
            DateCond::Equals(v) => {
                let p = self.push(SqlValue::Text(v));
                format!("{x} = {p}")
            }
            DateCond::NotEquals(v) => {
                let p = self.push(SqlValue::Text(v));
                format!("{x} <> {p}")
            }
            DateCond::Window(lo, hi) => {
                let mut parts = Vec::new();
                if let Some(b) = lo {
                    let p = self.push(SqlValue::Text(b.value));
                    parts.push(format!("{x} {} {p}", if b.inclusive { ">=" } else { ">" }));
                }
                if let Some(b) = hi {
                    let p = self.push(SqlValue::Text(b.value));
                    parts.push(format!("{x} {} {p}", if b.inclusive { "<=" } else { "<" }));
                }
                join(&parts, "AND", &format!("{x} IS NOT NULL"))
            }
            DateCond::Nothing => "1".to_string(),
        }
    }

    fn in_list(&mut self, t: &Target, values: &[Value]) -> String {
        let marks: Vec<&str> = values
            .iter()
            .map(|v| {
                let s = self.scalar(t, v);
                self.push(s)
            })
            .collect();
        marks.join(",")
    }

    /// The SQL of one item, or `None` when AtroCore adds no condition for it. `in_group`: the item
    /// sits inside an `and`/`or`/`not` (the converter's level 3 or deeper).
    fn cond(&mut self, c: &Value, in_group: bool) -> Result<Option<String>, WhereError> {
        // No type, or one the select manager does not know: no condition (`convertWhere` skips
        // it, `getWherePart`'s switch has no branch for it).
        let Some(ty) = c.get("type").and_then(Value::as_str).map(str::to_string) else {
            return Ok(None);
        };
        let value = c.get("value");
        match ty.as_str() {
            "and" | "or" => {
                let items = value.and_then(as_list).unwrap_or_default();
                let mut parts = Vec::new();
                for i in items {
                    if let Some(p) = self.cond(i, true)? {
                        parts.push(p);
                    }
                }
                // An empty group adds nothing (`getWhere` skips an empty sub-result).
                if parts.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(join(
                    &parts,
                    if ty == "and" { "AND" } else { "OR" },
                    "1",
                )));
            }
            "not" => {
                // `QueryConverter::getWhere`: a `NOT` at level > 1 hits `break` (dropped); at the
                // top level it becomes `id!=s`, i.e. `t1.id IN (:array)` (the negation is lost)
                // and no row matches.
                return Ok((!in_group).then(|| "0".to_string()));
            }
            "textFilter" => {
                let text = Self::text(value)?;
                let fields = self.e.text_filter_fields.clone();
                let parts: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        let p = self.push(SqlValue::Text(format!("%{text}%")));
                        format!("LOWER(t.{}) LIKE LOWER({p}) ESCAPE '\\'", ident(f))
                    })
                    .collect();
                return Ok(Some(join(&parts, "OR", "0")));
            }
            "linkedWith" | "notLinkedWith" | "isLinked" | "isNotLinked" => {
                return self.link_cond(c, &ty).map(Some).map_err(WhereError::Bad);
            }
            _ => {}
        }
        if !KNOWN.contains(&ty.as_str()) {
            return Ok(None);
        }
        let Some(attr) = c
            .get("attribute")
            .or_else(|| c.get("field"))
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let t = match self.target(c, &attr) {
            Some(t) => t,
            // 2.2 `QueryConverter::getWhere` emits `:false` for a field the entity does not
            // have; 2.3 dropped that guard and the database rejects the unknown column.
            None if self.model.generation == Generation::V22 => return Ok(Some("0".to_string())),
            None => {
                return Err(WhereError::Server(format!(
                    "SQLSTATE[42703]: Undefined column: column t1.{attr} does not exist"
                )));
            }
        };
        let x = t.expr.clone();
        let mut value = value.cloned();
        // Day operators on a field of unknown type (no instance metadata) read it as a
        // date-time, which the fields they are used on (`createdAt`, …) are.
        let date_kind = t
            .temporal
            .or_else(|| dates::is_day_operator(&ty).then_some(Temporal::DateTime));
        if let Some(kind) = date_kind {
            let tz = c.get("timeZone").and_then(Value::as_str);
            let texts: Vec<String> = Self::list(value.as_ref())
                .iter()
                .filter_map(|v| Self::text(Some(v)).ok())
                .collect();
            let now = jiff::Timestamp::now();
            match dates::condition(&ty, &texts, kind, tz, now)
                .map_err(|e| WhereError::Server(e.0))?
            {
                Some(DateCond::Nothing) => return Ok(None),
                Some(cond) => return Ok(Some(self.date_sql(&x, cond))),
                None => {}
            }
            // Other operators compare with the value converted from the item's zone to UTC.
            if kind == Temporal::DateTime
                && let Some(Value::String(v)) = &value
                && !v.trim().is_empty()
            {
                let utc = dates::convert_value(v, tz).map_err(|e| WhereError::Server(e.0))?;
                value = Some(Value::String(utc));
            }
        }
        let value = value.as_ref();
        // `QueryConverter::getWhere`: `LOWER(col) LIKE LOWER(:p)` only when the value holds `%`.
        let like = |b: &mut Self, pat: String, not: bool| {
            let not = if not { "NOT " } else { "" };
            let lower = pat.contains('%');
            let p = b.push(SqlValue::Text(pat));
            if lower {
                format!("LOWER({x}) {not}LIKE LOWER({p}) ESCAPE '\\'")
            } else {
                format!("{x} {not}LIKE {p} ESCAPE '\\'")
            }
        };
        let sql = match ty.as_str() {
            "equals"
            | "notEquals"
            | "greaterThan"
            | "lessThan"
            | "greaterThanOrEquals"
            | "lessThanOrEquals" => {
                let op = match ty.as_str() {
                    "equals" => "=",
                    "notEquals" => "<>",
                    "greaterThan" => ">",
                    "lessThan" => "<",
                    "greaterThanOrEquals" => ">=",
                    _ => "<=",
                };
                let v = value.cloned().unwrap_or(Value::Null);
                if v.is_null() && ty == "equals" {
                    format!("{x} IS NULL")
                } else {
                    let s = self.scalar(&t, &v);
                    let p = self.push(s);
                    format!("{x} {op} {p}")
                }
            }
            "like" => like(self, Self::text(value)?, false),
            "notLike" => like(self, Self::text(value)?, true),
            "contains" => like(self, format!("%{}%", Self::text(value)?), false),
            "notContains" => like(self, format!("%{}%", Self::text(value)?), true),
            "startsWith" => like(self, format!("{}%", Self::text(value)?), false),
            "endsWith" => like(self, format!("%{}", Self::text(value)?), false),
            "in" | "notIn" => {
                let values = Self::list(value);
                if values.is_empty() {
                    // `:emptyValue` at the top level; inside a group `getWherePart` drops an
                    // entry whose value is an empty array.
                    if in_group {
                        return Ok(None);
                    }
                    (if ty == "in" { "0" } else { "1" }).to_string()
                } else {
                    let marks = self.in_list(&t, &values);
                    format!("{x} {}IN ({marks})", if ty == "in" { "" } else { "NOT " })
                }
            }
            // 2.3 treats a link id whose record is deleted as empty
            // (`SelectManagers/Base.php::buildForeignDeletedNullCheck`).
            "isNull" => match self.deleted_target(&attr) {
                Some(deleted) => format!("({x} IS NULL OR {deleted})"),
                None => format!("{x} IS NULL"),
            },
            "isNotNull" => match self.deleted_target(&attr) {
                Some(deleted) => format!("({x} IS NOT NULL AND NOT {deleted})"),
                None => format!("{x} IS NOT NULL"),
            },
            "ever" => format!("{x} IS NOT NULL"),
            "isTrue" => format!("{x} = 1"),
            // `attr= => false`: `col = FALSE`, so NULL rows are not matched.
            "isFalse" => format!("{x} = 0"),
            "between" => {
                let values = Self::list(value);
                if values.len() != 2 {
                    return Err("Where type 'between' needs a value of two items.".into());
                }
                let a = self.scalar(&t, &values[0]);
                let pa = self.push(a);
                let b = self.scalar(&t, &values[1]);
                let pb = self.push(b);
                format!("({x} >= {pa} AND {x} <= {pb})")
            }
            "arrayAnyOf" | "arrayNoneOf" => {
                let values = Self::list(value);
                let marks = if values.is_empty() {
                    "NULL".to_string()
                } else {
                    let t2 = Target {
                        expr: String::new(),
                        kind: Some(Kind::Str),
                        temporal: None,
                    };
                    self.in_list(&t2, &values)
                };
                let exists = format!(
                    "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid({x}) THEN {x} ELSE '[]' END) j WHERE j.value IN ({marks}))"
                );
                if ty == "arrayAnyOf" {
                    exists
                } else {
                    format!("NOT {exists}")
                }
            }
            "arrayIsEmpty" => {
                format!("({x} IS NULL OR NOT json_valid({x}) OR json_array_length({x}) = 0)")
            }
            "arrayIsNotEmpty" => {
                format!("({x} IS NOT NULL AND json_valid({x}) AND json_array_length({x}) > 0)")
            }
            other => {
                return Err(
                    format!("Where type '{other}' is not supported by the simulator.").into(),
                );
            }
        };
        Ok(Some(sql))
    }

    fn link_cond(&mut self, c: &Value, ty: &str) -> Result<String, String> {
        let attr = c
            .get("attribute")
            .or_else(|| c.get("field"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("Where condition '{ty}' without 'attribute'."))?;
        let base = attr
            .strip_suffix("Ids")
            .or_else(|| attr.strip_suffix("Id"))
            .filter(|b| self.e.link(b).is_some())
            .unwrap_or(attr);
        let link = self
            .e
            .link(base)
            .cloned()
            .ok_or_else(|| format!("Unknown link '{attr}' in where."))?;
        let ids = Self::list(c.get("value"));
        let id_marks = |b: &mut Self| -> String {
            if ids.is_empty() {
                return "NULL".to_string();
            }
            ids.iter()
                .map(|v| {
                    let s = Self::text(Some(v)).unwrap_or_default();
                    b.push(SqlValue::Text(s))
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let negate = ty == "notLinkedWith" || ty == "isNotLinked";
        let with_ids = ty == "linkedWith" || ty == "notLinkedWith";
        let positive = match (&link.column, link.kind) {
            (Some(col), LinkKind::BelongsTo) => {
                let x = format!("t.{}", ident(col));
                if with_ids {
                    format!("{x} IN ({})", id_marks(self))
                } else {
                    format!("({x} IS NOT NULL AND {x} <> '')")
                }
            }
            (Some(col), LinkKind::HasMany) => {
                let x = format!("t.{}", ident(col));
                let src = format!("json_each(CASE WHEN json_valid({x}) THEN {x} ELSE '[]' END)");
                if with_ids {
                    format!(
                        "EXISTS (SELECT 1 FROM {src} j WHERE j.value IN ({}))",
                        id_marks(self)
                    )
                } else {
                    format!("EXISTS (SELECT 1 FROM {src} j)")
                }
            }
            (None, _) => {
                let target = link
                    .entity
                    .as_deref()
                    .and_then(|n| self.model.entity(n))
                    .ok_or_else(|| format!("Link '{base}' cannot be filtered in the simulator."))?;
                let fcol = link
                    .foreign
                    .as_deref()
                    .and_then(|f| target.link(f))
                    .and_then(|l| l.column.clone().map(|c| (c, l.kind)));
                let Some(fcol) = fcol else {
                    let id_filter = if with_ids {
                        format!(" AND r.other_id IN ({})", id_marks(self))
                    } else {
                        String::new()
                    };
                    let positive = format!(
                        "EXISTS (SELECT 1 FROM _sim_rel r WHERE r.entity = {} AND r.id = t.\"id\" AND r.link = {}{id_filter})",
                        sql_str(&self.e.name),
                        sql_str(base)
                    );
                    return Ok(if negate {
                        format!("NOT ({positive})")
                    } else {
                        positive
                    });
                };
                let tt = ident(&target.name);
                let id_filter = if with_ids {
                    format!(" AND x.\"id\" IN ({})", id_marks(self))
                } else {
                    String::new()
                };
                match fcol.1 {
                    LinkKind::BelongsTo => format!(
                        "EXISTS (SELECT 1 FROM {tt} x WHERE x.{} = t.\"id\" AND COALESCE(x.\"deleted\", 0) = 0{id_filter})",
                        ident(&fcol.0)
                    ),
                    LinkKind::HasMany => format!(
                        "EXISTS (SELECT 1 FROM {tt} x, json_each(CASE WHEN json_valid(x.{c}) THEN x.{c} ELSE '[]' END) j \
                         WHERE j.value = t.\"id\" AND COALESCE(x.\"deleted\", 0) = 0{id_filter})",
                        c = ident(&fcol.0)
                    ),
                }
            }
        };
        Ok(if negate {
            format!("NOT COALESCE(({positive}), 0)")
        } else {
            positive
        })
    }
}

/// Operator types that take an `attribute` (besides the group, text and link types).
const KNOWN: &[&str] = &[
    "equals",
    "notEquals",
    "like",
    "notLike",
    "contains",
    "notContains",
    "startsWith",
    "endsWith",
    "in",
    "notIn",
    "isNull",
    "isNotNull",
    "isTrue",
    "isFalse",
    "greaterThan",
    "lessThan",
    "greaterThanOrEquals",
    "lessThanOrEquals",
    "between",
    "on",
    "notOn",
    "before",
    "after",
    "ever",
    "today",
    "past",
    "future",
    "lastSevenDays",
    "lastXDays",
    "nextXDays",
    "olderThanXDays",
    "afterXDays",
    "currentMonth",
    "lastMonth",
    "nextMonth",
    "currentQuarter",
    "lastQuarter",
    "currentYear",
    "lastYear",
    "arrayAnyOf",
    "arrayNoneOf",
    "arrayIsEmpty",
    "arrayIsNotEmpty",
    "similar",
    "bool",
    "primary",
    "savedSearch",
    "subQuery",
    "innerSql",
];
