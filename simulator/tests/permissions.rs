//! Roles: entity- and field-level permissions as AtroCore enforces them, on both generations
//! (the repository's own specs: `specs/atrocore-2.2-pim-default.json`,
//! `specs/atrocore-2.3-pim-small.json`). See `FIDELITY.md`, "Permissions".

use std::sync::Arc;

use atrocore_sim::{
    AccessLevel, EntityAccess, FieldAccess, Generation, SimConfig, SimRole, SimUser, Simulator,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn load(rel: &str) -> Arc<Value> {
    let path = format!("{ROOT}/{rel}");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    Arc::new(serde_json::from_slice(&text).unwrap())
}

fn config(g: Generation) -> SimConfig {
    let name = match g {
        Generation::V22 => "specs/atrocore-2.2-pim-default",
        Generation::V23 => "specs/atrocore-2.3-pim-small",
    };
    SimConfig::from_spec_value(load(&format!("{name}.json")))
        .metadata_value(load(&format!("{name}.metadata.json")))
        .validate_responses(true)
}

const BOTH: [Generation; 2] = [Generation::V22, Generation::V23];

/// A simulator with `admin` and `clerk` (whose role is `role`), both logged in.
struct H {
    _sim: Simulator,
    c: reqwest::Client,
    api: String,
    g: Generation,
    admin: String,
    clerk: String,
}

struct Resp {
    status: StatusCode,
    reason: Option<String>,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
    /// A 403 as AtroCore sends it: no message at all (empty body and `X-Status-Reason`).
    #[track_caller]
    fn assert_forbidden(&self, what: &str) {
        assert_eq!(self.status, 403, "{what}: {}", self.text);
        assert_eq!(self.text, "", "{what}: the body is empty");
        assert_eq!(self.reason.as_deref(), Some(""), "{what}: empty reason");
    }
}

async fn token(c: &reqwest::Client, api: &str, g: Generation, user: &str) -> String {
    let path = match g {
        Generation::V22 => "/App/user",
        Generation::V23 => "/userSession",
    };
    let v: Value = c
        .get(format!("{api}{path}"))
        .basic_auth(user, Some(user))
        .header("Authorization-Token-Only", "true")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["authorizationToken"].as_str().unwrap().to_string()
}

async fn start(g: Generation, role: SimRole) -> H {
    let sim = Simulator::start(config(g).users(vec![
        SimUser::admin("admin", "admin"),
        SimUser::with_role("clerk", "clerk", role),
    ]))
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let api = sim.api_url();
    let admin = token(&c, &api, g, "admin").await;
    let clerk = token(&c, &api, g, "clerk").await;
    H {
        _sim: sim,
        c,
        api,
        g,
        admin,
        clerk,
    }
}

impl H {
    async fn send(&self, token: &str, m: Method, path: &str, body: Option<Value>) -> Resp {
        let mut rb = self
            .c
            .request(m, format!("{}{path}", self.api))
            .header("Authorization-Token", token);
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let reason = r
            .headers()
            .get("x-status-reason")
            .map(|v| v.to_str().unwrap().to_string());
        Resp {
            status,
            reason,
            text: r.text().await.unwrap(),
        }
    }
    async fn admin(&self, m: Method, path: &str, body: Option<Value>) -> Resp {
        self.send(&self.admin.clone(), m, path, body).await
    }
    async fn clerk(&self, m: Method, path: &str, body: Option<Value>) -> Resp {
        self.send(&self.clerk.clone(), m, path, body).await
    }
    fn update(&self) -> Method {
        match self.g {
            Generation::V22 => Method::PUT,
            Generation::V23 => Method::PATCH,
        }
    }
    async fn created(&self, entity: &str, body: Value) -> String {
        let r = self
            .admin(Method::POST, &format!("/{entity}"), Some(body))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["id"].as_str().unwrap().to_string()
    }
    async fn product(&self, name: &str, extra: Value) -> String {
        let mut body = json!({ "name": name, "number": name, "status": "draft" });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.created("Product", body).await
    }
}

#[tokio::test]
async fn without_an_entity_right_every_route_is_a_403_without_message() {
    for g in BOTH {
        let h = start(g, SimRole::new().entity("Brand", EntityAccess::NONE)).await;
        let id = h.created("Brand", json!({ "name": "Acme" })).await;
        let path = format!("/Brand/{id}");
        h.clerk(Method::GET, "/Brand", None)
            .await
            .assert_forbidden("list");
        h.clerk(Method::GET, &path, None)
            .await
            .assert_forbidden("read");
        h.clerk(Method::POST, "/Brand", Some(json!({ "name": "B" })))
            .await
            .assert_forbidden("create");
        h.clerk(h.update(), &path, Some(json!({ "name": "B" })))
            .await
            .assert_forbidden("update");
        h.clerk(Method::DELETE, &path, None)
            .await
            .assert_forbidden("delete");
        // The update checks the scope before looking the record up; read and delete look the
        // record up first (404), as the record service does.
        h.clerk(h.update(), "/Brand/nope", Some(json!({ "name": "B" })))
            .await
            .assert_forbidden("update of an unknown id");
        assert_eq!(h.clerk(Method::GET, "/Brand/nope", None).await.status, 404);
        assert_eq!(
            h.clerk(Method::DELETE, "/Brand/nope", None).await.status,
            404
        );
        // Mass actions check the scope.
        let (mu, md) = match g {
            Generation::V22 => (
                h.clerk(
                    Method::PUT,
                    "/Brand/action/massUpdate",
                    Some(json!({ "ids": [id], "attributes": { "name": "X" } })),
                )
                .await,
                h.clerk(
                    Method::POST,
                    "/Brand/action/massDelete",
                    Some(json!({ "ids": [id] })),
                )
                .await,
            ),
            Generation::V23 => (
                h.clerk(
                    Method::PATCH,
                    "/entityMassUpdate",
                    Some(json!({ "entityName": "Brand", "ids": [id], "values": { "name": "X" } })),
                )
                .await,
                h.clerk(
                    Method::POST,
                    "/entityMassDelete",
                    Some(json!({ "entityName": "Brand", "ids": [id] })),
                )
                .await,
            ),
        };
        mu.assert_forbidden("mass update");
        md.assert_forbidden("mass delete");
        // Nothing was changed, and other entities are untouched by the role.
        assert_eq!(
            h.admin(Method::GET, &path, None).await.json()["name"],
            "Acme"
        );
        assert_eq!(h.clerk(Method::GET, "/Product", None).await.status, 200);
    }
}

#[tokio::test]
async fn a_read_only_entity_is_listed_but_not_changed() {
    for g in BOTH {
        let h = start(g, SimRole::new().entity("Brand", EntityAccess::READ_ONLY)).await;
        let id = h.created("Brand", json!({ "name": "Acme" })).await;
        let r = h.clerk(Method::GET, "/Brand", None).await;
        assert_eq!(r.json()["total"], 1, "{g:?}");
        h.clerk(
            h.update(),
            &format!("/Brand/{id}"),
            Some(json!({ "name": "B" })),
        )
        .await
        .assert_forbidden("update");
        // The default role of the simulator's `reader` is the same on every entity.
        let pid = h.product("P1", json!({})).await;
        let p = h.clerk(Method::GET, &format!("/Product/{pid}"), None).await;
        assert_eq!(p.status, 200);
    }
}

#[tokio::test]
async fn own_level_reaches_only_the_callers_records() {
    let own = EntityAccess {
        create: true,
        read: AccessLevel::Own,
        edit: AccessLevel::Own,
        delete: AccessLevel::No,
        stream: AccessLevel::Own,
    };
    for g in BOTH {
        let h = start(g, SimRole::new().entity("Product", own)).await;
        let theirs = h.product("theirs", json!({})).await;
        // The admin makes the clerk the owner (the clerk's user id is its name).
        let assigned = h
            .product("assigned", json!({ "assignedUserId": "clerk" }))
            .await;
        // What the clerk creates becomes its own (`setOwnerAndAssignedUser`).
        let r = h
            .clerk(
                Method::POST,
                "/Product",
                Some(json!({ "name": "mine", "number": "mine", "status": "draft" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["ownerUserId"], "clerk");
        let mine = r.json()["id"].as_str().unwrap().to_string();

        let list = h.clerk(Method::GET, "/Product", None).await.json();
        let mut names: Vec<&str> = list["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["assigned", "mine"], "{g:?}");
        assert_eq!(list["total"], 2);

        h.clerk(Method::GET, &format!("/Product/{theirs}"), None)
            .await
            .assert_forbidden("read of another's record");
        assert_eq!(
            h.clerk(Method::GET, &format!("/Product/{assigned}"), None)
                .await
                .status,
            200
        );
        h.clerk(
            h.update(),
            &format!("/Product/{theirs}"),
            Some(json!({ "mpn": "x" })),
        )
        .await
        .assert_forbidden("update of another's record");
        let r = h
            .clerk(
                h.update(),
                &format!("/Product/{mine}"),
                Some(json!({ "mpn": "x" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        h.clerk(Method::DELETE, &format!("/Product/{mine}"), None)
            .await
            .assert_forbidden("delete without the right");

        // A mass update passes the scope check (`own`); another's record fails on its own.
        let r = match g {
            Generation::V22 => {
                h.clerk(
                    Method::PUT,
                    "/Product/action/massUpdate",
                    Some(json!({ "ids": [theirs, mine], "attributes": { "mpn": "y" } })),
                )
                .await
            }
            Generation::V23 => {
                h.clerk(
                    Method::PATCH,
                    "/entityMassUpdate",
                    Some(json!({
                        "entityName": "Product", "ids": [theirs, mine], "values": { "mpn": "y" }
                    })),
                )
                .await
            }
        };
        assert_eq!(r.status, 200, "{}", r.text);
        let errors = r.json()["errors"].clone();
        assert_eq!(
            errors,
            json!([
                "Some record(s) could not be successfully updated.",
                "Error for 'theirs': "
            ]),
            "{g:?}"
        );
        let p = h
            .admin(Method::GET, &format!("/Product/{theirs}"), None)
            .await
            .json();
        assert_eq!(p["mpn"], Value::Null);

        // `_meta.permissions` answers for each record.
        let meta: Value =
            h.c.get(format!("{}/Product/{mine}", h.api))
                .header("Authorization-Token", &h.clerk)
                .header("With-Meta", "true")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(
            meta["_meta"]["permissions"],
            json!({ "edit": true, "delete": false, "stream": true }),
            "{g:?}"
        );
    }
}

#[tokio::test]
async fn unreadable_fields_are_left_out_and_may_not_be_filtered_on() {
    for g in BOTH {
        let role = SimRole::new()
            .field("Product", "mpn", FieldAccess::HIDDEN)
            .field("Product", "brand", FieldAccess::HIDDEN)
            // Not `name`: the spec requires it in every answer, so leaving it out fails the
            // answer check (`validate_responses`), as the real server's answer would.
            .field("Product", "description", FieldAccess::HIDDEN);
        let h = start(g, role).await;
        let brand = h.created("Brand", json!({ "name": "Acme" })).await;
        let id = h
            .product(
                "P1",
                json!({ "mpn": "M-1", "brandId": brand, "description": "d", "descriptionDeDe": "e" }),
            )
            .await;
        let read = h
            .clerk(Method::GET, &format!("/Product/{id}"), None)
            .await
            .json();
        for key in [
            "mpn",
            "brandId",
            "brandName",
            "description",
            "descriptionDeDe",
            "descriptionFrFr",
        ] {
            assert!(read.get(key).is_none(), "{g:?} {key}: {read}");
        }
        assert_eq!(
            (read["number"].clone(), read["name"].clone()),
            (json!("P1"), json!("P1"))
        );
        // `select` naming them gets them left out too, not refused.
        let list = h
            .clerk(Method::GET, "/Product?select=number,mpn,brandId", None)
            .await;
        assert_eq!(list.status, 200, "{}", list.text);
        let item = &list.json()["list"][0];
        assert_eq!(item["number"], "P1");
        assert!(item.get("mpn").is_none() && item.get("brandId").is_none());
        // A `where` on one of them is a 403, also nested in a group and by link.
        for q in [
            "where[0][type]=equals&where[0][attribute]=mpn&where[0][value]=M-1",
            "where[0][type]=equals&where[0][attribute]=brandId&where[0][value]=x",
            "where[0][type]=or&where[0][value][0][type]=equals&where[0][value][0][attribute]=number&where[0][value][0][value]=P1&where[0][value][1][type]=like&where[0][value][1][attribute]=descriptionDeDe&where[0][value][1][value]=x",
            "where[0][type]=isLinked&where[0][attribute]=brand",
        ] {
            h.clerk(Method::GET, &format!("/Product?{q}"), None)
                .await
                .assert_forbidden(q);
        }
        let ok = h
            .clerk(
                Method::GET,
                "/Product?where[0][type]=equals&where[0][attribute]=number&where[0][value]=P1",
                None,
            )
            .await;
        assert_eq!(ok.status, 200, "{}", ok.text);
        assert_eq!(ok.json()["total"], 1);
        // The admin sees everything.
        assert_eq!(
            h.admin(Method::GET, &format!("/Product/{id}"), None)
                .await
                .json()["mpn"],
            "M-1"
        );
    }
}

#[tokio::test]
async fn uneditable_fields_are_dropped_from_the_input() {
    for g in BOTH {
        let role = SimRole::new().field("Product", "mpn", FieldAccess::READ_ONLY);
        let h = start(g, role).await;
        let r = h
            .clerk(
                Method::POST,
                "/Product",
                Some(json!({ "name": "P", "number": "P", "status": "draft", "mpn": "M-1" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["mpn"], Value::Null, "{g:?}: dropped on create");
        let id = r.json()["id"].as_str().unwrap().to_string();
        let path = format!("/Product/{id}");
        // An update touching only such fields changes nothing: 304 (`isEntityUpdated`).
        let r = h
            .clerk(h.update(), &path, Some(json!({ "mpn": "M-2" })))
            .await;
        assert_eq!(r.status, 304, "{g:?}: {}", r.text);
        // With another field, that one is stored and the rest dropped.
        let r = h
            .clerk(
                h.update(),
                &path,
                Some(json!({ "mpn": "M-3", "ean": "123" })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let p = h.admin(Method::GET, &path, None).await.json();
        assert_eq!(
            (p["mpn"].clone(), p["ean"].clone()),
            (Value::Null, json!("123"))
        );
        // The admin may still write it.
        let r = h
            .admin(h.update(), &path, Some(json!({ "mpn": "M-4" })))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["mpn"], "M-4");
    }
}

#[tokio::test]
async fn linked_lists_and_links_check_both_sides() {
    for g in BOTH {
        let h = start(
            g,
            SimRole::new()
                .entity("Brand", EntityAccess::NONE)
                .entity("Product", EntityAccess::READ_ONLY),
        )
        .await;
        let brand = h.created("Brand", json!({ "name": "Acme" })).await;
        let product = h.product("P1", json!({})).await;
        // Listing a record's linked records needs the linked entity's `read`.
        let path = match g {
            Generation::V22 => format!("/Brand/{brand}/products"),
            Generation::V23 => {
                format!("/entityRelation?entityName=Brand&id={brand}&link=products")
            }
        };
        h.clerk(Method::GET, &path, None)
            .await
            .assert_forbidden("linked list");
        // Linking needs `edit` on the record.
        let r = match g {
            Generation::V22 => {
                h.clerk(
                    Method::POST,
                    &format!("/Product/{product}/brand"),
                    Some(json!({ "id": brand })),
                )
                .await
            }
            Generation::V23 => {
                h.clerk(
                    Method::POST,
                    "/entityRelation",
                    Some(json!({
                        "entityName": "Product", "id": product, "link": "brand", "ids": [brand]
                    })),
                )
                .await
            }
        };
        r.assert_forbidden("link");
        let p = h
            .admin(Method::GET, &format!("/Product/{product}"), None)
            .await
            .json();
        assert_eq!(p["brandId"], Value::Null);
    }
}

#[test]
fn limited_is_a_read_only_role() {
    let u = SimUser::limited("r", "r", ["Product"]);
    assert_eq!(u.role.access("Product"), EntityAccess::READ_ONLY);
    assert_eq!(u.role.access("Brand"), EntityAccess::FULL);
    let all = SimUser::limited("r", "r", ["*"]);
    assert_eq!(all.role.access("Brand"), EntityAccess::READ_ONLY);
    assert!(!all.can_write("Brand"));
    assert!(SimUser::admin("a", "a").can_write("Brand"));
}
