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
    let offset = php_int(req.param("offset")).max(0);
    // Negative or non-numeric values (2.3 rejects non-integers in its request validation) are
    // unconfirmed on 2.2 and fall back to the default here.
    let mut max_size = php_int(req.param("maxSize"));
    if max_size <= 0 {
        max_size = DEFAULT_MAX_SIZE;
    }
    // `asc` is ascending unless given as anything but the exact string `true`: 2.2
    // `$request->get('asc', 'true') === 'true'` (`Espo\Core\Controllers\Record::actionList`),
    // 2.3 `($qp['asc'] ?? 'true') === 'true'` (`AbstractHandler::buildListParams`).
    let asc = req.param("asc").unwrap_or("true") == "true";
    let sort_col = req.param("sortBy").and_then(|s| {
        e.field(s)
            .map(|f| f.name.clone())
            .or_else(|| e.link(s).and_then(|l| l.column.clone()))
    });
    let order = match sort_col {
        Some(col) => format!(
            "t.{} {}, t.rowid",
            ident(&col),
            if asc { "ASC" } else { "DESC" }
        ),
        None => match &e.default_sort {
            Some((col, asc)) => format!(
                "t.{} {}, t.rowid",
                ident(col),
                if *asc { "ASC" } else { "DESC" }
            ),
            None => "t.rowid".to_string(),
        },
    };
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
                    where_sql::build_where(&ctx.app.model, e, &w)?
                }
                _ => where_sql::SqlFilter::default(),
            }
        }
        Some(w) => where_sql::build_where(&ctx.app.model, e, &w.to_json())?,
    };
    let attrs = if truthy(req.param("allAttributes")) {
        AttrSel::All
    } else if let Some(a) = req.param("attributes") {
        AttrSel::Some(
            a.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    } else {
        AttrSel::None
    };
    Ok(ListParams {
        select,
        offset,
        max_size,
        order,
        filter,
        attrs,
    })
}

pub(crate) fn run_list(
    ctx: &Ctx,
    e: &Entity,
    p: ListParams,
    extra: Option<(String, Vec<SqlValue>)>,
    linked: bool,
) -> Result<Value, ApiError> {
    let mut sql = "COALESCE(t.\"deleted\", 0) = 0".to_string();
    let mut params = Vec::new();
    if let Some((x, xp)) = extra {
        sql.push_str(&format!(" AND ({x})"));
        params.extend(xp);
    }
    if !p.filter.sql.is_empty() {
        sql.push_str(&format!(" AND {}", p.filter.sql));
        params.extend(p.filter.params);
    }
    let total = ctx.store.count(e, &sql, params.clone())?;
    let rows = ctx
        .store
        .select(e, &sql, params, &p.order, Some(p.max_size), p.offset)?;
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
    Ok(json!({ "total": total, "list": list }))
}

/// `GET /E`: `{total, list}` with select, paging, order and `where`.
pub fn list(ctx: &Ctx, e: &Entity, req: &Req) -> Result<Value, ApiError> {
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
