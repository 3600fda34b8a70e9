//! Attribute codes to ids, per client: what a `where` by attribute code needs, since AtroCore
//! finds the attribute of a `where` item by id only
//! (`app/Atro/Core/AttributeFieldConverter.php::getWherePart`, 2.2.31 and 2.3.13). Handles of
//! generated crates carry codes (2.2 `code`, 2.3 `systemName`), which are the same on every
//! instance an admin set up alike, where ids are not.
//!
//! The index is read once per client (every `Attribute`'s `id`, `entityId` and code, by keyset
//! pages), kept in the client's shared state, and read again when a request names a code it
//! lacks or the server says an attribute id is unknown (an attribute deleted and created anew).

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::encode::php_query_pairs;
use crate::error::{Error, Result};
use crate::http::config::ApiGeneration;
use crate::http::execute::{AuthMode, Prepared, Resend, Target};
use crate::http::session::{AttributeIds, ClientRef};

/// Attributes per page of the index's requests.
const PAGE: usize = 200;

/// Every attribute as `(id, entity, code, record)`: keyset pages of `/Attribute` selecting
/// `id`, `entityId`, the code (2.2 `code`, 2.3 `systemName`) and `also`. The code is `None` for
/// an attribute without one (2.2), whose values AtroCore then keys by its id.
pub(crate) async fn read_all(
    client: &Arc<ClientRef>,
    also: &[&str],
) -> Result<Vec<(String, String, Option<String>, Value)>> {
    let code = match client.generation {
        ApiGeneration::V2_2 => "code",
        _ => "systemName",
    };
    let mut select = format!("id,entityId,{code}");
    for field in also {
        select.push(',');
        select.push_str(field);
    }
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = vec![
            ("select".to_owned(), select.clone()),
            ("maxSize".to_owned(), PAGE.to_string()),
            ("sortBy".to_owned(), "id".to_owned()),
            ("asc".to_owned(), "true".to_owned()),
        ];
        if let Some(last) = &after {
            let w = json!([{ "type": "greaterThan", "attribute": "id", "value": last }]);
            php_query_pairs("where", &w, &mut query);
        }
        let list = list_page(client, "/Attribute", query).await?;
        let n = list.len();
        for a in list {
            let text = |k: &str| {
                a.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let (Some(id), Some(entity)) = (text("id"), text("entityId")) else {
                continue;
            };
            after = Some(id.clone());
            out.push((id, entity, text(code), a));
        }
        if n < PAGE {
            return Ok(out);
        }
    }
}

/// The id of every attribute by `(entity, code)`; an attribute without a code (2.2) is also
/// found by `(entity, id)`, which is the key AtroCore gives its values then.
pub(crate) async fn index(client: &Arc<ClientRef>, refresh: bool) -> Result<Arc<AttributeIds>> {
    if !refresh && let Some(ids) = client.attribute_ids() {
        return Ok(ids);
    }
    let mut ids = AttributeIds::new();
    for (id, entity, code, _) in read_all(client, &[]).await? {
        if let Some(c) = code {
            ids.insert((entity.clone(), c), id.clone());
        }
        ids.insert((entity, id.clone()), id);
    }
    let ids = Arc::new(ids);
    client.set_attribute_ids(ids.clone());
    Ok(ids)
}

/// Whether an error is the server's "no such attribute" for a `where` item (the index is then
/// stale): a 400 `The attribute "…" does not exist.`
pub(crate) fn names_unknown_attribute(e: &Error) -> bool {
    e.status() == Some(400) && e.to_string().contains("does not exist")
}

/// `GET path?query` of a list route, as the records of its `list` (the requests the runtime
/// makes on its own behalf: the attribute index, code lookups).
pub(crate) async fn list_page(
    client: &Arc<ClientRef>,
    path: &str,
    query: Vec<(String, String)>,
) -> Result<Vec<Value>> {
    #[derive(Deserialize)]
    struct Page {
        #[serde(default)]
        list: Vec<Value>,
    }
    let prepared = Prepared {
        method: Method::GET,
        target: Target::Api(path.to_owned()),
        query,
        headers: Default::default(),
        body: None,
        resend: Resend::Safe,
        extra_retries: 0,
        timeout: None,
        idle_body: false,
    };
    let bytes = prepared
        .execute_bytes(client, AuthMode::Session(&**client))
        .await?;
    let page: Page = serde_json::from_slice(&bytes)
        .map_err(|e| Error::decode(e).with_request(&Method::GET, path))?;
    Ok(page.list)
}
