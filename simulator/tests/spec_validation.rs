//! The simulator against its own spec: every JSON answer of the conformance flows validates
//! against the route's documented 200 schema on both generations, and requests are validated the
//! way the real server validates them.

mod common;

use std::sync::Arc;

use atrocore_sim::openapi::{Direction, Routes, Validator};
use atrocore_sim::{SimUser, Simulator};
use base64::Engine as _;
use common::{BOTH, Gen, H, config, login, start, start_with};
use reqwest::Method;
use serde_json::{Value, json};

fn data_uri(bytes: &[u8]) -> String {
    format!(
        "data:application/octet-stream;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

async fn expect_ok(
    h: &H,
    m: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Value {
    let r = h.send(m.clone(), path, body.as_ref(), headers).await;
    assert_eq!(r.status, 200, "{m} {path}: {}", r.text);
    r.json()
}

/// CRUD, lists, With-Meta, upsert (plain and queued), files, sharing, attributes and linked
/// lists, each answer checked by the simulator's response check.
async fn flows(h: &H) {
    let g = h.g;
    let upd = h.update_method();
    // Token route with the full answer, metadata.
    let r =
        h.c.get(format!("{}{}", h.api, common::token_path(g)))
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    expect_ok(
        h,
        Method::GET,
        if g == Gen::V22 {
            "/Metadata"
        } else {
            "/metadata"
        },
        None,
        &[],
    )
    .await;

    // CRUD and lists.
    let brand = h
        .post_ok("/Brand", json!({ "name": "Apple", "code": "apple" }))
        .await;
    let bid = brand["id"].as_str().unwrap().to_string();
    let p = h
        .post_ok(
            "/Product",
            json!({ "name": "Phone", "number": "P-1", "status": "draft", "brandId": bid, "tag": ["a"], "price": 5 }),
        )
        .await;
    let pid = p["id"].as_str().unwrap().to_string();
    h.post_ok(
        "/Product",
        json!({ "name": "Tablet", "number": "P-2", "status": "draft" }),
    )
    .await;
    for meta in [&[][..], &[("With-Meta", "true")][..]] {
        expect_ok(h, Method::GET, &format!("/Product/{pid}"), None, meta).await;
        expect_ok(h, Method::GET, "/Product", None, meta).await;
        expect_ok(
            h,
            Method::GET,
            "/Product?select=id,name&maxSize=1&sortBy=name&asc=false",
            None,
            meta,
        )
        .await;
        expect_ok(
            h,
            Method::GET,
            "/Brand?where[0][type]=equals&where[0][attribute]=code&where[0][value]=apple",
            None,
            meta,
        )
        .await;
    }
    let v = expect_ok(
        h,
        upd.clone(),
        &format!("/Product/{pid}"),
        Some(json!({ "price": 7.5 })),
        &[("With-Meta", "1")],
    )
    .await;
    assert_eq!(v["price"], 7.5);
    let gone = h.post_ok("/Brand", json!({ "name": "Gone" })).await;
    let r = h
        .send(
            Method::DELETE,
            &format!("/Brand/{}", gone["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    assert_eq!(r.text, "true");

    // Bulk upsert, plain and queued.
    let items = json!([
        { "entity": "Product", "payload": { "name": "Upserted", "number": "U-1" } },
        { "entity": "Product", "payload": { "id": pid, "name": "Phone 2" } },
        { "entity": "Product", "payload": { "id": pid, "name": "Phone 2" } },
        { "entity": "Product", "payload": { "name": "no number" } },
        { "entity": "NoSuchEntity", "payload": {} },
    ]);
    let v = expect_ok(h, Method::POST, h.upsert_path(), Some(items.clone()), &[]).await;
    assert_eq!(v.as_array().unwrap().len(), 5);
    let (path, headers): (&str, &[(&str, &str)]) = match g {
        Gen::V22 => ("/MassActions/action/upsert", &[("Use-Queue", "true")]),
        Gen::V23 => ("/upsertAsync", &[]),
    };
    let queued = json!([{ "entity": "Brand", "payload": { "name": "Queued", "code": "queued" } }]);
    let job = expect_ok(h, Method::POST, path, Some(queued), headers).await;
    let job_id = job["jobId"].as_str().unwrap();
    let j = expect_ok(h, Method::GET, &format!("/Job/{job_id}"), None, &[]).await;
    assert_eq!(
        (j["status"].as_str(), j["type"].as_str()),
        (Some("Success"), Some("Upsert"))
    );
    expect_ok(h, Method::GET, "/Job", None, &[]).await;
    let v = h
        .get_ok("/Brand?where[0][type]=equals&where[0][attribute]=code&where[0][value]=queued")
        .await;
    assert_eq!(v["total"], 1, "the queued job ran");

    // Files: Base64, chunks, sharing.
    let f = h
        .post_ok(
            "/File",
            json!({ "name": "a.txt", "fileContents": "data:text/plain;base64,MTEx" }),
        )
        .await;
    let fid = f["id"].as_str().unwrap().to_string();
    expect_ok(h, Method::GET, &format!("/File/{fid}"), None, &[]).await;
    expect_ok(h, Method::GET, "/File", None, &[("With-Meta", "true")]).await;
    let chunk_path = if g == Gen::V22 {
        "/File"
    } else {
        "/File/createChunk"
    };
    let data = b"0123456789";
    for (start, end) in [(5, 10), (0, 5)] {
        h.post_ok(
            chunk_path,
            json!({ "id": "chunked-1", "name": "c.bin", "fileUniqueHash": "h1", "start": start,
                    "piece": data_uri(&data[start..end]), "piecesCount": 2 }),
        )
        .await;
    }
    let s = h
        .post_ok("/Sharing", json!({ "name": "pub", "fileId": fid }))
        .await;
    expect_ok(
        h,
        Method::GET,
        &format!("/Sharing/{}", s["id"].as_str().unwrap()),
        None,
        &[],
    )
    .await;
    if g == Gen::V23 {
        let v = expect_ok(
            h,
            Method::POST,
            &format!("/File/{fid}/createSharedUrl"),
            None,
            &[],
        )
        .await;
        assert!(v["sharedUrl"].is_string());
    }

    // Attributes: simple endpoints and the flattened format.
    let text = h
        .post_ok(
            "/Attribute",
            json!({ "name": "Headline", "code": "headline", "systemName": "headline", "type": "text", "attributePanelId": "p", "entityId": "Product" }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let price = h
        .post_ok(
            "/Attribute",
            json!({ "name": "Weight", "code": "weight", "systemName": "weight", "type": "float", "attributePanelId": "p", "entityId": "Product" }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/Product/{pid}");
    expect_ok(
        h,
        Method::POST,
        &format!("{base}/addAttributes"),
        Some(json!({ "attributeIds": [text] })),
        &[],
    )
    .await;
    expect_ok(
        h,
        Method::POST,
        &format!("{base}/upsertAttributeValues"),
        Some(json!([{ "attributeId": text, "value": "Hello" }, { "attributeId": price, "value": 1.5 }])),
        &[],
    )
    .await;
    expect_ok(
        h,
        Method::GET,
        &format!("{base}/attributeValues"),
        None,
        &[],
    )
    .await;
    let flat = [("Flatten-Attributes", "true")];
    expect_ok(h, Method::GET, &base, None, &flat).await;
    expect_ok(
        h,
        Method::GET,
        "/Product?select=name&allAttributes=true",
        None,
        &flat,
    )
    .await;
    expect_ok(
        h,
        upd.clone(),
        &base,
        Some(json!({ "headline": "Flat" })),
        &flat,
    )
    .await;
    expect_ok(
        h,
        Method::DELETE,
        &format!("{base}/attributeValues"),
        Some(json!({ "attributeIds": [price] })),
        &[],
    )
    .await;

    // Linked lists, With-Meta, link and unlink.
    let c = h.post_ok("/Channel", json!({ "name": "web" })).await;
    let cid = c["id"].as_str().unwrap().to_string();
    match g {
        Gen::V22 => {
            let v = expect_ok(
                h,
                Method::GET,
                &format!("/Brand/{bid}/products"),
                None,
                &[("With-Meta", "true")],
            )
            .await;
            assert_eq!(v["list"][0]["_meta"]["permissions"]["unlink"], true);
            expect_ok(
                h,
                Method::POST,
                &format!("/Product/{pid}/channels"),
                Some(json!({ "ids": [cid] })),
                &[],
            )
            .await;
            let v = expect_ok(
                h,
                Method::GET,
                &format!("/Product/{pid}/channels?select=name"),
                None,
                &[],
            )
            .await;
            assert_eq!(v["total"], 1);
            expect_ok(
                h,
                Method::DELETE,
                &format!("/Product/{pid}/channels?ids={cid}"),
                None,
                &[],
            )
            .await;
        }
        Gen::V23 => {
            let q = format!("/entityRelation?entityName=Brand&id={bid}&link=products");
            let v = expect_ok(h, Method::GET, &q, None, &[("With-Meta", "true")]).await;
            assert_eq!(v["total"], 1);
            assert_eq!(v["list"][0]["_meta"]["permissions"]["unlink"], true);
            let body =
                json!({ "entityName": "Product", "id": pid, "link": "channels", "ids": [cid] });
            assert_eq!(
                expect_ok(h, Method::POST, "/entityRelation", Some(body), &[]).await,
                json!(true)
            );
            let q = format!("/entityRelation?entityName=Product&id={pid}&link=channels");
            assert_eq!(expect_ok(h, Method::GET, &q, None, &[]).await["total"], 1);
            let v = expect_ok(h, Method::DELETE, &format!("{q}&ids={cid}"), None, &[]).await;
            assert_eq!(v, json!(true));
            assert_eq!(expect_ok(h, Method::GET, &q, None, &[]).await["total"], 0);
        }
    }
}

#[tokio::test]
async fn every_answer_matches_the_spec() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let h = start(g).await;
        flows(&h).await;
        assert_eq!(h.sim.response_violations(), Vec::<String>::new());
        assert!(
            h.sim.checked_responses() >= 40,
            "only {} answers were checked",
            h.sim.checked_responses()
        );
    }
}

#[test]
fn validator_names_route_pointer_and_reason() {
    if !common::have_specs() {
        return;
    }
    let spec = common::spec23();
    let routes = Routes::new(&spec);
    let (template, op) = routes.find(&spec, "GET", &["Product"]).unwrap();
    assert_eq!(template, "/Product");
    let schema = atrocore_sim::openapi::response_schema(op, "200").unwrap();
    let answer = json!({ "total": "2", "list": [ { "id": "1", "name": "ok", "number": "n", "status": "draft" },
                                                 { "id": "2", "name": null, "number": "n", "status": "draft", "price": "9" } ] });
    let found: Vec<String> = Validator::new(&spec, Direction::Response)
        .validate(schema, &answer)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "at /total: Value expected to be 'integer', 'string' given.",
            "at /list/1/name: Keyword validation failed: Value cannot be null",
            "at /list/1/price: Value expected to be 'number', 'string' given.",
        ]
    );
}

#[tokio::test]
async fn requests_are_validated_like_the_real_server() {
    if !common::have_specs() {
        return;
    }
    // 2.3 validates every documented route.
    let h = start(Gen::V23).await;
    let pid = h
        .post_ok(
            "/Product",
            json!({ "name": "a", "number": "1", "status": "draft" }),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases: Vec<(Method, String, Option<Value>, &str)> = vec![
        (
            Method::POST,
            "/Brand".into(),
            Some(json!({ "code": "x" })),
            "Body does not match schema for content-type \"application/json\" for Request [post /{entityName}], Keyword validation failed: Required property 'name' must be present in the object",
        ),
        (
            Method::PATCH,
            format!("/Product/{pid}"),
            Some(json!({ "name": null })),
            "Body does not match schema for content-type \"application/json\" for Request [patch /{entityName}/{id}], Keyword validation failed: Value cannot be null",
        ),
        (
            Method::POST,
            format!("/Product/{pid}/addAttributes"),
            Some(json!({ "attributeIds": "a" })),
            "Body does not match schema for content-type \"application/json\" for Request [post /{entityName}/{id}/addAttributes], Value expected to be 'array', 'string' given.",
        ),
        (
            Method::POST,
            "/upsert".into(),
            Some(json!([{ "entity": "Product" }])),
            "Body does not match schema for content-type \"application/json\" for Request [post /upsert], Keyword validation failed: Required property 'payload' must be present in the object",
        ),
        (
            Method::GET,
            "/entityRelation?entityName=Product&id=x".into(),
            None,
            "Missing required argument \"link\" for Request [get /entityRelation]",
        ),
        (
            Method::POST,
            "/Product".into(),
            Some(json!({ "name": 1 })),
            "Body does not match schema for content-type \"application/json\" for Request [post /{entityName}], Keyword validation failed: Required property 'number' must be present in the object",
        ),
    ];
    for (m, path, body, want) in cases {
        let r = h.send(m.clone(), &path, body.as_ref(), &[]).await;
        assert_eq!(
            (r.status.as_u16(), r.text.as_str()),
            (400, want),
            "{m} {path}"
        );
        assert_eq!(r.reason(), want);
    }
    // Unknown routes are 404 and unauthenticated requests 401 before any validation.
    assert_eq!(
        h.send(Method::POST, "/NoSuchEntity", Some(&json!({})), &[])
            .await
            .status,
        404
    );
    let r = h
        .send_as(
            "bm9wZTpub3Bl",
            Method::POST,
            "/Brand",
            Some(&json!({})),
            &[],
        )
        .await;
    assert_eq!(r.status, 401);
    // PATCH schemas have no `required`: partial updates pass.
    let r = h
        .send(
            Method::PATCH,
            &format!("/Product/{pid}"),
            Some(&json!({ "price": 1 })),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // 2.2 validates only the routes configured with a description (md5 operationIds): a partial
    // PUT passes although the PUT schema keeps `required`; the upsert route is validated.
    let h = start(Gen::V22).await;
    let pid = h
        .post_ok("/Product", json!({ "name": "a", "number": "1" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = h
        .send(
            Method::PUT,
            &format!("/Product/{pid}"),
            Some(&json!({ "price": 2 })),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = h
        .send(
            Method::POST,
            "/MassActions/action/upsert",
            Some(&json!({ "entity": "Product" })),
            &[],
        )
        .await;
    assert_eq!(
        r.text,
        "Body does not match schema for content-type \"application/json\" for Request [post /MassActions/action/upsert], Value expected to be 'array', 'array' given."
    );
    // Items without entity or payload fail on their own in 2.2.
    let v = h
        .post_ok(
            "/MassActions/action/upsert",
            json!([{ "payload": {} }, { "entity": "Product" }]),
        )
        .await;
    assert_eq!(
        v,
        json!([
            { "status": "Failed", "stored": false, "message": "'entity' parameter is required." },
            { "status": "Failed", "stored": false, "message": "'payload' parameter is required." },
        ])
    );
}

#[tokio::test]
async fn delegated_sessions_fill_meta_audit() {
    if !common::have_specs() {
        return;
    }
    for g in BOTH {
        let users = vec![
            SimUser::admin("admin", "admin"),
            SimUser::admin("alice", "pw").on_behalf_of("bob"),
            SimUser::admin("bob", "pw"),
        ];
        let h = start_with(g, config(g).users(users)).await;
        let alice = login(&h.c, &h.api, g, "alice", "pw").await.unwrap();
        let r = h
            .send_as(
                &alice,
                Method::POST,
                "/Brand",
                Some(&json!({ "name": "B" })),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let b = r.json();
        assert_eq!(b["createdById"], "bob");
        let path = format!("/Brand/{}", b["id"].as_str().unwrap());
        let v = expect_ok(&h, Method::GET, &path, None, &[("With-Meta", "true")]).await;
        let who = json!({
            "actor": { "id": "alice", "name": "alice", "isSystem": false },
            "delegator": { "id": "bob", "name": "bob", "isSystem": false },
        });
        assert_eq!(
            v["_meta"]["audit"],
            json!({ "createdBy": who, "modifiedBy": who })
        );
        // An ordinary session's change drops the modifiedBy entry.
        expect_ok(
            &h,
            h.update_method(),
            &path,
            Some(json!({ "name": "C" })),
            &[],
        )
        .await;
        let v = expect_ok(&h, Method::GET, &path, None, &[("With-Meta", "true")]).await;
        assert_eq!(v["_meta"]["audit"], json!({ "createdBy": who }));
        let list = expect_ok(&h, Method::GET, "/Brand", None, &[]).await;
        assert!(
            list["list"][0].get("_meta").is_none(),
            "only with With-Meta"
        );
        assert!(h.sim.response_violations().is_empty());
    }
}

#[tokio::test]
async fn response_check_is_off_by_default() {
    if !common::have_specs() {
        return;
    }
    if std::env::var_os("ATROCORE_SIM_VALIDATE_RESPONSES").is_some() {
        return;
    }
    let sim = Simulator::start(atrocore_sim::SimConfig::from_spec_value(Arc::clone(
        &common::spec23(),
    )))
    .await
    .unwrap();
    assert_eq!(sim.checked_responses(), 0);
    let c = reqwest::Client::new();
    let r = c
        .get(format!("{}/Product", sim.api_url()))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.checked_responses(), 0);
}
