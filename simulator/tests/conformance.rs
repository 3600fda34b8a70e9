//! Conformance tests over real HTTP against both real specs, replaying the REST guide's examples.

mod common;

use std::time::Duration;

use atrocore_sim::{Faults, SimConfig, SimUser, Simulator};
use base64::Engine as _;
use common::{BOTH, Gen, H, config, login, start, start_with, token_path};
use reqwest::Method;
use serde_json::{Value, json};

/// Creates a product with every field `ProductPost` requires (2.3 validates them).
async fn product(h: &H, name: &str, number: &str) -> Value {
    h.post_ok(
        "/Product",
        json!({ "name": name, "number": number, "status": "draft" }),
    )
    .await
}

#[tokio::test]
async fn generation_routes_spec_and_metadata() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        assert_eq!(
            h.api,
            format!(
                "{}{}",
                h.sim.base_url(),
                if g == Gen::V22 { "/api/v1" } else { "/api" }
            )
        );
        let spec: Value =
            h.c.get(format!("{}/openapi.json", h.sim.base_url()))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert!(spec["paths"]["/Product"].is_object());
        let meta_path = if g == Gen::V22 {
            "/Metadata"
        } else {
            "/metadata"
        };
        let meta = h.get_ok(meta_path).await;
        assert_eq!(
            meta["entityDefs"]["Product"]["fields"]["status"]["type"],
            "enum"
        );
    }
}

#[tokio::test]
async fn metadata_is_derived_without_a_file() {
    if !common::have_specs() {
        return;
    }
    let h = start_with(Gen::V23, SimConfig::from_spec_value(common::spec23())).await;
    let meta = h.get_ok("/metadata").await;
    assert_eq!(
        meta["entityDefs"]["Product"]["fields"]["name"]["required"],
        true
    );
    assert_eq!(
        meta["entityDefs"]["Product"]["links"]["brand"]["entity"],
        "Brand"
    );
}

#[tokio::test]
async fn auth_as_in_the_guide() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let url = format!("{}{}", h.api, token_path(g));
        // Step 2 of the guide: Basic + Authorization-Token-Only.
        let r =
            h.c.get(&url)
                .header("Authorization", "Basic YWRtaW46YWRtaW4=")
                .header("Authorization-Token-Only", "true")
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v.as_object().unwrap().len(), 1);
        let tok = v["authorizationToken"].as_str().unwrap();
        let decoded = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(tok)
                .unwrap(),
        )
        .unwrap();
        assert!(decoded.starts_with("admin:"));
        // Without the header: the user record with the token.
        let full: Value =
            h.c.get(&url)
                .basic_auth("admin", Some("admin"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        assert_eq!(full["user"]["userName"], "admin");
        assert!(full["authorizationToken"].is_string());
        // The token works (the guide's Metadata example), Basic on every call too.
        let meta = if g == Gen::V22 {
            "/Metadata"
        } else {
            "/metadata"
        };
        let r = h.send_as(tok, Method::GET, meta, None, &[]).await;
        assert_eq!(r.status, 200);
        let r =
            h.c.get(format!("{}/Product", h.api))
                .basic_auth("admin", Some("admin"))
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 200);
        // 401 otherwise: on 2.3 with a plain-text reason, on 2.2 bare (an empty body and no
        // reason, legacy `Api\Auth::processUnauthorized`).
        for bad in [
            h.c.get(format!("{}/Product", h.api)).send().await.unwrap(),
            h.c.get(format!("{}/Product", h.api))
                .basic_auth("admin", Some("wrong"))
                .send()
                .await
                .unwrap(),
            h.c.get(format!("{}/Product", h.api))
                .header("Authorization-Token", "bm9wZTpub3Bl")
                .send()
                .await
                .unwrap(),
        ] {
            assert_eq!(bad.status(), 401);
            let reason = bad.headers().contains_key("x-status-reason");
            assert_eq!(reason, g == Gen::V23, "{g:?}");
            let body = bad.text().await.unwrap();
            assert_eq!(body.is_empty(), g == Gen::V22, "{g:?}: {body}");
        }
    }
}

#[tokio::test]
async fn crud_roundtrip_and_errors() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        // 2.3 validates the body against ProductPost (status required); 2.2 does not validate
        // entity routes and applies the metadata default.
        let r = h
            .send(
                Method::POST,
                "/Product",
                Some(&json!({ "name": "Iphone", "number": "n-1" })),
                &[],
            )
            .await;
        let p = match g {
            Gen::V22 => {
                assert_eq!(r.status, 200, "{}", r.text);
                assert_eq!(r.json()["status"], "draft", "metadata default applied");
                r.json()
            }
            Gen::V23 => {
                assert_eq!(r.status, 400);
                assert_eq!(
                    r.text,
                    "Body does not match schema for content-type \"application/json\" for Request [post /{entityName}], Keyword validation failed: Required property 'status' must be present in the object"
                );
                assert_eq!(r.reason(), r.text);
                product(&h, "Iphone", "n-1").await
            }
        };
        let id = p["id"].as_str().unwrap().to_string();
        assert_eq!(p["isActive"], false);
        let ts = p["createdAt"].as_str().unwrap();
        assert_eq!(ts.len(), 19);
        assert_eq!(&ts[10..11], " ");
        // Required fields: the server's own check ("fieldIsRequired") catches empty values.
        let r = h
            .send(
                Method::POST,
                "/Product",
                Some(&json!({ "name": "x", "number": "", "status": "draft" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 400);
        assert_eq!(r.text, "Validation failed. 'Number' is required.");
        assert_eq!(r.reason(), r.text);
        // Wrong types are rejected by 2.3's request validation only.
        let r = h
            .send(
                Method::PATCH,
                &format!("/Product/{id}"),
                Some(&json!({ "price": "cheap" })),
                &[],
            )
            .await;
        if g == Gen::V23 {
            assert_eq!(
                r.text,
                "Body does not match schema for content-type \"application/json\" for Request [patch /{entityName}/{id}], Value expected to be 'number', 'string' given."
            );
        }
        // Malformed JSON.
        let r =
            h.c.post(format!("{}/Product", h.api))
                .header("Authorization-Token", &h.token)
                .body("{\"name\": ")
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 400);
        // Partial update with both PUT and PATCH (2.2 PUT schemas keep `required`, but 2.2 does
        // not validate entity routes); unknown fields ignored; no change at all → 304.
        let updates: &[(Method, f64)] = match g {
            Gen::V22 => &[(Method::PUT, 9.5), (Method::PATCH, 10.5)],
            // 2.3 updates with PATCH only (`Core/EntityTypeHandlers/UpdateHandler.php`).
            Gen::V23 => &[(Method::PATCH, 10.5)],
        };
        for (m, price) in updates.iter().cloned() {
            let r = h
                .send(
                    m,
                    &format!("/Product/{id}"),
                    Some(&json!({ "price": price, "unknownField": 1 })),
                    &[],
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.json()["name"], "Iphone");
            assert_eq!(r.json()["price"], price);
        }
        let r = h
            .send(
                h.update_method(),
                &format!("/Product/{id}"),
                Some(&json!({ "price": 10.5, "unknownField": 2 })),
                &[],
            )
            .await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (304, ""));
        let r = h
            .send(
                h.update_method(),
                "/Product/nope",
                Some(&json!({ "price": 1 })),
                &[],
            )
            .await;
        assert_eq!(r.status, 404);
        let r = h.send(Method::GET, "/Product/nope", None, &[]).await;
        assert_eq!(r.status, 404);
        // Delete → true, then 404.
        let r = h
            .send(Method::DELETE, &format!("/Product/{id}"), None, &[])
            .await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "true"));
        assert_eq!(
            h.send(Method::GET, &format!("/Product/{id}"), None, &[])
                .await
                .status,
            404
        );
        let p2 = product(&h, "b", "n-2").await;
        let r = h
            .send(
                Method::DELETE,
                &format!("/Product/{}", p2["id"].as_str().unwrap()),
                None,
                &[("permanently", "true")],
            )
            .await;
        assert_eq!(r.text, "true");
        assert_eq!(h.get_ok("/Product").await["total"], 0);
        // A record already in the trash (the first one) is deleted for good with `true`
        // (`Services/Record.php::deleteEntityPermanently`); then it is gone: 404. A soft delete
        // of a trashed record is a 404.
        let trashed = format!("/Product/{id}");
        let r = h.send(Method::DELETE, &trashed, None, &[]).await;
        assert_eq!(r.status, 404);
        let permanently = [("permanently", "true")];
        let r = h.send(Method::DELETE, &trashed, None, &permanently).await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "true"), "{g:?}");
        let r = h.send(Method::DELETE, &trashed, None, &permanently).await;
        assert_eq!(r.status, 404, "{g:?}");
        // Client-chosen id, duplicate id.
        let body = json!({ "id": "my-id", "name": "c", "number": "3", "status": "draft" });
        let p3 = h.post_ok("/Product", body.clone()).await;
        assert_eq!(p3["id"], "my-id");
        // A duplicate id or unique value is a database constraint violation: 400, not 409.
        let r = h.send(Method::POST, "/Product", Some(&body), &[]).await;
        assert_eq!(r.status, 400);
        assert!(
            r.text
                .starts_with("The record cannot be created/updated due to database constraints."),
            "{}",
            r.text
        );
    }
}

#[tokio::test]
async fn lists_replay_the_guide() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        for (i, name) in ["alpha test", "beta", "gamma test", "delta"]
            .iter()
            .enumerate()
        {
            h.post_ok("/Product", json!({ "name": name, "number": format!("{i}"), "status": "draft", "isActive": i % 2 == 0, "price": (i * 10) as f64 }))
                .await;
        }
        let v = h.get_ok("/Product?select=id,name,isActive").await;
        assert_eq!(v["total"], 4);
        let item = v["list"][0].as_object().unwrap();
        let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["id", "isActive", "name"]);
        let v = h
            .get_ok("/Product?select=id,name,isActive&offset=0&maxSize=2")
            .await;
        assert_eq!(
            (v["total"].as_i64(), v["list"].as_array().unwrap().len()),
            (Some(4), 2)
        );
        let v = h
            .get_ok("/Product?select=id,name,isActive&offset=0&maxSize=2&sortBy=name&asc=false")
            .await;
        assert_eq!(v["list"][0]["name"], "gamma test");
        assert_eq!(v["list"][1]["name"], "delta");
        let v = h.get_ok("/Product?offset=3&sortBy=name&asc=true").await;
        assert_eq!(v["list"][0]["name"], "gamma test");
        // The guide's where example, verbatim.
        let v = h
            .get_ok("/Product?where[0][attribute]=name&where[0][type]=like&where[0][value]=%test%&where[0][isAttribute]=false")
            .await;
        assert_eq!(v["total"], 2);
        // `asc` defaults to ascending; anything but `true` is descending.
        let v = h.get_ok("/Product?sortBy=name").await;
        assert_eq!(v["list"][0]["name"], "alpha test");
        let v = h.get_ok("/Product?sortBy=name&asc=1").await;
        assert_eq!(v["list"][0]["name"], "gamma test");
        // maxSize is not capped (200 is only the default).
        assert_eq!(
            h.get_ok("/Product?maxSize=1000").await["list"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        // 2.3 validates query parameters' types.
        let r = h.send(Method::GET, "/Product?maxSize=abc", None, &[]).await;
        match g {
            Gen::V22 => assert_eq!(r.status, 200),
            Gen::V23 => assert_eq!(
                r.text,
                "Value \"abc\" for argument \"maxSize\" is invalid for Request [get /{entityName}], Value expected to be 'integer', 'string' given."
            ),
        }
    }
}

async fn count(h: &H, q: &str) -> i64 {
    h.get_ok(&format!("/Product?{q}")).await["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn where_operators() {
    if !common::have_specs() {
        return;
    }
    let h = start(Gen::V22).await;
    let brand = h.post_ok("/Brand", json!({ "name": "Apple" })).await;
    let bid = brand["id"].as_str().unwrap();
    let cat = h
        .post_ok(
            "/Category",
            json!({ "name": "Phones", "ownerUserId": "1", "assignedUserId": "1" }),
        )
        .await;
    let cid = cat["id"].as_str().unwrap();
    h.post_ok("/Product", json!({ "name": "A", "number": "1", "price": 5, "isActive": true, "brandId": bid, "tag": ["x", "y"], "categoriesIds": [cid] })).await;
    h.post_ok(
        "/Product",
        json!({ "name": "B", "number": "2", "price": 50, "isActive": false, "tag": ["z"] }),
    )
    .await;
    h.post_ok(
        "/Product",
        json!({ "name": "C+D", "number": "3", "price": 500 }),
    )
    .await;
    let cases: Vec<(String, i64)> = vec![
        ("where[0][type]=equals&where[0][attribute]=name&where[0][value]=A".into(), 1),
        ("where[0][type]=notEquals&where[0][attribute]=name&where[0][value]=A".into(), 2),
        ("where[0][type]=equals&where[0][attribute]=name&where[0][value]=C%2BD".into(), 1),
        ("where[0][type]=greaterThan&where[0][attribute]=price&where[0][value]=10".into(), 2),
        ("where[0][type]=lessThanOrEquals&where[0][attribute]=price&where[0][value]=50".into(), 2),
        ("where[0][type]=between&where[0][attribute]=price&where[0][value][]=6&where[0][value][]=500".into(), 2),
        ("where[0][type]=in&where[0][attribute]=name&where[0][value][]=A&where[0][value][]=B".into(), 2),
        ("where[0][type]=notIn&where[0][attribute]=name&where[0][value][0]=A".into(), 2),
        ("where[0][type]=isTrue&where[0][attribute]=isActive".into(), 1),
        ("where[0][type]=isFalse&where[0][attribute]=isActive".into(), 2),
        ("where[0][type]=equals&where[0][attribute]=isActive&where[0][value]=false".into(), 2),
        ("where[0][type]=isNull&where[0][attribute]=brandId".into(), 2),
        ("where[0][type]=isNotNull&where[0][attribute]=brandId".into(), 1),
        ("where[0][type]=startsWith&where[0][attribute]=name&where[0][value]=C".into(), 1),
        ("where[0][type]=contains&where[0][attribute]=name&where[0][value]=%2B".into(), 1),
        ("where[0][type]=notContains&where[0][attribute]=name&where[0][value]=%2B".into(), 2),
        ("where[0][type]=linkedWith&where[0][attribute]=brand&where[0][value][]=".to_string() + bid, 1),
        ("where[0][type]=notLinkedWith&where[0][attribute]=brand&where[0][value][]=".to_string() + bid, 2),
        ("where[0][type]=linkedWith&where[0][attribute]=categories&where[0][value][]=".to_string() + cid, 1),
        ("where[0][type]=isLinked&where[0][attribute]=categories".into(), 1),
        ("where[0][type]=isNotLinked&where[0][attribute]=categories".into(), 2),
        ("where[0][type]=arrayAnyOf&where[0][attribute]=tag&where[0][value][]=y&where[0][value][]=z".into(), 2),
        ("where[0][type]=arrayNoneOf&where[0][attribute]=tag&where[0][value][]=y".into(), 2),
        ("where[0][type]=arrayIsEmpty&where[0][attribute]=tag".into(), 1),
        ("where[0][type]=arrayIsNotEmpty&where[0][attribute]=tag".into(), 2),
        ("where[0][type]=today&where[0][attribute]=createdAt".into(), 3),
        ("where[0][type]=lastXDays&where[0][attribute]=createdAt&where[0][value]=2".into(), 3),
        ("where[0][type]=future&where[0][attribute]=createdAt".into(), 0),
        ("where[0][type]=after&where[0][attribute]=createdAt&where[0][value]=2000-01-01".into(), 3),
        ("where[0][type]=or&where[0][value][0][type]=equals&where[0][value][0][attribute]=name&where[0][value][0][value]=A\
          &where[0][value][1][type]=like&where[0][value][1][attribute]=name&where[0][value][1][value]=%25b"
            .into(), 2),
        // `like` without `%` compares case-sensitively; with `%` both sides are lower-cased.
        ("where[0][type]=like&where[0][attribute]=name&where[0][value]=b".into(), 0),
        ("where[0][type]=like&where[0][attribute]=name&where[0][value]=B".into(), 1),
        ("where[0][type]=notLike&where[0][attribute]=name&where[0][value]=%25b".into(), 2),
        // `not` never negates: at the top level it matches nothing, inside a group it is
        // dropped and its siblings stay.
        ("where[0][type]=not&where[0][value][0][type]=equals&where[0][value][0][attribute]=name&where[0][value][0][value]=A".into(), 0),
        ("where[0][type]=or&where[0][value][0][type]=equals&where[0][value][0][attribute]=name&where[0][value][0][value]=A\
          &where[0][value][1][type]=not&where[0][value][1][value][0][type]=equals&where[0][value][1][value][0][attribute]=name&where[0][value][1][value][0][value]=A\
          &where[0][value][2][type]=equals&where[0][value][2][attribute]=name&where[0][value][2][value]=B"
            .into(), 2),
        ("where[0][type]=and&where[0][value][0][type]=not&where[0][value][0][value][0][type]=equals&where[0][value][0][value][0][attribute]=name&where[0][value][0][value][0][value]=A".into(), 3),
        // Empty groups and lists: no condition (an empty `in` is FALSE only at the top level).
        ("where[0][type]=or&where[0][value]=".into(), 3),
        ("where[0][type]=in&where[0][attribute]=name".into(), 0),
        ("where[0][type]=or&where[0][value][0][type]=in&where[0][value][0][attribute]=name".into(), 3),
        // An item without a type, or with an unknown one, is skipped.
        ("where[0][attribute]=name&where[0][value]=A".into(), 3),
        ("where[0][type]=unknownOp&where[0][attribute]=name&where[0][value]=A".into(), 3),
        // 2.2: an unknown field matches nothing (`:false`).
        ("where[0][type]=equals&where[0][attribute]=noSuchField&where[0][value]=A".into(), 0),
        ("where[0][type]=equals&where[0][attribute]=name&where[0][value]=A&where[1][type]=isTrue&where[1][attribute]=isActive".into(), 1),
        ("where[0][type]=textFilter&where[0][value]=b".into(), 1),
        // A string `where` is decoded as JSON; one that does not decode filters nothing.
        ("where=%5B%7B%22type%22%3A%22equals%22%2C%22attribute%22%3A%22name%22%2C%22value%22%3A%22A%22%7D%5D".into(), 1),
        ("where=not-json".into(), 3),
    ];
    for (q, want) in cases {
        assert_eq!(count(&h, &q).await, want, "{q}");
    }
    // `lastXDays` reads its value with PHP's `intval`: `abc` is 0 days (today).
    let q = "where[0][type]=lastXDays&where[0][attribute]=createdAt&where[0][value]=abc";
    assert_eq!(count(&h, q).await, 3);
    // An unknown time zone is an exception in `convertDateTimeWhere`: 500.
    let r = h
        .send(
            Method::GET,
            "/Product?where[0][type]=today&where[0][attribute]=createdAt&where[0][timeZone]=Mars%2FBase",
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 500, "{}", r.text);
}

#[tokio::test]
async fn limited_user_is_read_only() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let cfg = config(g).users(vec![
            SimUser::admin("admin", "admin"),
            SimUser::limited("api", "secret", ["Product"]),
        ]);
        let h = start_with(g, cfg).await;
        let p = product(&h, "a", "1").await;
        let tok = login(&h.c, &h.api, g, "api", "secret").await.unwrap();
        let r = h
            .send_as(
                &tok,
                Method::GET,
                "/Product",
                None,
                &[("With-Meta", "true")],
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["list"][0]["_meta"]["permissions"]["edit"], false);
        let r = h
            .send_as(
                &tok,
                Method::POST,
                "/Product",
                Some(&json!({ "name": "b", "number": "2", "status": "draft" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 403);
        let path = format!("/Product/{}", p["id"].as_str().unwrap());
        assert_eq!(
            h.send_as(&tok, Method::DELETE, &path, None, &[])
                .await
                .status,
            403
        );
        assert_eq!(
            h.send_as(&tok, Method::PATCH, &path, Some(&json!({"name": "x"})), &[])
                .await
                .status,
            403
        );
        // Other entities remain writable.
        let r = h
            .send_as(
                &tok,
                Method::POST,
                "/Brand",
                Some(&json!({ "name": "b" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 200);
        // Admin sees edit: true.
        let r = h
            .send(Method::GET, &path, None, &[("With-Meta", "1")])
            .await;
        assert_eq!(
            r.json()["_meta"]["permissions"],
            json!({ "edit": true, "delete": true, "stream": true })
        );
    }
}

#[tokio::test]
async fn bulk_upsert_replays_the_guide() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        h.post_ok(
            "/Product",
            json!({ "id": "2348924928743", "name": "old", "number": "x1", "status": "draft" }),
        )
        .await;
        h.post_ok("/Brand", json!({ "name": "Apple", "code": "apple" }))
            .await;
        let body = json!([
            { "entity": "Product", "payload": { "name": "Apple iPhone 15", "sku": "iphone15", "number": "i15" } },
            { "entity": "Product", "payload": { "id": "2348924928743", "name": "Apple iPhone 15 Pro Max" } },
            { "entity": "Product", "payload": { "id": "2348924928743", "name": "Apple iPhone 15 Pro Max" } },
            { "entity": "Product", "payload": { "name": "no number" } },
            { "entity": "Brand", "payload": { "code": "apple", "name": "Apple Inc." } },
            { "entity": "NoSuchEntity", "payload": {} },
        ]);
        let r = h
            .send(Method::POST, h.upsert_path(), Some(&body), &[])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let v = r.json();
        let statuses: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert_eq!(
            statuses,
            [
                "Created",
                "Updated",
                "NotModified",
                "Failed",
                "Updated",
                "Failed"
            ]
        );
        assert_eq!(v[0]["stored"], true);
        assert_eq!(v[2]["stored"], true);
        assert_eq!(v[3]["stored"], false);
        match g {
            Gen::V22 => {
                assert_eq!(v[0]["entity"]["name"], "Apple iPhone 15");
                assert_eq!(v[1]["entity"]["id"], "2348924928743");
                assert!(
                    v[3]["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("Code: 400. Message: ")
                );
            }
            Gen::V23 => {
                assert_eq!(v[0]["entity"], "Product");
                assert!(v[0]["id"].is_string());
                assert_eq!(v[1]["id"], "2348924928743");
                assert_eq!(v[3]["code"], 400);
                assert!(v[3]["message"].is_string());
            }
        }
        let brands = h.get_ok("/Brand").await;
        assert_eq!(brands["total"], 1);
        assert_eq!(brands["list"][0]["name"], "Apple Inc.");
        assert_eq!(
            h.get_ok("/Product/2348924928743").await["name"],
            "Apple iPhone 15 Pro Max"
        );
        let r = h
            .send(
                Method::POST,
                h.upsert_path(),
                Some(&json!({ "entity": "Product" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 400);
    }
}

#[tokio::test]
async fn find_or_create_links_replays_the_guide() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        // Standard behaviour (using id).
        let b = h.post_ok("/Brand", json!({ "name": "Samsung" })).await;
        let p = h
            .post_ok(
                "/Product",
                json!({ "name": "Galaxy", "number": "g", "status": "draft", "brandId": b["id"] }),
            )
            .await;
        assert_eq!(p["brandName"], "Samsung");
        // Single link object: creates the brand, then finds it.
        let body = json!({ "name": "Iphone", "number": "1", "status": "draft", "brand": { "name": "Apple" }, "color": { "name": "green" },
                           "colors": [{ "name": "red" }, { "name": "green" }, { "name": "pink" }] });
        let p1 = h.post_ok("/Product", body).await;
        let p2 = h
            .post_ok(
                "/Product",
                json!({ "name": "Iphone 2", "number": "2", "status": "draft", "brand": { "name": "Apple" } }),
            )
            .await;
        assert_eq!(p1["brandId"], p2["brandId"]);
        assert_eq!(p1["brandName"], "Apple");
        assert_eq!(h.get_ok("/Brand").await["total"], 2);
        // Multi link array.
        let cats = if g == Gen::V22 {
            json!([{ "name": "A", "ownerUserId": "1", "assignedUserId": "1" }, { "name": "B", "ownerUserId": "1", "assignedUserId": "1" }])
        } else {
            json!([{ "name": "A" }, { "name": "B" }])
        };
        let p3 = h
            .send(
                h.update_method(),
                &format!("/Product/{}", p1["id"].as_str().unwrap()),
                Some(&json!({ "categories": cats })),
                &[],
            )
            .await
            .json();
        let pid = p3["id"].as_str().unwrap();
        if g == Gen::V23 {
            assert_eq!(p3["categoriesIds"].as_array().unwrap().len(), 2);
            assert_eq!(p3["categoriesNames"].as_object().unwrap().len(), 2);
        }
        assert_eq!(
            h.get_ok(&h.linked_path("Product", pid, "categories")).await["total"],
            2
        );
        let q = "/Product?where[0][type]=isLinked&where[0][attribute]=categories";
        assert_eq!(h.get_ok(q).await["total"], 1);
        // Nested linking is not supported.
        let r = h
            .send(Method::POST, "/Product", Some(&json!({ "name": "x", "number": "3", "status": "draft", "brand": { "name": "Apple", "country": { "name": "USA" } } })), &[])
            .await;
        assert_eq!(r.status, 400);
    }
}

#[tokio::test]
async fn extensible_enum_option_is_resolved_in_its_list() {
    if !common::have_specs() {
        return;
    }
    let h = start(Gen::V22).await;
    // ContentItem.type is an extensibleEnum of list `content_items` in 2.2.
    let body = json!({ "name": "c1", "type": { "name": "In Progress" } });
    let r = h
        .send(
            Method::POST,
            "/ContentItem",
            Some(&body),
            &[("With-Meta", "true")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c1 = r.json();
    let opt = c1["type"].as_str().unwrap().to_string();
    let c2 = h
        .post_ok(
            "/ContentItem",
            json!({ "name": "c2", "type": { "name": "In Progress" } }),
        )
        .await;
    assert_eq!(c2["type"], opt.as_str());
    let o = h.get_ok(&format!("/ExtensibleEnumOption/{opt}")).await;
    assert_eq!(o["extensibleEnumsIds"], json!(["content_items"]));
    let r = h
        .send(
            Method::GET,
            &format!("/ContentItem/{}", c1["id"].as_str().unwrap()),
            None,
            &[("With-Meta", "true")],
        )
        .await;
    assert_eq!(r.json()["_meta"]["options"]["type"]["name"], "In Progress");
}

#[tokio::test]
async fn files_base64_url_download_and_sharing() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        // The guide's Base64 example.
        let f = h.post_ok("/File", json!({ "id": "a99060ec2fc0ddad2", "name": "Test.txt", "fileContents": "data:text/plain;base64,MTEx" })).await;
        assert_eq!(f["id"], "a99060ec2fc0ddad2");
        assert_eq!(f["fileSize"], 3);
        assert_eq!(f["mimeType"], "text/plain");
        let dl = f["downloadUrl"].as_str().unwrap();
        assert_eq!(
            h.c.get(dl)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            b"111"
        );
        // The URL method, downloading from the simulator itself.
        let f2 = h
            .post_ok(
                "/File",
                json!({ "id": "a62860ec2fc0ddete", "name": "picsum.txt", "url": dl }),
            )
            .await;
        assert_eq!(f2["fileSize"], 3);
        let r = h
            .send(
                Method::POST,
                "/File",
                Some(&json!({ "name": "x.txt", "fileContents": "data:text/plain;base64,@@" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 400);
        let r = h
            .send(
                Method::POST,
                "/File",
                Some(&json!({ "fileContents": "data:text/plain;base64,MTEx" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 400);
        // The guide's Sharing example.
        let s = h
            .post_ok(
                "/Sharing",
                json!({ "name": "My public version", "fileId": "a62860ec2fc0ddete" }),
            )
            .await;
        let link = s["link"].as_str().unwrap();
        let sid = s["id"].as_str().unwrap();
        assert_eq!(link, format!("{}/sharings/{sid}.txt", h.sim.base_url()));
        assert_eq!(s["viewLink"], format!("{link}?view=1"));
        assert_eq!(s["fileName"], "picsum.txt");
        assert_eq!(s["active"], true);
        assert!(
            s["filePathsData"]["download"]
                .as_str()
                .unwrap()
                .contains("/downloads/a62860ec2fc0ddete.")
        );
        let public = h.c.get(link).send().await.unwrap();
        assert_eq!(public.status(), 200);
        assert_eq!(public.bytes().await.unwrap().as_ref(), b"111");
        assert_eq!(h.get_ok(&format!("/Sharing/{sid}")).await["used"], 1);
        h.send(
            h.update_method(),
            &format!("/Sharing/{sid}"),
            Some(&json!({ "active": false })),
            &[],
        )
        .await;
        assert_eq!(h.c.get(link).send().await.unwrap().status(), 404);
        let r = h
            .send(
                Method::POST,
                "/Sharing",
                Some(&json!({ "name": "no file" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 400);
    }
}

#[tokio::test]
async fn chunked_upload_out_of_order_with_duplicates() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let path = if g == Gen::V22 {
            "/File"
        } else {
            "/File/createChunk"
        };
        let data = b"0123456789abcdefghij";
        let chunk = |start: usize, end: usize, count: Value| {
            json!({
                "id": "a99060ec2fc0dda33", "name": "some.pdf", "fileUniqueHash": "22551854", "start": start,
                "piece": format!("data:application/octet-stream;base64,{}", base64::engine::general_purpose::STANDARD.encode(&data[start..end])),
                "piecesCount": count,
            })
        };
        let v = h.post_ok(path, chunk(14, 20, json!(3))).await;
        assert_eq!(v, json!({ "chunks": ["14"] }));
        let v = h.post_ok(path, chunk(14, 20, json!(3))).await;
        assert_eq!(
            v,
            json!({ "chunks": ["14"] }),
            "a duplicate does not count twice"
        );
        let v = h.post_ok(path, chunk(0, 7, json!(3))).await;
        assert_eq!(v, json!({ "chunks": ["0", "14"] }));
        let v = h.post_ok(path, chunk(7, 14, json!(3))).await;
        assert_eq!(v["id"], "a99060ec2fc0dda33");
        assert_eq!(v["name"], "some.pdf");
        assert_eq!(v["chunks"], json!(["0", "7", "14"]));
        assert_eq!(v["fileSize"], 20);
        let got =
            h.c.get(v["downloadUrl"].as_str().unwrap())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        assert_eq!(got.as_ref(), data);
        // A chunk sent after completion lands in a fresh chunk folder (default local storage:
        // no name check); a completing one tries to create the record again: a database error.
        let v = h.post_ok(path, chunk(0, 7, json!(3))).await;
        assert_eq!(v, json!({ "chunks": ["0"] }));
        let mut whole = chunk(0, 20, json!(1));
        whole["fileUniqueHash"] = json!("other-hash");
        assert_eq!(
            h.send(Method::POST, path, Some(&whole), &[]).await.status,
            500
        );
        // piecesCount means chunk mode: id required; a string count never completes.
        let mut no_id = chunk(0, 7, json!(1));
        no_id.as_object_mut().unwrap().remove("id");
        assert_eq!(
            h.send(Method::POST, path, Some(&no_id), &[]).await.status,
            400
        );
        // A string count never completes on 2.2 (compared strictly); 2.3's validation rejects it.
        let mut s = chunk(0, 20, json!("1"));
        s["id"] = json!("other");
        match g {
            Gen::V22 => assert_eq!(h.post_ok(path, s).await, json!({ "chunks": ["0"] })),
            Gen::V23 => assert_eq!(h.send(Method::POST, path, Some(&s), &[]).await.status, 400),
        }
        let mut no_name = chunk(0, 7, json!(1));
        no_name["id"] = json!("third");
        no_name.as_object_mut().unwrap().remove("name");
        assert_eq!(
            h.send(Method::POST, path, Some(&no_name), &[]).await.status,
            400
        );
    }
}

async fn attribute(h: &H, name: &str, code: &str, ty: &str) -> String {
    let body = json!({ "name": name, "code": code, "systemName": code, "type": ty, "attributePanelId": "p", "entityId": "Product" });
    h.post_ok("/Attribute", body).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn attributes_simple_endpoints_and_flattened_format() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let text = attribute(&h, "Main headline text", "headlineText", "text").await;
        let price = attribute(&h, "Price", "priceAttr", "float").await;
        let other = attribute(&h, "Other", "other", "int").await;
        let unit = h
            .post_ok(
                "/Unit",
                json!({ "name": "USD", "measureId": "currency", "multiplier": 1 }),
            )
            .await;
        let usd = unit["id"].as_str().unwrap();
        let p = product(&h, "Example Product", "e1").await;
        let base = format!("/Product/{}", p["id"].as_str().unwrap());
        assert_eq!(
            h.post_ok(
                &format!("{base}/addAttributes"),
                json!({ "attributeIds": [text, price] })
            )
            .await,
            json!(true)
        );
        let v = h
            .post_ok(
                &format!("{base}/upsertAttributeValues"),
                json!([{ "attributeId": text, "value": "Updated text" }, { "attributeId": price, "value": 150, "valueUnitId": usd }]),
            )
            .await;
        assert_eq!(v, json!(true));
        let vals = h.get_ok(&format!("{base}/attributeValues")).await;
        assert_eq!(vals[0]["attributeId"], text.as_str());
        assert_eq!(vals[0]["value"], "Updated text");
        assert_eq!(vals[0]["type"], "text");
        assert_eq!(vals[1]["value"], 150);
        assert_eq!(vals[1]["valueUnitName"], "USD");
        assert_eq!(vals[1]["visible"], true);
        // Flattened read.
        let r = h
            .send(Method::GET, &base, None, &[("Flatten-Attributes", "true")])
            .await;
        let flat = r.json();
        assert_eq!(flat["headlineText"], "Updated text");
        assert_eq!(flat["priceAttr"], 150);
        assert_eq!(flat["priceAttrUnitId"], usd);
        assert_eq!(flat["priceAttrUnitName"], "USD");
        assert_eq!(
            flat["attributesDefs"]["headlineText"]["label"],
            "Main headline text"
        );
        assert_eq!(
            flat["attributesDefs"]["priceAttr"]["attributeId"],
            price.as_str()
        );
        // Not flattened without the header.
        assert!(h.get_ok(&base).await.get("headlineText").is_none());
        // Lists: only with allAttributes or attributes.
        let hdr = [("Flatten-Attributes", "true")];
        let l = h
            .send(Method::GET, "/Product?select=name&maxSize=1", None, &hdr)
            .await
            .json();
        assert!(l["list"][0].get("headlineText").is_none());
        let l = h
            .send(
                Method::GET,
                "/Product?select=name&maxSize=1&allAttributes=true",
                None,
                &hdr,
            )
            .await
            .json();
        assert_eq!(l["list"][0]["headlineText"], "Updated text");
        assert_eq!(l["list"][0]["priceAttr"], 150);
        let l = h
            .send(
                Method::GET,
                &format!("/Product?select=name&attributes={price}"),
                None,
                &hdr,
            )
            .await
            .json();
        assert!(l["list"][0].get("headlineText").is_none());
        assert_eq!(l["list"][0]["priceAttr"], 150);
        // Flattened PATCH: update, add, remove.
        let r = h
            .send(
                Method::PATCH,
                &base,
                Some(&json!({ "headlineText": "Flat", "priceAttr": 200 })),
                &hdr,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()["headlineText"], "Flat");
        assert_eq!(r.json()["priceAttr"], 200);
        let r = h
            .send(
                Method::PATCH,
                &base,
                Some(&json!({ "__attributes": [other] })),
                &hdr,
            )
            .await;
        assert!(r.json().as_object().unwrap().contains_key("other"));
        let r = h
            .send(
                Method::PATCH,
                &base,
                Some(&json!({ "headlineText": "Again", "__attributesToRemove": [price, other] })),
                &hdr,
            )
            .await;
        let v = r.json();
        assert_eq!(v["headlineText"], "Again");
        assert!(v.get("priceAttr").is_none() && v.get("other").is_none());
        // isAttribute where.
        let q = format!(
            "/Product?where[0][type]=equals&where[0][attribute]={text}&where[0][value]=Again&where[0][isAttribute]=true"
        );
        assert_eq!(h.get_ok(&q).await["total"], 1);
        // Delete attribute values with a JSON body.
        let r = h
            .send(
                Method::DELETE,
                &format!("{base}/attributeValues"),
                Some(&json!({ "attributeIds": [text, "nope"] })),
                &[],
            )
            .await;
        let want = match g {
            Gen::V22 => json!({ "count": 1, "errors": [] }),
            Gen::V23 => json!(true),
        };
        assert_eq!(r.json(), want);
        assert_eq!(
            h.get_ok(&format!("{base}/attributeValues")).await,
            json!([])
        );
        let r = h
            .send(
                Method::POST,
                &format!("{base}/addAttributes"),
                Some(&json!({ "attributeIds": ["missing"] })),
                &[],
            )
            .await;
        // No id names an attribute: `true` in both (2.2 `Services/Attribute.php::addAttributeValue`
        // tests `empty()` of a collection object, never empty; 2.3 drops the unknown ids,
        // `getAttributeIdsByIdOrCode`, and catches the `NotModified`), and nothing is added.
        assert_eq!((r.status.as_u16(), r.json()), (200, json!(true)), "{g:?}");
        assert_eq!(
            h.get_ok(&format!("{base}/attributeValues")).await,
            json!([])
        );
    }
}

#[tokio::test]
async fn attribute_writes_that_change_nothing() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let colour = attribute(&h, "Colour", "colour", "varchar").await;
        let size = attribute(&h, "Size", "size", "varchar").await;
        let p = product(&h, "No-op Product", "noop1").await;
        let base = format!("/Product/{}", p["id"].as_str().unwrap());
        let send = |m: Method, action: &str, body: Value| {
            let (h, path) = (&h, format!("{base}/{action}"));
            async move { h.send(m, &path, Some(&body), &[]).await }
        };
        let add = json!({ "attributeIds": [colour] });
        for _ in 0..2 {
            // Adding an attribute already present is `true` in both generations.
            let r = send(Method::POST, "addAttributes", add.clone()).await;
            assert_eq!((r.status.as_u16(), r.json()), (200, json!(true)), "{g:?}");
        }
        let upsert = json!([{ "attributeId": colour, "value": "red" }]);
        let r = send(Method::POST, "upsertAttributeValues", upsert.clone()).await;
        assert_eq!((r.status.as_u16(), r.json()), (200, json!(true)), "{g:?}");
        // The same values again: 304 with an empty body.
        let r = send(Method::POST, "upsertAttributeValues", upsert).await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (304, ""), "{g:?}");
        let r = send(Method::POST, "upsertAttributeValues", json!([])).await;
        assert_eq!(r.status, 400, "{g:?}: empty upsert");
        // Removing an attribute that is not on the record.
        let r = send(
            Method::DELETE,
            "attributeValues",
            json!({ "attributeIds": [size] }),
        )
        .await;
        match g {
            Gen::V22 => assert_eq!(
                (r.status.as_u16(), r.json()),
                (200, json!({ "count": 0, "errors": [] }))
            ),
            Gen::V23 => assert_eq!((r.status.as_u16(), r.text.as_str()), (304, "")),
        }
        let r = send(
            Method::DELETE,
            "attributeValues",
            json!({ "attributeIds": [] }),
        )
        .await;
        assert_eq!(r.status, 400, "{g:?}: empty delete");
        // 2.3 also takes an attribute's code (`getAttributeIdsByIdOrCode`).
        let by = match g {
            Gen::V22 => colour.clone(),
            Gen::V23 => "colour".to_string(),
        };
        let r = send(
            Method::DELETE,
            "attributeValues",
            json!({ "attributeIds": [by] }),
        )
        .await;
        assert_eq!(r.status, 200, "{g:?}: {}", r.text);
        assert_eq!(
            h.get_ok(&format!("{base}/attributeValues")).await,
            json!([])
        );
    }
}

#[tokio::test]
async fn read_by_code_only_on_2_3_reads_through_the_is_code_field() {
    if !common::have_specs() {
        return;
    }
    // The real metadata: `Selection.number` is the only isCode field among these entities
    // (autoincrement); `Brand.code` is unique but not isCode, so a Brand code is not an id.
    for g in BOTH {
        let h = start(g).await;
        let brand = h
            .post_ok("/Brand", json!({ "name": "Acme", "code": "acme" }))
            .await;
        assert_eq!(
            h.send(Method::GET, "/Brand/acme", None, &[]).await.status,
            404,
            "{g:?}"
        );
        let by_id = format!("/Brand/{}", brand["id"].as_str().unwrap());
        assert_eq!(h.get_ok(&by_id).await["code"], "acme");
    }
    let h = start(Gen::V23).await;
    let first = h.post_ok("/Selection", json!({ "type": "single" })).await;
    let second = h.post_ok("/Selection", json!({ "type": "single" })).await;
    assert_eq!(
        (first["number"].clone(), second["number"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(h.get_ok("/Selection/2").await["id"], second["id"]);
    // 2.3.13, the latest release, predates reads by code (2.3.14-rc2): a 404.
    let old = start_with(Gen::V23, config(Gen::V23).atrocore_version("2.3.13")).await;
    old.post_ok("/Selection", json!({ "type": "single" })).await;
    assert_eq!(
        old.send(Method::GET, "/Selection/1", None, &[])
            .await
            .status,
        404
    );
    for (m, path) in [
        (Method::GET, "/Selection/abc"),
        (Method::GET, "/Selection/9"),
        (Method::PATCH, "/Selection/2"),
        (Method::DELETE, "/Selection/2"),
    ] {
        let body = (m == Method::PATCH).then(|| json!({ "description": "x" }));
        let r = h.send(m.clone(), path, body.as_ref(), &[]).await;
        assert_eq!(r.status, 404, "{m} {path}: {}", r.text);
    }

    // Marking `Brand.code` isCode makes a Brand code readable on 2.3 (GET and
    // /entityRelation only), never on 2.2 (no isCode there).
    for g in BOTH {
        let mut meta = match g {
            Gen::V22 => (*common::meta22()).clone(),
            Gen::V23 => (*common::meta23()).clone(),
        };
        meta["entityDefs"]["Brand"]["fields"]["code"]["isCode"] = json!(true);
        let h = start_with(g, config(g).metadata_value(meta.into())).await;
        let brand = h
            .post_ok("/Brand", json!({ "name": "Acme", "code": "acme" }))
            .await;
        let r = h.send(Method::GET, "/Brand/acme", None, &[]).await;
        match g {
            Gen::V22 => assert_eq!(r.status, 404),
            Gen::V23 => {
                assert_eq!(r.status, 200, "{}", r.text);
                assert_eq!(r.json()["id"], brand["id"]);
                let rel = h
                    .get_ok("/entityRelation?entityName=Brand&id=acme&link=products")
                    .await;
                assert_eq!(rel["total"], 0);
                let r = h
                    .send(
                        Method::PATCH,
                        "/Brand/acme",
                        Some(&json!({ "name": "B" })),
                        &[],
                    )
                    .await;
                assert_eq!(r.status, 404, "{}", r.text);
            }
        }
    }
}

#[tokio::test]
async fn link_ids_must_name_existing_records() {
    if !common::have_specs() {
        return;
    }
    // The REST guide, "Standard Behavior (Using ID)": if the id does not exist, the request
    // fails (the core source has no generic check; the simulator answers 400).
    for g in BOTH {
        let h = start(g).await;
        let product_body = |extra: Value| {
            let mut b = json!({ "name": "Linked", "number": "L-1", "status": "draft" });
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            b
        };
        let r = h
            .send(
                Method::POST,
                "/Product",
                Some(&product_body(json!({ "brandId": "nope" }))),
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{g:?}: {}", r.text);
        assert!(
            r.text.contains("brandId") && r.text.contains("'nope'"),
            "{}",
            r.text
        );
        assert_eq!(r.reason(), r.text);
        let r = h
            .send(
                Method::POST,
                "/Product",
                Some(&product_body(json!({ "categoriesIds": ["nope2"] }))),
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{g:?}: {}", r.text);
        assert!(
            r.text.contains("categoriesIds") && r.text.contains("'nope2'"),
            "{}",
            r.text
        );
        // A deleted brand does not count.
        let gone = h.post_ok("/Brand", json!({ "name": "Gone" })).await;
        let gone = gone["id"].as_str().unwrap();
        let r = h
            .send(Method::DELETE, &format!("/Brand/{gone}"), None, &[])
            .await;
        assert_eq!(r.status, 200);
        let r = h
            .send(
                Method::POST,
                "/Product",
                Some(&product_body(json!({ "brandId": gone }))),
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{g:?}: {}", r.text);
        // Existing ids and find-or-create objects are fine.
        let brand = h.post_ok("/Brand", json!({ "name": "Here" })).await;
        let p = h
            .post_ok("/Product", product_body(json!({ "brandId": brand["id"] })))
            .await;
        let made = h
            .post_ok(
                "/Product",
                json!({ "name": "FoC", "number": "L-2", "status": "draft", "brand": { "name": "New brand" } }),
            )
            .await;
        assert!(made["brandId"].is_string());
        // Updates too.
        let path = format!("/Product/{}", p["id"].as_str().unwrap());
        let r = h
            .send(
                h.update_method(),
                &path,
                Some(&json!({ "brandId": "nope" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{g:?}: {}", r.text);
        assert_eq!(h.get_ok(&path).await["brandId"], brand["id"]);
    }
}

#[tokio::test]
async fn linked_records_and_with_meta() {
    if !common::have_specs() {
        return;
    }
    let h = start(Gen::V22).await;
    let b = h.post_ok("/Brand", json!({ "name": "Apple" })).await;
    let bid = b["id"].as_str().unwrap();
    for i in 0..3 {
        h.post_ok(
            "/Product",
            json!({ "name": format!("p{i}"), "number": format!("{i}"), "status": "draft", "brandId": bid }),
        )
        .await;
    }
    let r = h
        .send(
            Method::GET,
            &format!("/Brand/{bid}/products"),
            None,
            &[("With-Meta", "true")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["total"], 3);
    assert_eq!(v["list"][0]["_meta"]["permissions"]["unlink"], true);
    let c = h.post_ok("/Channel", json!({ "name": "web" })).await;
    let cid = c["id"].as_str().unwrap();
    let pid = v["list"][0]["id"].as_str().unwrap();
    let r = h
        .send(
            Method::POST,
            &format!("/Product/{pid}/channels"),
            Some(&json!({ "ids": [cid] })),
            &[],
        )
        .await;
    assert_eq!(r.text, "true");
    assert_eq!(
        h.get_ok(&format!("/Product/{pid}/channels")).await["total"],
        1
    );
    let r = h
        .send(
            Method::DELETE,
            &format!("/Product/{pid}/channels?ids={cid}"),
            None,
            &[],
        )
        .await;
    assert_eq!(r.text, "true");
    assert_eq!(
        h.get_ok(&format!("/Product/{pid}/channels")).await["total"],
        0
    );
}

#[tokio::test]
async fn injected_faults_are_deterministic() {
    if !common::have_specs() {
        return;
    }
    let faults = Faults {
        error_rate: 0.3,
        throttle_rate: 0.2,
        seed: 7,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let h = start_with(Gen::V23, config(Gen::V23).faults(faults.clone())).await;
        let mut seen = Vec::new();
        for _ in 0..30 {
            let r =
                h.c.get(format!("{}/Product", h.api))
                    .basic_auth("admin", Some("admin"))
                    .send()
                    .await
                    .unwrap();
            if r.status() == 429 {
                assert_eq!(r.headers()["retry-after"], "1");
            }
            seen.push(r.status().as_u16());
        }
        assert!(
            seen.contains(&503) && seen.contains(&429) && seen.contains(&200),
            "{seen:?}"
        );
        runs.push(seen);
    }
    assert_eq!(runs[0], runs[1]);
    // Dropped connections.
    let h = start_with(
        Gen::V23,
        config(Gen::V23).faults(Faults {
            drop_rate: 1.0,
            ..Faults::default()
        }),
    )
    .await;
    let r =
        h.c.get(format!("{}/Product", h.api))
            .basic_auth("admin", Some("admin"))
            .send()
            .await;
    let failed = match r {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(failed);
    // Latency.
    let h = start_with(
        Gen::V23,
        config(Gen::V23).faults(Faults {
            latency: Duration::from_millis(150),
            ..Faults::default()
        }),
    )
    .await;
    let t = std::time::Instant::now();
    h.get_ok("/Product").await;
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn tokens_expire() {
    if !common::have_specs() {
        return;
    }
    let faults = Faults {
        token_max_requests: Some(2),
        ..Faults::default()
    };
    let h = start_with(Gen::V22, config(Gen::V22).faults(faults)).await;
    assert_eq!(h.send(Method::GET, "/Product", None, &[]).await.status, 200);
    assert_eq!(h.send(Method::GET, "/Product", None, &[]).await.status, 200);
    assert_eq!(h.send(Method::GET, "/Product", None, &[]).await.status, 401);
    let fresh = login(&h.c, &h.api, Gen::V22, "admin", "admin")
        .await
        .unwrap();
    assert_eq!(
        h.send_as(&fresh, Method::GET, "/Product", None, &[])
            .await
            .status,
        200
    );
    let faults = Faults {
        token_ttl: Some(Duration::from_millis(50)),
        ..Faults::default()
    };
    let h = start_with(Gen::V22, config(Gen::V22).faults(faults)).await;
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(h.send(Method::GET, "/Product", None, &[]).await.status, 401);
}

/// Sessions as atrocore-legacy's `Auth` (last in-tree copy `app/Espo/Core/Utils/Auth.php`
/// before commit `b33a0dffc`) and `Console/Cron.php` have them: "Only one auth token per user"
/// deactivates the user's other tokens at each login; more than 10 refused logins within 60 s
/// make every login a 403 (checked before the credentials; tokens keep working on other
/// routes); expired tokens work until the cron's next run.
#[tokio::test]
async fn sessions_one_token_per_user_failed_login_limit_and_cron_expiry() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        for prevent in [false, true] {
            let h = start_with(g, config(g).auth_token_prevent_concurrent(prevent)).await;
            let first = h.token.clone();
            let second = login(&h.c, &h.api, g, "admin", "admin").await.unwrap();
            assert_ne!(first, second);
            let status = |t: String| {
                let h = &h;
                async move {
                    h.send_as(&t, Method::GET, "/Product", None, &[])
                        .await
                        .status
                }
            };
            assert_eq!(status(second.clone()).await, 200, "{g:?}");
            assert_eq!(
                status(first.clone()).await,
                if prevent { 401 } else { 200 },
                "{g:?}"
            );
            // Another user's login revokes nothing of admin's.
            login(&h.c, &h.api, g, "reader", "reader").await.unwrap();
            assert_eq!(status(second).await, 200, "{g:?}");
        }

        let h = start(g).await;
        for _ in 0..11 {
            assert_eq!(login(&h.c, &h.api, g, "admin", "wrong").await, None);
        }
        // The 12th login is refused before its (right) password is looked at.
        let r =
            h.c.get(format!("{}{}", h.api, common::token_path(g)))
                .basic_auth("admin", Some("admin"))
                .send()
                .await
                .unwrap();
        assert_eq!(r.status(), 403, "{g:?}");
        assert_eq!(
            r.headers().get("x-status-reason").unwrap(),
            "Max failed login attempts exceeded."
        );
        // Tokens keep working on other routes.
        assert_eq!(h.send(Method::GET, "/Product", None, &[]).await.status, 200);
        let h = start_with(g, config(g).failed_login_limit(None)).await;
        for _ in 0..20 {
            assert_eq!(login(&h.c, &h.api, g, "admin", "wrong").await, None);
        }
        assert!(login(&h.c, &h.api, g, "admin", "admin").await.is_some());
    }

    // A token past its lifetime works until the cron runs (here every 400 ms).
    let faults = Faults {
        token_ttl: Some(Duration::from_millis(50)),
        ..Faults::default()
    };
    let h = start_with(
        Gen::V23,
        config(Gen::V23)
            .faults(faults)
            .cron_period(Some(Duration::from_millis(400))),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.send(Method::GET, "/Product", None, &[]).await.status, 200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(h.send(Method::GET, "/Product", None, &[]).await.status, 401);
}

#[tokio::test]
async fn db_file_survives_restart_and_demo_data() {
    if !common::have_specs() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sim.sqlite");
    let id = {
        let h = start_with(Gen::V23, config(Gen::V23).db_path(&db)).await;
        let p = product(&h, "persist", "p1").await;
        h.sim.shutdown().await;
        p["id"].as_str().unwrap().to_string()
    };
    let h = start_with(Gen::V23, config(Gen::V23).db_path(&db)).await;
    assert_eq!(h.get_ok(&format!("/Product/{id}")).await["name"], "persist");
    drop(h);
    let sim = Simulator::start(config(Gen::V22).seed_demo_data(true))
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let v: Value = c
        .get(format!(
            "{}/Product?maxSize=5&where[0][type]=isNotNull&where[0][attribute]=brandId",
            sim.api_url()
        ))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 300);
    assert!(
        v["list"][0]["brandName"]
            .as_str()
            .unwrap()
            .starts_with("Brand ")
    );
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    if !common::have_specs() {
        return;
    }
    let h = start(Gen::V23).await;
    // Authenticated too, no route takes a path: `NotFoundMiddleware`'s message-less 404.
    for path in ["/NoSuchEntity", "/Product/p1/categories", "/Product/p1/a/b"] {
        let r = h.send(Method::GET, path, None, &[]).await;
        assert_eq!(
            (r.status.as_u16(), r.text.as_str(), r.reason()),
            (404, "", String::new()),
            "GET {path}"
        );
    }
    // 2.3 has no method-not-allowed stage and no PUT route: a route failure is a 404 with an
    // empty message (`NotFoundMiddleware`), also without credentials (`AuthMiddleware` lets route
    // failures through). `OPTIONS` is 200 before anything (`Core/Application.php::runApi`).
    for (m, path) in [
        (Method::PUT, "/Product"),
        (Method::PUT, "/Product/p1"),
        (Method::PATCH, "/Product"),
    ] {
        let r = h.send(m.clone(), path, None, &[]).await;
        assert_eq!(
            (r.status.as_u16(), r.text.as_str(), r.reason()),
            (404, "", String::new()),
            "{m} {path}"
        );
    }
    let anonymous = reqwest::Client::new();
    let r = anonymous
        .put(format!("{}/Product/p1", h.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // An unknown path too: routing comes before authentication on 2.3, while a known route
    // without credentials is 401. 2.2 authenticates first.
    let r = anonymous
        .get(format!("{}/NoSuchEntity", h.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.text().await.unwrap(), "");
    let r = anonymous
        .get(format!("{}/Product", h.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let h22 = start(Gen::V22).await;
    let r = anonymous
        .get(format!("{}/NoSuchEntity", h22.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    for g in BOTH {
        let h = start(g).await;
        let r = anonymous
            .request(Method::OPTIONS, format!("{}/Product", h.api))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{g:?}");
    }
    // Errors as `Core/Http/Response/ErrorResponse.php` sends them: `text/html; charset=utf-8`,
    // the message as body and in `X-Status-Reason`, UTF-8 kept, control characters as spaces.
    let body = json!({ "name": "Größe\nneu", "code": "größe" });
    h.post_ok("/Brand", body.clone()).await;
    let r = h.send(Method::POST, "/Brand", Some(&body), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
    let reason = String::from_utf8(r.headers["x-status-reason"].as_bytes().to_vec()).unwrap();
    assert!(
        reason.contains("'größe'") && !reason.contains('\n'),
        "{reason}"
    );
    // 2.2 keeps its 405.
    let h = start(Gen::V22).await;
    assert_eq!(
        h.send(Method::PATCH, "/Product", None, &[]).await.status,
        405
    );
    let r =
        h.c.get(format!("{}/nothing", h.sim.base_url()))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 404);
}

/// PHP's `max_input_vars`: variables past the limit are dropped silently (php-src
/// `main/php_variables.c`), so the last values of a long `in` list are lost; the rewrite's
/// `atroq` is one of them.
#[tokio::test]
async fn query_strings_are_cut_at_max_input_vars() {
    if !common::have_specs() {
        return;
    }
    let long_in = |n: usize| {
        let mut q = "where[0][type]=in&where[0][attribute]=name".to_string();
        for i in 0..n {
            q.push_str(&format!("&where[0][value][]=x{i}"));
        }
        q + "&where[0][value][]=A"
    };
    let h = start(Gen::V22).await;
    h.post_ok("/Product", json!({ "name": "A", "number": "1" }))
        .await;
    // The web server's rewrite adds one variable (`index.php?atroq=…`, `copy/public/.htaccess`),
    // so 999 are the client's: 2 + 996 + 1 are all read.
    assert_eq!(count(&h, &long_in(996)).await, 1);
    // 1000 of the client's: the value `A` is the one PHP drops.
    assert_eq!(count(&h, &long_in(997)).await, 0);
    let h = start_with(Gen::V22, config(Gen::V22).max_input_vars(5000)).await;
    h.post_ok("/Product", json!({ "name": "A", "number": "1" }))
        .await;
    assert_eq!(count(&h, &long_in(998)).await, 1);
}

/// `Repositories/File.php::validateItemName`: on a folder-syncing storage a name is unique per
/// folder, on create, rename and every chunk (so also a chunk sent after its file completed);
/// AtroCore's default local storage checks nothing.
#[tokio::test]
async fn file_names_are_unique_per_folder_only_on_syncing_storage() {
    if !common::have_specs() {
        return;
    }
    let file = |name: &str| json!({ "name": name, "fileContents": "data:text/plain;base64,aGk=" });
    for g in BOTH {
        let h = start(g).await;
        h.post_ok("/File", file("same.txt")).await;
        h.post_ok("/File", file("same.txt")).await;

        let h = start_with(g, config(g).unique_file_names(true)).await;
        h.post_ok("/File", file("a.txt")).await;
        let r = h
            .send(Method::POST, "/File", Some(&file("a.txt")), &[])
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.reason().contains("a.txt"), "{}", r.reason());
        let b = h.post_ok("/File", file("b.txt")).await;
        let path = format!("/File/{}", b["id"].as_str().unwrap());
        let method = if g == Gen::V22 {
            Method::PUT
        } else {
            Method::PATCH
        };
        let r = h
            .send(method, &path, Some(&json!({ "name": "a.txt" })), &[])
            .await;
        assert_eq!(r.status, 400, "rename onto a taken name: {}", r.text);
        let chunk_path = if g == Gen::V22 {
            "/File"
        } else {
            "/File/createChunk"
        };
        let chunk = json!({
            "id": "c1", "name": "c.bin", "fileUniqueHash": "h1", "start": 0,
            "piece": "data:application/octet-stream;base64,aGk=", "piecesCount": 1,
        });
        assert_eq!(h.post_ok(chunk_path, chunk.clone()).await["id"], "c1");
        let r = h.send(Method::POST, chunk_path, Some(&chunk), &[]).await;
        assert_eq!(r.status, 400, "a chunk after completion: {}", r.text);
    }
}

/// `AttributeFieldConverter::prepareFieldName`: 2.2 names flattened fields by the attribute's
/// code only when it is an identifier (`^[a-zA-Z][a-zA-Z0-9_]*$`), else by its id; 2.3 by its
/// `systemName`.
#[tokio::test]
async fn flattened_attribute_names_follow_the_generation() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let body = |code: &str, system: &str| {
            json!({ "name": code, "code": code, "systemName": system, "type": "text",
                    "attributePanelId": "p", "entityId": "Product" })
        };
        let good = h
            .post_ok("/Attribute", body("headline", "headlineSys"))
            .await;
        let bad = h.post_ok("/Attribute", body("2-fast", "fastSys")).await;
        let (good, bad) = (good["id"].as_str().unwrap(), bad["id"].as_str().unwrap());
        let p = product(&h, "P", "p1").await;
        let base = format!("/Product/{}", p["id"].as_str().unwrap());
        h.post_ok(
            &format!("{base}/upsertAttributeValues"),
            json!([{ "attributeId": good, "value": "a" }, { "attributeId": bad, "value": "b" }]),
        )
        .await;
        let flat = h
            .send(Method::GET, &base, None, &[("Flatten-Attributes", "true")])
            .await
            .json();
        let (k_good, k_bad) = match g {
            Gen::V22 => ("headline".to_string(), bad.to_string()),
            Gen::V23 => ("headlineSys".to_string(), "fastSys".to_string()),
        };
        assert_eq!(flat[&k_good], "a", "{g:?}: {flat}");
        assert_eq!(flat[&k_bad], "b", "{g:?}: {flat}");
    }
}

/// An unknown field in `where`: 2.2's converter emits `:false` (nothing matches); 2.3 removed
/// that guard and the database rejects the column (500).
#[tokio::test]
async fn unknown_where_fields_by_generation() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        product(&h, "A", "1").await;
        let q = "/Product?where[0][type]=equals&where[0][attribute]=noSuchField&where[0][value]=A";
        let r = h.send(Method::GET, q, None, &[]).await;
        match g {
            Gen::V22 => {
                assert_eq!(r.status, 200, "{}", r.text);
                assert_eq!(r.json()["total"], 0);
            }
            Gen::V23 => assert_eq!(r.status, 500, "{}", r.text),
        }
    }
}

/// `isTrue`/`isFalse` are `= TRUE`/`= FALSE` (`getWherePart`): a record whose flag is `NULL`
/// matches neither.
#[tokio::test]
async fn null_flags_match_neither_is_true_nor_is_false() {
    if !common::have_specs() {
        return;
    }
    let h = start(Gen::V22).await;
    for (n, flag) in [("1", json!(true)), ("2", json!(false)), ("3", Value::Null)] {
        h.post_ok(
            "/Product",
            json!({ "name": n, "number": n, "status": "draft", "isActive": flag }),
        )
        .await;
    }
    let q = |op: &str| format!("where[0][type]={op}&where[0][attribute]=isActive");
    assert_eq!(count(&h, &q("isTrue")).await, 1);
    assert_eq!(count(&h, &q("isFalse")).await, 1);
    assert_eq!(count(&h, &q("isNull")).await, 1);
}

/// 2.3's `isNull`/`isNotNull` on a link id count a link to a deleted record as empty
/// (`buildForeignDeletedNullCheck`); 2.2 compares the column only.
#[tokio::test]
async fn links_to_deleted_records_are_empty_on_2_3() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let brand = h.post_ok("/Brand", json!({ "name": "Gone" })).await;
        let bid = brand["id"].as_str().unwrap();
        h.post_ok(
            "/Product",
            json!({ "name": "P", "number": "1", "status": "draft", "brandId": bid }),
        )
        .await;
        let r = h
            .send(Method::DELETE, &format!("/Brand/{bid}"), None, &[])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let q = |op: &str| format!("where[0][type]={op}&where[0][attribute]=brandId");
        let (null, not_null) = (
            count(&h, &q("isNull")).await,
            count(&h, &q("isNotNull")).await,
        );
        match g {
            Gen::V22 => assert_eq!((null, not_null), (0, 1)),
            Gen::V23 => assert_eq!((null, not_null), (1, 0)),
        }
    }
}

/// Link and unlink requests as each generation's controller reads them (see `FIDELITY.md`,
/// "Linking and unlinking"): which keys name the foreign records, a request naming none is a
/// 500 without a message, `massRelate` links every match of `where`, and unlinking everything.
#[tokio::test]
async fn link_and_unlink_requests_by_generation() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let p = product(&h, "Phone", "P-1").await;
        let pid = p["id"].as_str().unwrap().to_string();
        let mut channels = Vec::new();
        for name in ["web shop", "web outlet", "print"] {
            let c = h.post_ok("/Channel", json!({ "name": name })).await;
            channels.push(c["id"].as_str().unwrap().to_string());
        }
        let (web1, web2, print) = (&channels[0], &channels[1], &channels[2]);
        let channels_of = h.linked_path("Product", &pid, "channels");
        // 2.3 has no per-entity link routes.
        if g == Gen::V23 {
            for m in [Method::GET, Method::POST, Method::DELETE] {
                let r = h
                    .send(m.clone(), &format!("/Product/{pid}/channels"), None, &[])
                    .await;
                assert_eq!(r.status, 404, "{m}: {}", r.text);
            }
        }
        // Where the request goes and what its body holds, by generation.
        let link_req = |extra: Value| match g {
            Gen::V22 => (format!("/Product/{pid}/channels"), extra),
            Gen::V23 => {
                let mut body = json!({ "entityName": "Product", "id": pid, "link": "channels" });
                body.as_object_mut()
                    .unwrap()
                    .extend(extra.as_object().unwrap().clone());
                ("/entityRelation".to_string(), body)
            }
        };
        let unlink_path = |query: &str| match g {
            Gen::V22 => format!("/Product/{pid}/channels?{query}"),
            Gen::V23 => {
                format!("/entityRelation?entityName=Product&id={pid}&link=channels&{query}")
            }
        };

        // No foreign record named: `throw new Error()`, a 500 without a message.
        let (path, body) = link_req(json!({}));
        let r = h.send(Method::POST, &path, Some(&body), &[]).await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (500, ""), "{g:?}");
        let r = h.send(Method::DELETE, &unlink_path(""), None, &[]).await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (500, ""), "{g:?}");

        // 2.2 reads the foreign `id` and `ids`; 2.3 only `ids` (its `id` is the record's own).
        match g {
            Gen::V22 => {
                let (path, body) = link_req(json!({ "id": web1, "ids": [print] }));
                assert_eq!(
                    h.send(Method::POST, &path, Some(&body), &[]).await.text,
                    "true"
                );
                assert_eq!(h.get_ok(&channels_of).await["total"], 2);
            }
            Gen::V23 => {
                let (path, body) = link_req(json!({ "ids": [web1, print] }));
                assert_eq!(
                    h.send(Method::POST, &path, Some(&body), &[]).await.text,
                    "true"
                );
                assert_eq!(h.get_ok(&channels_of).await["total"], 2);
                let r = h
                    .send(
                        Method::POST,
                        "/entityRelation",
                        Some(&json!({ "entityName": "Product", "id": pid, "ids": [web2] })),
                        &[],
                    )
                    .await;
                assert_eq!(r.status, 400, "no link: {}", r.text);
                let r = h
                    .send(
                        Method::DELETE,
                        &format!("/entityRelation?entityName=Product&id={pid}&ids={web1}"),
                        None,
                        &[],
                    )
                    .await;
                assert_eq!(r.status, 400, "no link: {}", r.text);
            }
        }
        // Unlink by the query's `ids`, then by the body's `id`.
        let r = h
            .send(
                Method::DELETE,
                &unlink_path(&format!("ids={print}")),
                None,
                &[],
            )
            .await;
        assert_eq!(r.text, "true", "{g:?}");
        assert_eq!(h.get_ok(&channels_of).await["total"], 1);
        let r = h
            .send(
                Method::DELETE,
                &unlink_path(""),
                Some(&json!({ "id": web1 })),
                &[],
            )
            .await;
        assert_eq!(r.text, "true", "{g:?}");
        assert_eq!(h.get_ok(&channels_of).await["total"], 0);

        // `massRelate`: every channel whose name starts with "web"; `where` must be an array.
        let filter = json!([{ "type": "startsWith", "attribute": "name", "value": "web" }]);
        let (path, body) = link_req(json!({ "massRelate": true, "where": filter }));
        assert_eq!(
            h.send(Method::POST, &path, Some(&body), &[]).await.text,
            "true"
        );
        let names: Vec<String> = h.get_ok(&channels_of).await["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names.len(), 2, "{g:?}: {names:?}");
        assert!(names.iter().all(|n| n.starts_with("web")), "{names:?}");
        let (path, body) = link_req(json!({ "massRelate": true, "where": { "type": "isNull" } }));
        assert_eq!(
            h.send(Method::POST, &path, Some(&body), &[]).await.status,
            400
        );
        assert_eq!(h.get_ok(&channels_of).await["total"], 2);

        // Unlink everything.
        let r = match g {
            Gen::V22 => {
                let r = h
                    .send(
                        Method::POST,
                        "/Product/action/unlinkAll",
                        Some(&json!({ "id": pid })),
                        &[],
                    )
                    .await;
                assert_eq!(r.status, 400, "no link: {}", r.text);
                h.send(
                    Method::POST,
                    "/Product/action/unlinkAll",
                    Some(&json!({ "id": pid, "link": "channels" })),
                    &[],
                )
                .await
            }
            Gen::V23 => {
                h.send(Method::DELETE, &unlink_path("all=true"), None, &[])
                    .await
            }
        };
        assert_eq!(r.text, "true", "{g:?}");
        assert_eq!(h.get_ok(&channels_of).await["total"], 0);
        // The channels stay.
        assert_eq!(
            h.get_ok(&format!("/Channel/{web2}")).await["name"],
            "web outlet"
        );
    }
}

async fn description(h: &H, id: &str) -> Value {
    h.get_ok(&format!("/Brand/{id}")).await["description"].clone()
}

/// Mass update and delete (see `services/mass.rs`): 2.2's per-entity routes answer
/// `{count, sync, errors}` (its spec says a boolean), 2.3's global routes `{updated | deleted,
/// errors}` for ids and `{jobId}` for a filter; a failed record is one error line after a
/// summary, and counts as selected.
#[tokio::test]
async fn mass_update_and_delete_by_generation() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let mut ids = Vec::new();
        for name in ["Alpha", "Arrow", "Beta"] {
            let b = h.post_ok("/Brand", json!({ "name": name })).await;
            ids.push(b["id"].as_str().unwrap().to_string());
        }
        let starts_with_a = json!([{ "type": "startsWith", "attribute": "name", "value": "A" }]);
        let (update_method, update_path, delete_path) = match g {
            Gen::V22 => (
                Method::PUT,
                "/Brand/action/massUpdate",
                "/Brand/action/massDelete",
            ),
            Gen::V23 => (Method::PATCH, "/entityMassUpdate", "/entityMassDelete"),
        };
        let with_entity = |mut body: Value| {
            if g == Gen::V23 {
                body["entityName"] = json!("Brand");
            }
            body
        };

        // By ids, one of them missing: counted, and reported after the summary line.
        let body = match g {
            Gen::V22 => {
                json!({ "attributes": { "description": "one" }, "ids": [ids[2], "nobody"] })
            }
            Gen::V23 => json!({ "values": { "description": "one" }, "ids": [ids[2], "nobody"] }),
        };
        let r = h
            .send(
                update_method.clone(),
                update_path,
                Some(&with_entity(body)),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{g:?}: {}", r.text);
        let v = r.json();
        let count_key = if g == Gen::V22 { "count" } else { "updated" };
        assert_eq!(v[count_key], 2, "{g:?}: {v}");
        let errors = v["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 2, "{v}");
        assert_eq!(
            errors[0],
            "Some record(s) could not be successfully updated."
        );
        assert!(
            errors[1]
                .as_str()
                .unwrap()
                .starts_with("Error for 'nobody': "),
            "{v}"
        );
        assert_eq!(description(&h, &ids[2]).await, "one");
        if g == Gen::V22 {
            assert_eq!(v["sync"], true);
        }

        // Nothing to set: 400.
        let body = match g {
            Gen::V22 => json!({ "attributes": {}, "ids": [ids[0]] }),
            Gen::V23 => json!({ "values": {}, "ids": [ids[0]] }),
        };
        let r = h
            .send(
                update_method.clone(),
                update_path,
                Some(&with_entity(body)),
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{g:?}: {}", r.text);

        // By filter: 2.2 in the request with `byWhere`, 2.3 through the async route and a job.
        match g {
            Gen::V22 => {
                let body = json!({ "attributes": { "description": "a" }, "where": starts_with_a, "byWhere": true });
                let r = h.send(Method::PUT, update_path, Some(&body), &[]).await;
                assert_eq!(r.json(), json!({ "count": 2, "sync": true, "errors": [] }));
                // Without `byWhere` the filter is not read: an empty selection.
                let body = json!({ "attributes": { "description": "z" }, "where": starts_with_a });
                let r = h.send(Method::PUT, update_path, Some(&body), &[]).await;
                assert_eq!(r.json()["count"], 0);
            }
            Gen::V23 => {
                let body = json!({ "entityName": "Brand", "values": { "description": "a" }, "where": starts_with_a });
                let r = h
                    .send(Method::PATCH, "/entityMassUpdateAsync", Some(&body), &[])
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
                let job = r.json()["jobId"].as_str().unwrap().to_string();
                assert_eq!(h.get_ok(&format!("/Job/{job}")).await["status"], "Success");
                let r = h
                    .send(
                        Method::PATCH,
                        "/entityMassUpdateAsync",
                        Some(&json!({ "entityName": "Brand", "values": { "description": "a" } })),
                        &[],
                    )
                    .await;
                assert_eq!(r.status, 400, "no where: {}", r.text);
                let many: Vec<String> = (0..201).map(|i| format!("id{i}")).collect();
                let r = h
                    .send(
                        Method::PATCH,
                        update_path,
                        Some(&json!({ "entityName": "Brand", "values": { "description": "x" }, "ids": many })),
                        &[],
                    )
                    .await;
                assert_eq!(r.status, 400);
                assert!(
                    r.text.starts_with("Too many ids: maximum allowed is 200."),
                    "{}",
                    r.text
                );
            }
        }
        assert_eq!(description(&h, &ids[0]).await, "a");
        assert_eq!(description(&h, &ids[1]).await, "a");
        assert_eq!(description(&h, &ids[2]).await, "one");

        // Delete by ids, then by filter; deleted records are gone from reads.
        let r = h
            .send(
                Method::POST,
                delete_path,
                Some(&with_entity(json!({ "ids": [ids[2]] }))),
                &[],
            )
            .await;
        let v = r.json();
        assert_eq!(v[if g == Gen::V22 { "count" } else { "deleted" }], 1, "{v}");
        assert_eq!(v["errors"], json!([]));
        match g {
            Gen::V22 => {
                // Both ids and `byWhere`: `executeMassAction` merges select parameters it never
                // built, a TypeError: 500, nothing deleted.
                let both = json!({ "ids": [ids[0]], "where": starts_with_a, "byWhere": true });
                let r = h.send(Method::POST, delete_path, Some(&both), &[]).await;
                assert_eq!(r.status, 500, "{}", r.text);
                let body = json!({ "where": starts_with_a, "byWhere": true, "permanently": true });
                let r = h.send(Method::POST, delete_path, Some(&body), &[]).await;
                assert_eq!(r.json(), json!({ "count": 2, "sync": true, "errors": [] }));
            }
            Gen::V23 => {
                let body = json!({ "entityName": "Brand", "where": starts_with_a });
                let r = h
                    .send(Method::POST, "/entityMassDeleteAsync", Some(&body), &[])
                    .await;
                assert!(r.json()["jobId"].is_string(), "{}", r.text);
            }
        }
        for id in &ids {
            let r = h
                .send(Method::GET, &format!("/Brand/{id}"), None, &[])
                .await;
            assert_eq!(r.status, 404, "{g:?} {id}");
        }
        assert_eq!(h.get_ok("/Brand").await["total"], 0);
    }
}

/// A mass action's job status (`Services/Job.php::getMassActionJobStatus`): 2.2
/// `GET /Job/action/massActionStatus?id=`, 2.3 `GET /Job/{id}/massActionStatus`; done once the
/// job and the jobs it created have finished.
#[tokio::test]
async fn mass_action_status_by_generation() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let b = h.post_ok("/Brand", json!({ "name": "Alpha" })).await;
        let status_path = |job: &str| match g {
            Gen::V22 => format!("/Job/action/massActionStatus?id={job}"),
            Gen::V23 => format!("/Job/{job}/massActionStatus"),
        };
        // A job of each generation: 2.2 a queued upsert, 2.3 an async mass update.
        let job = match g {
            Gen::V22 => {
                let r = h
                    .send(
                        Method::POST,
                        "/MassActions/action/upsert",
                        Some(&json!([{ "entity": "Brand", "payload": { "id": b["id"], "description": "d" } }])),
                        &[("Use-Queue", "true")],
                    )
                    .await;
                r.json()["jobId"].as_str().unwrap().to_string()
            }
            Gen::V23 => {
                let body = json!({
                    "entityName": "Brand", "values": { "description": "d" },
                    "where": [{ "type": "equals", "attribute": "name", "value": "Alpha" }],
                });
                let r = h
                    .send(Method::PATCH, "/entityMassUpdateAsync", Some(&body), &[])
                    .await;
                let job = r.json()["jobId"].as_str().unwrap().to_string();
                // The job that did the work names its creator.
                let parts = h.get_ok("/Job?maxSize=50").await;
                let part = parts["list"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|j| j["type"] == "MassUpdate")
                    .unwrap_or_else(|| panic!("no MassUpdate job: {parts}"))
                    .clone();
                assert_eq!(part["payload"]["creatorId"], job.as_str(), "{part}");
                assert_eq!(part["status"], "Success");
                job
            }
        };
        let v = h.get_ok(&status_path(&job)).await;
        assert_eq!(
            v,
            json!({ "done": true, "errors": "", "message": "" }),
            "{g:?}"
        );
        assert_eq!(
            h.get_ok(&format!("/Brand/{}", b["id"].as_str().unwrap()))
                .await["description"],
            "d"
        );
        let r = h.send(Method::GET, &status_path("nojob"), None, &[]).await;
        assert_eq!(r.status, 404, "{g:?}: {}", r.text);
        if g == Gen::V22 {
            let r = h
                .send(Method::GET, "/Job/action/massActionStatus", None, &[])
                .await;
            assert_eq!(r.status, 400, "{}", r.text);
        }
    }
}

/// List parameters as `Atro/Core/SelectManagers/Base.php`, the list controllers/handlers and
/// the record service's `findEntities` read them (2.2.31 and 2.3): the default order is `id`
/// ascending (not the metadata's `collection` order), an unknown `sortBy` orders nothing, a
/// link sorts by the linked record's name; `totalOnly` and `collectionOnly` shape the answer;
/// `maxSize` has no cap and a negative one fails in SQL; with counting disabled `total` is -1
/// (more follow) or -2 (none do).
#[tokio::test]
async fn list_order_shapes_and_sizes_as_atrocore_reads_them() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        let mut brands = Vec::new();
        for name in ["Zeta", "Alpha", "Mid"] {
            let v = h
                .post_ok(
                    "/Brand",
                    json!({ "name": name, "code": name.to_lowercase() }),
                )
                .await;
            brands.push(v["id"].as_str().unwrap().to_owned());
        }
        let mut ids = Vec::new();
        // Names in an order unlike both the ids' and the insertion order.
        for (i, (name, brand)) in [("b", 0), ("c", 1), ("a", 2), ("d", 1)].iter().enumerate() {
            let v = h
                .post_ok(
                    "/Product",
                    json!({ "name": name, "number": format!("n{i}"), "status": "draft", "brandId": brands[*brand] }),
                )
                .await;
            ids.push(v["id"].as_str().unwrap().to_owned());
        }
        let names = |v: &Value| -> Vec<String> {
            v["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_owned())
                .collect()
        };
        let list_ids = |v: &Value| -> Vec<String> {
            v["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let mut by_id = ids.clone();
        by_id.sort();
        // No sortBy (or an empty one): id ascending; `asc=false` descending.
        assert_eq!(
            list_ids(&h.get_ok("/Product?select=id,name").await),
            by_id,
            "{g:?}"
        );
        assert_eq!(
            list_ids(&h.get_ok("/Product?select=id,name&sortBy=").await),
            by_id,
            "{g:?}"
        );
        let mut desc = by_id.clone();
        desc.reverse();
        assert_eq!(
            list_ids(&h.get_ok("/Product?select=id,name&asc=false").await),
            desc,
            "{g:?}"
        );
        // An unknown field: no ORDER BY (the database's order; here insertion order).
        assert_eq!(
            list_ids(&h.get_ok("/Product?select=id,name&sortBy=noSuchField").await),
            ids,
            "{g:?}"
        );
        // A link sorts by the linked record's name: Alpha (c, d), Mid (a), Zeta (b).
        let v = h.get_ok("/Product?select=id,name&sortBy=brand").await;
        let got = names(&v);
        assert_eq!(got[2..], ["a", "b"], "{g:?}: {got:?}");
        // totalOnly: the total alone; collectionOnly: the list alone.
        assert_eq!(
            h.get_ok("/Product?totalOnly=true").await,
            json!({ "total": 4 }),
            "{g:?}"
        );
        let v = h.get_ok("/Product?select=id&collectionOnly=true").await;
        assert!(
            v.get("total").is_none() && v["list"].as_array().unwrap().len() == 4,
            "{g:?}: {v}"
        );
        // `totalOnly=1` is not `true`: a normal answer.
        assert!(
            h.get_ok("/Product?select=id&totalOnly=1")
                .await
                .get("list")
                .is_some()
        );
        // maxSize: 0 is the default (200), no cap above it; negative sizes or offsets fail.
        assert_eq!(
            h.get_ok("/Product?select=id&maxSize=0").await["list"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert_eq!(
            h.get_ok("/Product?select=id&maxSize=100000").await["list"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        for q in ["maxSize=-1", "offset=-1"] {
            let r = h
                .send(Method::GET, &format!("/Product?select=id&{q}"), None, &[])
                .await;
            assert_eq!(r.status, 500, "{g:?} {q}: {}", r.text);
        }

        // Counting disabled (`disabledCountQueryEntityList`): -1 while records follow the page,
        // -2 on the last page, also for totalOnly.
        let h = start_with(g, config(g).count_disabled(["Brand"])).await;
        for name in ["A", "B", "C"] {
            h.post_ok("/Brand", json!({ "name": name, "code": name }))
                .await;
        }
        let v = h.get_ok("/Brand?select=id&maxSize=2").await;
        assert_eq!(
            (v["total"].as_i64(), v["list"].as_array().unwrap().len()),
            (Some(-1), 2),
            "{g:?}"
        );
        let v = h.get_ok("/Brand?select=id&maxSize=2&offset=2").await;
        assert_eq!(
            (v["total"].as_i64(), v["list"].as_array().unwrap().len()),
            (Some(-2), 1),
            "{g:?}"
        );
        assert_eq!(
            h.get_ok("/Brand?totalOnly=true&maxSize=3").await,
            json!({ "total": -2 }),
            "{g:?}"
        );
    }
}
