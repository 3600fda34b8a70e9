//! Lists: `GET /E` and linked lists (`select`, paging, order, `where`), as AtroCore reads
//! their parameters.

use rusqlite::types::Value as SqlValue;
use serde_json::{Value, json};

use crate::http::request::Req;
use crate::model::Entity;
use crate::query::phpqs::PhpValue;
use crate::query::where_sql;
use crate::services::attributes::AttrSel;
use crate::services::output::{Shape, output};
use crate::state::Ctx;
use crate::store::ident;
use crate::util::{ApiError, truthy};

/// `maxSize` when the parameter is absent, empty or `0` (PHP `empty()`); larger values are not
/// capped. 2.2: `Espo\Core\Controllers\Record::actionList` (`MAX_SIZE_LIMIT = 200` used only as
/// the default); 2.3: `app/Atro/Handlers/AbstractHandler.php::buildListParams` (`$maxSizeLimit =
/// 200` likewise); the select manager passes it on as the SQL limit
/// (`app/Atro/Core/SelectManagers/Base.php::limit`). No "Max size should not exceed" 403: that is
/// newer EspoCRM, not AtroCore.
const DEFAULT_MAX_SIZE: i64 = 200;

pub(crate) struct ListParams {
    select: Option<Vec<String>>,
    offset: i64,
    max_size: i64,
    order: String,
    filter: where_sql::SqlFilter,
    attrs: AttrSel,
    /// `totalOnly=true`: the answer is `{total}` alone.
    total_only: bool,
    /// `collectionOnly=true`: the answer is `{list}` alone.
    collection_only: bool,
    /// The bool filter `onlyDeleted` (in `where` or `boolFilterList`): the deleted records
    /// instead of the others (`app/Atro/Core/SelectManagers/Base.php::boolFilterOnlyDeleted`,
    /// 2.2.31 and 2.3.13: `withDeleted` plus `deleted = true`).
    only_deleted: bool,
}

fn php_int(s: Option<&str>) -> i64 {
    let s = s.unwrap_or("").trim();
    let digits: String = s
        .chars()
        .enumerate()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
        .map(|(_, c)| c)
        .collect();
    digits.parse().unwrap_or(0)
}

pub(crate) fn list_params(ctx: &Ctx, e: &Entity, req: &Req) -> Result<ListParams, ApiError> {
    let select = req.param("select").map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
    });
    // Both go to Doctrine DBAL's query builder as they are (`Atro/ORM/DB/RDB/Mapper.php`:
    // `setFirstResult`, `setMaxResults`): a negative offset makes DBAL 3.2's
    // `AbstractPlatform::modifyLimitQuery` throw, a negative limit reaches the SQL as
    // `LIMIT -n`, which MySQL and PostgreSQL refuse. Either way the request fails with a 500.
    let offset = php_int(req.param("offset"));
    // `empty()`: absent, "" and "0" mean the default; nothing caps a larger value.
    let mut max_size = php_int(req.param("maxSize"));
    if max_size == 0 {
        max_size = DEFAULT_MAX_SIZE;
    }
    if offset < 0 || max_size < 0 {
        return Err(ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("SQL error: LIMIT {max_size} OFFSET {offset}"),
        ));
    }
    // `asc` is ascending unless given as anything but the exact string `true`: 2.2
    // `$request->get('asc', 'true') === 'true'` (`Espo\Core\Controllers\Record::actionList`),
    // 2.3 `($qp['asc'] ?? 'true') === 'true'` (`AbstractHandler::buildListParams`).
    let asc = req.param("asc").unwrap_or("true") == "true";
    let order = list_order(ctx, e, req.param("sortBy"), asc);
    // A string `where` is JSON: `prepareWhereQuery` strips quoted braces and escapes, then
    // `json_decode`s it; what does not decode becomes `null`, i.e. no filter
    // (2.3 `app/Atro/Handlers/AbstractHandler.php::prepareWhereQuery`, 2.2 the record controller).
    let filter = match req.param_value("where") {
        None => where_sql::SqlFilter::default(),
        Some(PhpValue::Str(s)) => {
            let cleaned = s
                .replace("\"{", "{")
                .replace("}\"", "}")
                .replace("\\\"", "\"")
                .replace("\\n", "")
                .replace("\\t", "");
            match serde_json::from_str::<Value>(&cleaned) {
                Ok(w @ (Value::Array(_) | Value::Object(_))) => {
                    ctx.check_where(e, &w)?;
                    where_sql::build_where(&ctx.app.model, e, &w)?
                }
                _ => where_sql::SqlFilter::default(),
            }
        }
        // `getSelectParams($params, true, true)`: a `where` naming a field the role may not read
        // is a 403 with an empty body (`Core/SelectManagers/Base.php::checkWhere`).
        Some(w) => {
            let w = w.to_json();
            ctx.check_where(e, &w)?;
            where_sql::build_where(&ctx.app.model, e, &w)?
        }
    };
    // An attribute condition names an attribute by id, which must exist: `The attribute "…"
    // does not exist.` (`app/Atro/Core/AttributeFieldConverter.php::getWherePart`, 2.2.31 and
    // 2.3.13; a code is not looked up).
    if let Some(ae) = ctx.app.model.entity("Attribute") {
        for id in &filter.attribute_ids {
            if ctx.store.get(ae, id)?.is_none() {
                return Err(ApiError::bad(format!(
                    "The attribute \"{id}\" does not exist."
                )));
            }
        }
    }
    let attrs = if truthy(req.param("allAttributes")) {
        AttrSel::All
    } else if let Some(a) = req.param("attributes") {
        // By id or code (2.2 `code`, 2.3 `systemName`):
        // `AttributeFieldConverter::getAttributesRowsByIds` (2.2.31 and 2.3.13).
        let named: Vec<String> = a
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if ctx.app.model.entity("Attribute").is_some() {
            AttrSel::Some(crate::services::attributes::ids_by_id_or_code(
                ctx, e, &named,
            )?)
        } else {
            AttrSel::Some(named)
        }
    } else {
        AttrSel::None
    };
    // `boolFilterList[]=…` (2.2 `AbstractController::fetchListParamsFromRequest`, 2.3
    // `AbstractHandler::buildListParams`) and `{type: bool}` items of `where` name the same
    // filters; of them only `onlyDeleted` changes what a list holds here.
    let listed = match req.param_value("boolFilterList") {
        Some(v) => match v.to_json() {
            Value::Array(a) => a,
            Value::Object(o) => o.into_iter().map(|(_, v)| v).collect(),
            other => vec![other],
        },
        None => Vec::new(),
    };
    let only_deleted = filter.bool_filters.iter().any(|f| f == "onlyDeleted")
        || listed.iter().any(|f| f.as_str() == Some("onlyDeleted"));
    Ok(ListParams {
        only_deleted,
        select,
        offset,
        max_size,
        order,
        filter,
        attrs,
        // Exactly the string `true`: 2.2 `Atro/Controllers/AbstractRecordController.php::actionList`
        // (`$request->get('totalOnly') === 'true'`), 2.3 `Handlers/AbstractHandler.php::buildListParams`.
        total_only: req.param("totalOnly") == Some("true"),
        collection_only: req.param("collectionOnly") == Some("true"),
    })
}

/// The `ORDER BY` of a list, as `Atro/Core/SelectManagers/Base.php` (2.2.31 and 2.3) builds it:
/// no `sortBy` (PHP `empty()`: absent, "" or "0") sorts by `id`, ascending unless `asc` says
/// otherwise; whatever the entity's `collection` metadata says is the UI's default, not the
/// API's. A link, file or image field sorts by `<field>Name` (`SelectManagers/Base::order`), the
/// linked record's name (here a sub-query on the target's `name`). A `sortBy` that names no
/// field gives no `ORDER BY` at all (`ORM/DB/RDB/Query/QueryConverter.php::getOrderPart` returns
/// false), nor does a to-many link: the database's own order then, here insertion order. Ties
/// are broken by insertion order, where MySQL leaves them unspecified.
fn list_order(ctx: &Ctx, e: &Entity, sort_by: Option<&str>, asc: bool) -> String {
    let dir = if asc { "ASC" } else { "DESC" };
    let sort_by = match sort_by {
        None | Some("" | "0") => "id",
        Some(s) => s,
    };
    if let Some(f) = e.field(sort_by) {
        return format!("t.{} {dir}, t.rowid", ident(&f.name));
    }
    let by_name = e.link(sort_by).and_then(|l| {
        let column = l.column.as_deref()?;
        let target = ctx.app.model.entities.get(l.entity.as_deref()?)?;
        (l.kind == crate::model::LinkKind::BelongsTo && target.field("name").is_some()).then(|| {
            format!(
                "(SELECT x.\"name\" FROM {} x WHERE x.\"id\" = t.{}) {dir}, t.rowid",
                ident(&target.name),
                ident(column)
            )
        })
    });
    by_name.unwrap_or_default()
}

pub(crate) fn run_list(
    ctx: &Ctx,
    e: &Entity,
    p: ListParams,
    extra: Option<(String, Vec<SqlValue>)>,
    linked: bool,
) -> Result<Value, ApiError> {
    let mut sql = if p.only_deleted {
        "COALESCE(t.\"deleted\", 0) = 1"
    } else {
        "COALESCE(t.\"deleted\", 0) = 0"
    }
    .to_string();
    let mut params = Vec::new();
    if let Some((x, xp)) = extra {
        sql.push_str(&format!(" AND ({x})"));
        params.extend(xp);
    }
    // The role's read level limits the rows (`Core/SelectManagers/Base.php::access`).
    if let Some((x, xp)) = ctx.read_access_sql(e) {
        sql.push_str(&format!(" AND {x}"));
        params.extend(xp);
    }
    if !p.filter.sql.is_empty() {
        sql.push_str(&format!(" AND {}", p.filter.sql));
        params.extend(p.filter.params);
    }
    // `findEntities` (the record service: atrocore-legacy, last in-tree copy
    // `app/Espo/Services/Record.php` before commit `b33a0dffc`) reads the page even for
    // `totalOnly`; for an entity in the `disabledCountQueryEntityList` setting it asks for one
    // record more than the page instead of counting: `total` is -1 when that record exists
    // (more follow), -2 when not.
    let counted = !ctx.app.count_disabled.contains(&e.name);
    let limit = if counted { p.max_size } else { p.max_size + 1 };
    let mut rows = ctx
        .store
        .select(e, &sql, params.clone(), &p.order, Some(limit), p.offset)?;
    let total = if counted {
        ctx.store.count(e, &sql, params)?
    } else if rows.len() as i64 > p.max_size {
        rows.pop();
        -1
    } else {
        -2
    };
    if p.total_only {
        return Ok(json!({ "total": total }));
    }
    let shape = Shape {
        select: p.select,
        single: false,
        attrs: p.attrs,
        linked,
    };
    let list = rows
        .iter()
        .map(|r| output(ctx, e, r, &shape))
        .collect::<Result<Vec<_>, _>>()?;
    if p.collection_only {
        return Ok(json!({ "list": list }));
    }
    Ok(json!({ "total": total, "list": list }))
}

/// `GET /E`: `{total, list}` with select, paging, order and `where`.
///
/// The scope-level `read` check comes first: without it the list is a 403 with an empty body
/// (2.2 `Controllers/AbstractRecordController.php::actionList`, 2.3
/// `Core/EntityTypeHandlers/ListHandler.php`); `own` lists the caller's records only.
pub fn list(ctx: &Ctx, e: &Entity, req: &Req) -> Result<Value, ApiError> {
    ctx.check_scope(&e.name, crate::roles::Action::Read)?;
    let p = list_params(ctx, e, req)?;
    run_list(ctx, e, p, None, false)
}

/// The ids of the `te` records matching `sql` (over alias `t`), in insertion order.
pub(crate) fn select_ids(
    ctx: &Ctx,
    te: &Entity,
    sql: &str,
    params: Vec<SqlValue>,
) -> Result<Vec<String>, ApiError> {
    Ok(ctx
        .store
        .select(te, sql, params, "t.rowid", None, 0)?
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string))
        .collect())
}
