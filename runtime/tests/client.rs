//! The client against an in-test HTTP server: login and token cache, re-login on `401`,
//! retries and their limits, error mapping, request encoding, entity operations and paging.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use atrocore_runtime::{
    ApiGeneration, Client, Entity, EntityField, ErrorKind, Filter, Meta, Method, Patch, TextField,
};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use support::{Fault, PASSWORD, Server, fast_retries};

#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
struct Product {
    id: Option<String>,
    name: Option<String>,
    #[serde(rename = "_meta")]
    meta: Option<Meta>,
}

#[derive(Debug, Clone, Copy)]
enum ProductField {
    Id,
    Name,
    Price,
}

impl EntityField for ProductField {
    fn name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::Name => "name",
            Self::Price => "price",
        }
    }
}

impl Entity for Product {
    const NAME: &'static str = "Product";
    type Record = Product;
    type Field = ProductField;
    type Id = atrocore_runtime::Id<Product>;
}

const NAME: TextField<Product> = TextField::new("name");

#[derive(serde::Serialize, Default)]
struct ProductPatch {
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    name: Patch<String>,
    #[serde(skip_serializing_if = "Patch::is_unchanged")]
    code: Patch<String>,
}

async fn get(client: &Client, path: &str) -> atrocore_runtime::Result<Value> {
    client.request(Method::GET, path).send_json().await
}

// ---- authentication ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_tasks_share_one_login() {
    let server = Server::start().await;
    server.mock.login_delay_ms.store(100, Ordering::SeqCst);
    let client = server.client(ApiGeneration::V2_2);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { get(&c, "/Echo").await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(server.mock.logins(), 1);
    let logins = server.mock.seen_at("/App/user");
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].path, "/api/v1/App/user");
    assert_eq!(logins[0].header("authorization-token-only"), Some("true"));
    for s in server.mock.seen_at("/Echo") {
        assert_eq!(s.header("authorization-token"), Some("tok-1-abcdef"));
        assert_eq!(
            s.header("authorization"),
            None,
            "no Basic header after login"
        );
    }
}

#[tokio::test]
async fn generation_2_3_uses_user_session_and_api_base() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_3);
    assert_eq!(client.base_url(), format!("{}/api", server.url));
    get(&client, "/Echo").await.unwrap();
    let seen = server.mock.seen();
    assert_eq!(seen[0].path, "/api/userSession");
    assert_eq!(seen[1].path, "/api/Echo");
}

#[tokio::test]
async fn explicit_login_checks_credentials_once() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    client.login().await.unwrap();
    client.login().await.unwrap();
    get(&client, "/Echo").await.unwrap();
    assert_eq!(server.mock.logins(), 1);
}

#[tokio::test]
async fn expired_token_logs_in_again_and_replays_once() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    get(&client, "/Echo").await.unwrap();
    server.mock.expire_token();
    // Even a POST is replayed: the 401 means the server did not act on it.
    let v: Value = client
        .request(Method::POST, "/Faulty")
        .json(&json!({"a": 1}))
        .send_json()
        .await
        .unwrap();
    assert_eq!(v, json!({"ok": true}));
    assert_eq!(server.mock.logins(), 2);
    let posts = server.mock.seen_at("/Faulty");
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1].header("authorization-token"), Some("tok-2-abcdef"));
    assert_eq!(
        posts[1].body, posts[0].body,
        "the buffered body is sent again"
    );
}

#[tokio::test]
async fn a_second_401_is_an_auth_error() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    get(&client, "/Echo").await.unwrap();
    server.mock.reject_all.store(true, Ordering::SeqCst);
    let e = get(&client, "/Echo").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert!(e.is_auth());
    assert_eq!(e.status(), Some(401));
    assert_eq!(server.mock.logins(), 2, "exactly one re-login");
    assert_eq!(
        server.mock.seen_at("/Echo").len(),
        3,
        "first call, then the rejected call and one replay"
    );
}

#[tokio::test]
async fn wrong_credentials_are_a_clear_auth_error() {
    let server = Server::start().await;
    let client = Client::builder(&server.url)
        .basic_auth("admin", "wrong-password-123")
        .retry_policy(fast_retries(3))
        .build()
        .unwrap();
    let e = get(&client, "/Echo").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    assert_eq!(e.reason(), Some("Wrong username/password"));
    assert_eq!(e.path(), Some("/App/user"));
    let text = e.to_string();
    assert_eq!(
        text,
        "GET /App/user: 401 Unauthorized: could not log in as `admin`: Wrong username/password"
    );
    assert!(!format!("{e:?}").contains("wrong-password-123"));
    assert_eq!(server.mock.seen().len(), 1, "a 401 at login is not retried");
}

#[tokio::test]
async fn given_token_is_sent_as_is_and_not_renewed() {
    let server = Server::start().await;
    server.mock.set_token("given-token-xyz");
    let client = Client::builder(&server.url)
        .token("given-token-xyz")
        .build()
        .unwrap();
    get(&client, "/Echo").await.unwrap();
    assert_eq!(
        server.mock.seen()[0].header("authorization-token"),
        Some("given-token-xyz")
    );
    server.mock.expire_token();
    let e = get(&client, "/Echo").await.unwrap_err();
    assert!(e.is_auth());
    assert_eq!(server.mock.logins(), 0);
}

#[tokio::test]
async fn token_with_credentials_renews_from_the_credentials() {
    let server = Server::start().await;
    server.mock.set_token("given-token-xyz");
    let client = Client::builder(&server.url)
        .token("given-token-xyz")
        .basic_auth(support::USER, PASSWORD)
        .build()
        .unwrap();
    get(&client, "/Echo").await.unwrap();
    assert_eq!(server.mock.logins(), 0);
    server.mock.expire_token();
    get(&client, "/Echo").await.unwrap();
    assert_eq!(server.mock.logins(), 1);
}

// ---- retries -------------------------------------------------------------------------------

#[tokio::test]
async fn get_is_retried_on_503_502_504() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    server
        .mock
        .push_faults([Fault::status(503), Fault::status(502), Fault::status(504)]);
    let v = get(&client, "/Faulty").await.unwrap();
    assert_eq!(v, json!({"ok": true}));
    assert_eq!(server.mock.seen_at("/Faulty").len(), 4);
}

#[tokio::test]
async fn retries_stop_at_the_policy_limit() {
    let server = Server::start().await;
    let client = Client::builder(&server.url)
        .basic_auth(support::USER, PASSWORD)
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    server
        .mock
        .push_faults((0..5).map(|_| Fault::status(503).body("Maintenance")));
    let e = get(&client, "/Faulty").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Server);
    assert_eq!(
        e.to_string(),
        "GET /Faulty: 503 Service Unavailable: Maintenance"
    );
    assert_eq!(server.mock.seen_at("/Faulty").len(), 3);
}

#[tokio::test]
async fn post_is_never_retried_unless_marked_idempotent() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    server.mock.push_faults([Fault::status(503)]);
    let e = client
        .request(Method::POST, "/Faulty")
        .json(&json!([1]))
        .send_empty()
        .await
        .unwrap_err();
    assert!(e.is_server());
    assert_eq!(server.mock.seen_at("/Faulty").len(), 1);

    for method in [Method::PATCH, Method::PUT, Method::DELETE] {
        server.mock.push_faults([Fault::status(502)]);
        let before = server.mock.seen_at("/Faulty").len();
        client
            .request(method, "/Faulty")
            .send_empty()
            .await
            .unwrap_err();
        assert_eq!(server.mock.seen_at("/Faulty").len(), before + 1);
    }

    server.mock.push_faults([
        Fault::status(503),
        Fault::status(429).header("Retry-After", "0"),
    ]);
    let before = server.mock.seen_at("/Faulty").len();
    client
        .request(Method::POST, "/Faulty")
        .json(&json!([{"entity": "Brand", "payload": {"code": "x"}}]))
        .idempotent(true)
        .send_empty()
        .await
        .unwrap();
    let posts = server.mock.seen_at("/Faulty");
    assert_eq!(posts.len(), before + 3);
    assert_eq!(posts.last().unwrap().body, posts[before].body);
}

#[tokio::test]
async fn a_get_marked_not_idempotent_is_not_retried() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    server.mock.push_faults([Fault::status(503)]);
    let e = client
        .request(Method::GET, "/Faulty")
        .idempotent(false)
        .send_empty()
        .await
        .unwrap_err();
    assert!(e.is_server());
    assert_eq!(server.mock.seen_at("/Faulty").len(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured_within_the_limit() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    server
        .mock
        .push_faults([Fault::status(429).header("Retry-After", "0")]);
    get(&client, "/Faulty").await.unwrap();
    assert_eq!(server.mock.seen_at("/Faulty").len(), 2);

    // Longer than max_retry_after (2 s in tests): given up at once.
    server.mock.push_faults([Fault::status(429)
        .header("Retry-After", "120")
        .body("Slow down")]);
    let started = std::time::Instant::now();
    let e = get(&client, "/Faulty").await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "not the 120 s asked"
    );
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.reason(), Some("Slow down"));
    assert_eq!(server.mock.seen_at("/Faulty").len(), 3);
}

#[tokio::test]
async fn retry_after_seconds_are_waited() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    server
        .mock
        .push_faults([Fault::status(503).header("Retry-After", "1")]);
    let started = std::time::Instant::now();
    get(&client, "/Faulty").await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(950),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(30));
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = Server::start().await;
    let client = Client::builder(&server.url)
        .basic_auth(support::USER, PASSWORD)
        .retry_policy(fast_retries(1))
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let e = get(&client, "/Slow").await.unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(e.status(), None);
    assert_eq!(server.mock.seen_at("/Slow").len(), 2);
    assert!(e.to_string().starts_with("GET /Slow: timed out"), "{e}");

    // A per-request timeout overrides the client's.
    let v = client
        .request(Method::GET, "/Slow")
        .timeout(Duration::from_secs(5))
        .send_json::<Value>()
        .await;
    assert!(v.is_ok());
}

#[tokio::test]
async fn connection_failures_are_transport_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}");
    drop(listener);
    let client = Client::builder(&url)
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let e = get(&client, "/Echo").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
    assert!(e.is_transport());
    // The host it could not reach is named (never more of the URL).
    assert!(
        e.to_string().starts_with(&format!(
            "GET /Echo: transport error: could not connect to {addr}"
        )),
        "{e}"
    );
}

// ---- errors --------------------------------------------------------------------------------

#[tokio::test]
async fn reason_prefers_the_header_then_the_body() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    server.mock.push_faults([
        Fault::status(404)
            .header("X-Status-Reason", "No such record")
            .body("ignored"),
        Fault::status(400).body("  Field 'name' is required.\n"),
        Fault::status(409).body(&"x".repeat(5000)),
        Fault::status(403),
        Fault::status(401).header("Password-Expired", "true"),
    ]);
    let e = get(&client, "/Faulty").await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.reason(), Some("No such record"));

    let e = get(&client, "/Faulty").await.unwrap_err();
    assert!(e.is_validation());
    assert_eq!(e.reason(), Some("Field 'name' is required."));
    assert_eq!(
        e.to_string(),
        "GET /Faulty: 400 Bad Request: Field 'name' is required."
    );

    let e = get(&client, "/Faulty").await.unwrap_err();
    assert!(e.is_conflict());
    assert!(e.reason().unwrap().len() <= 520);

    let e = get(&client, "/Faulty").await.unwrap_err();
    assert!(e.is_forbidden());
    assert_eq!(e.reason(), None);
    // AtroCore's refusals carry no message: the error names the entity from the request.
    assert_eq!(e.entity(), Some("Faulty"));
    assert_eq!(
        e.to_string(),
        "GET /Faulty: 403 Forbidden: the user's role does not allow this on `Faulty`"
    );

    // A 401 with Password-Expired: the re-login succeeds, the replay gets the normal answer.
    let v = get(&client, "/Faulty").await.unwrap();
    assert_eq!(v, json!({"ok": true}));
}

#[tokio::test]
async fn password_expired_is_reported() {
    let server = Server::start().await;
    server.mock.set_token("t");
    let client = Client::builder(&server.url).token("t").build().unwrap();
    server
        .mock
        .push_faults([Fault::status(401).header("Password-Expired", "true")]);
    let e = get(&client, "/Faulty").await.unwrap_err();
    assert!(e.is_auth() && e.is_password_expired());
}

#[tokio::test]
async fn errors_never_show_the_query_string() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    server.mock.push_faults([Fault::status(400).body("bad")]);
    let e = client
        .request(Method::GET, "/Faulty")
        .query("select", "confidentialField")
        .send_empty()
        .await
        .unwrap_err();
    assert_eq!(e.path(), Some("/Faulty"));
    assert_eq!(e.method(), Some(&Method::GET));
    assert!(!e.to_string().contains("confidentialField"));
    assert!(!format!("{e:?}").contains("confidentialField"));
}

#[tokio::test]
async fn undecodable_answers_are_decode_errors() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    let e = get(&client, "/NotJson").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(e.status(), None);
    assert!(std::error::Error::source(&e).is_some());
}

#[tokio::test]
async fn invalid_header_names_fail_on_send() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    let e = client
        .request(Method::GET, "/Echo")
        .header("bad header", "x")
        .send_empty()
        .await
        .unwrap_err();
    assert!(e.is_builder());
    assert_eq!(server.mock.seen().len(), 0, "nothing was sent");
}

// ---- request encoding ----------------------------------------------------------------------

#[tokio::test]
async fn query_helpers_encode_as_documented() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    let w = (NAME.equals("a b") | NAME.is_null()).into_where();
    client
        .request(Method::GET, "/Echo")
        .query("maxSize", 5)
        .query_opt("offset", None::<u32>)
        .query_opt("sortBy", Some("name"))
        .query_json("ids", &json!(["x", "y"]))
        .query_json("flag", &json!(true))
        .filter("where", &w)
        .header("language", "de_DE")
        .header_opt("With-Meta", None::<bool>)
        .send_empty()
        .await
        .unwrap();
    let s = &server.mock.seen_at("/Echo")[0];
    assert_eq!(
        s.query,
        "maxSize=5&sortBy=name&ids%5B0%5D=x&ids%5B1%5D=y&flag=1\
         &where%5B0%5D%5Btype%5D=or\
         &where%5B0%5D%5Bvalue%5D%5B0%5D%5Btype%5D=equals\
         &where%5B0%5D%5Bvalue%5D%5B0%5D%5Battribute%5D=name\
         &where%5B0%5D%5Bvalue%5D%5B0%5D%5Bvalue%5D=a+b\
         &where%5B0%5D%5Bvalue%5D%5B1%5D%5Btype%5D=isNull\
         &where%5B0%5D%5Bvalue%5D%5B1%5D%5Battribute%5D=name"
    );
    assert_eq!(s.header("language"), Some("de_DE"));
    assert_eq!(s.header("with-meta"), None);
    assert_eq!(s.header("accept"), Some("application/json"));
    assert!(s.header("user-agent").unwrap().starts_with("atrocore-rs/"));
    assert_eq!(
        support::php_decode(&s.pairs(), "where").unwrap(),
        json!([{"type": "or", "value": [
            {"type": "equals", "attribute": "name", "value": "a b"},
            {"type": "isNull", "attribute": "name"}
        ]}])
    );
}

#[tokio::test]
async fn list_sends_every_parameter() {
    let server = Server::start().await;
    server.mock.seed_products(3);
    let client = server.client(ApiGeneration::V2_2);
    let page = client
        .list::<Product>()
        .select([ProductField::Id, ProductField::Name])
        .filter(NAME.equals("Product 1"))
        .offset(0)
        .max_size(10)
        .sort_by(ProductField::Price)
        .asc(false)
        .with_meta(true)
        .flatten_attributes(true)
        .all_attributes(true)
        .attributes(["a1", "a2"])
        .language("de_DE")
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.list[0].name.as_deref(), Some("Product 1"));
    let s = &server.mock.seen_at("/Product")[0];
    let p = |k: &str| s.param(k);
    assert_eq!(p("select").as_deref(), Some("id,name"));
    assert_eq!(p("offset").as_deref(), Some("0"));
    assert_eq!(p("maxSize").as_deref(), Some("10"));
    assert_eq!(p("sortBy").as_deref(), Some("price"));
    assert_eq!(p("asc").as_deref(), Some("false"));
    assert_eq!(p("allAttributes").as_deref(), Some("true"));
    assert_eq!(p("attributes").as_deref(), Some("a1,a2"));
    assert_eq!(p("where[0][type]").as_deref(), Some("equals"));
    assert_eq!(s.header("with-meta"), Some("true"));
    assert_eq!(s.header("flatten-attributes"), Some("true"));
    assert_eq!(s.header("language"), Some("de_DE"));
}

#[tokio::test]
async fn list_without_options_sends_no_parameters() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    let page = client.list::<Product>().await.unwrap();
    assert_eq!(page.total, 0);
    let s = &server.mock.seen_at("/Product")[0];
    assert_eq!(s.query, "");
    assert_eq!(s.header("with-meta"), None);
}

// ---- entity operations ---------------------------------------------------------------------

#[tokio::test]
async fn read_create_update_delete() {
    let server = Server::start().await;
    server.mock.seed_products(2);
    let client = server.client(ApiGeneration::V2_3);

    let p = client
        .read::<Product>("p001")
        .with_meta(true)
        .language("fr_FR")
        .await
        .unwrap();
    assert_eq!(p.name.as_deref(), Some("Product 1"));
    let meta = p.meta.unwrap();
    assert!(meta.can_edit() && !meta.can_delete());

    let e = client.read::<Product>("nope").await.unwrap_err();
    assert!(e.is_not_found());
    assert_eq!(e.path(), Some("/Product/nope"));
    assert_eq!(
        e.to_string(),
        "GET /Product/nope: 404 Not Found: Record nope not found"
    );

    let odd = client.read::<Product>("echo me/ ok").await.unwrap();
    assert_eq!(odd.id.as_deref(), Some("echo me/ ok"));
    assert_eq!(
        server.mock.seen().last().unwrap().path,
        "/api/Product/echo%20me%2F%20ok"
    );

    let created = client
        .create::<Product, _>(&json!({"name": "New"}))
        .await
        .unwrap();
    assert_eq!(created.id.as_deref(), Some("new-id"));
    let post = server.mock.seen().last().unwrap().clone();
    assert_eq!(post.method, Method::POST);
    assert_eq!(post.header("content-type"), Some("application/json"));

    let patch = ProductPatch {
        name: "Renamed".to_owned().into(),
        code: Patch::Null,
    };
    let updated = client
        .update::<Product, _>(Method::PATCH, "p000", &patch)
        .with_meta(true)
        .flatten_attributes(true)
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Renamed"));
    let sent = server.mock.seen().last().unwrap().clone();
    assert_eq!(sent.method, Method::PATCH);
    assert_eq!(
        serde_json::from_slice::<Value>(&sent.body).unwrap(),
        json!({"name": "Renamed", "code": null})
    );
    assert_eq!(sent.header("with-meta"), Some("true"));
    assert_eq!(sent.header("flatten-attributes"), Some("true"));

    client
        .update::<Product, _>(Method::PUT, "p000", &json!({}))
        .await
        .unwrap();
    assert_eq!(server.mock.seen().last().unwrap().method, Method::PUT);

    assert!(client.delete::<Product>("p000").await.unwrap());
    assert_eq!(
        server.mock.seen().last().unwrap().header("permanently"),
        None
    );
    assert!(
        client
            .delete::<Product>("p000")
            .permanently(true)
            .await
            .unwrap()
    );
    let del = server.mock.seen().last().unwrap().clone();
    assert_eq!(del.method, Method::DELETE);
    assert_eq!(del.header("permanently"), Some("true"));
}

// ---- paging --------------------------------------------------------------------------------

#[tokio::test]
async fn offset_stream_reads_every_page() {
    let server = Server::start().await;
    server.mock.seed_products(45);
    let client = server.client(ApiGeneration::V2_2);
    let all: Vec<Product> = client
        .list::<Product>()
        .sort_by(ProductField::Id)
        .max_size(10)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 45);
    assert_eq!(all[44].id.as_deref(), Some("p044"));
    let offsets: Vec<String> = server
        .mock
        .seen_at("/Product")
        .iter()
        .map(|s| s.param("offset").unwrap())
        .collect();
    assert_eq!(offsets, ["0", "10", "20", "30", "40"]);
}

#[tokio::test]
async fn offset_stream_survives_a_server_side_page_cap() {
    let server = Server::start().await;
    server.mock.seed_products(45);
    server.mock.max_page.store(20, Ordering::SeqCst);
    let client = server.client(ApiGeneration::V2_2);
    let all: Vec<Product> = client
        .list::<Product>()
        .max_size(50)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 45);
    assert_eq!(server.mock.seen_at("/Product").len(), 3);
}

#[tokio::test]
async fn offset_stream_without_total_stops_at_a_short_page() {
    let server = Server::start().await;
    server.mock.seed_products(25);
    server.mock.hide_total.store(true, Ordering::SeqCst);
    let client = server.client(ApiGeneration::V2_2);
    let all: Vec<Product> = client
        .list::<Product>()
        .max_size(10)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 25);
    assert_eq!(server.mock.seen_at("/Product").len(), 3);
}

#[tokio::test]
async fn offset_stream_ends_after_an_error() {
    let server = Server::start().await;
    server.mock.seed_products(5);
    let client = server.client(ApiGeneration::V2_2);
    let mut stream = client
        .list::<Product>()
        .filter(Filter::raw(atrocore_runtime::Where::from(
            atrocore_runtime::Condition::new("similar")
                .attribute("x")
                .value("y"),
        )))
        .stream();
    let first = stream.try_next().await;
    assert!(first.unwrap_err().is_validation());
    assert!(futures_util::StreamExt::next(&mut stream).await.is_none());
}

#[tokio::test]
async fn streams_request_the_next_page_while_the_current_one_is_consumed() {
    let server = Server::start().await;
    server.mock.seed_products(45);
    let client = server.client(ApiGeneration::V2_2);
    for keyset in [false, true] {
        let before = server.mock.seen_at("/Product").len();
        let list = client
            .list::<Product>()
            .sort_by(ProductField::Id)
            .max_size(10);
        let mut stream = if keyset {
            list.keyset_stream()
        } else {
            list.stream()
        };
        let first = stream.try_next().await.unwrap().unwrap();
        assert_eq!(first.id.as_deref(), Some("p000"));
        // Nothing more is asked of the stream, yet the second page is on its way.
        let mut waited = 0;
        while server.mock.seen_at("/Product").len() < before + 2 && waited < 200 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 1;
        }
        assert_eq!(
            server.mock.seen_at("/Product").len(),
            before + 2,
            "keyset: {keyset}"
        );
        // Never more than one page ahead.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            server.mock.seen_at("/Product").len(),
            before + 2,
            "keyset: {keyset}"
        );
        let rest: Vec<Product> = stream.try_collect().await.unwrap();
        assert_eq!(rest.len(), 44);
        assert_eq!(server.mock.seen_at("/Product").len(), before + 5);
    }
}

#[tokio::test]
async fn a_page_that_fails_comes_after_the_records_before_it() {
    let server = Server::start().await;
    server.mock.seed_products(25);
    server.mock.products.lock().unwrap()[14]["name"] = json!(14);
    let client = server.client(ApiGeneration::V2_2);
    for keyset in [false, true] {
        let list = client
            .list::<Product>()
            .sort_by(ProductField::Id)
            .max_size(10);
        let mut stream = if keyset {
            list.keyset_stream()
        } else {
            list.stream()
        };
        let mut ids = Vec::new();
        let error = loop {
            match stream.try_next().await {
                Ok(Some(p)) => ids.push(p.id.unwrap()),
                Ok(None) => panic!("the broken page was not reported"),
                Err(e) => break e,
            }
        };
        assert_eq!(ids.len(), 10, "the first page whole, keyset: {keyset}");
        assert_eq!(error.kind(), ErrorKind::Decode);
        assert!(futures_util::StreamExt::next(&mut stream).await.is_none());
    }
}

#[tokio::test]
async fn a_stream_dropped_early_sends_nothing_more() {
    let server = Server::start().await;
    server.mock.seed_products(45);
    let client = server.client(ApiGeneration::V2_2);
    let mut stream = client.list::<Product>().max_size(10).stream();
    stream.try_next().await.unwrap();
    drop(stream);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(server.mock.seen_at("/Product").len() <= 2);
}

#[tokio::test]
async fn keyset_stream_pages_by_id() {
    let server = Server::start().await;
    server.mock.seed_products(45);
    let client = server.client(ApiGeneration::V2_2);
    // A sort keyset paging cannot keep is refused (nothing is sent), not silently dropped.
    let refused: Result<Vec<Product>, _> = client
        .list::<Product>()
        .sort_by(ProductField::Price)
        .keyset_stream()
        .try_collect()
        .await;
    assert!(refused.unwrap_err().is_builder());
    assert!(server.mock.seen_at("/Product").is_empty());
    let all: Vec<Product> = client
        .list::<Product>()
        .select([ProductField::Name])
        .offset(7)
        .max_size(10)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = all.iter().map(|p| p.id.clone().unwrap()).collect();
    let expected: Vec<String> = (0..45).map(|i| format!("p{i:03}")).collect();
    assert_eq!(ids, expected);
    let pages = server.mock.seen_at("/Product");
    assert_eq!(pages.len(), 5);
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(page.param("sortBy").as_deref(), Some("id"));
        assert_eq!(page.param("asc").as_deref(), Some("true"));
        assert_eq!(page.param("offset"), None);
        assert_eq!(page.param("select").as_deref(), Some("id,name"));
        if i == 0 {
            assert_eq!(page.param("where[0][type]"), None);
        } else {
            assert_eq!(page.param("where[0][type]").as_deref(), Some("greaterThan"));
            assert_eq!(page.param("where[0][attribute]").as_deref(), Some("id"));
            assert_eq!(
                page.param("where[0][value]"),
                Some(format!("p{:03}", i * 10 - 1))
            );
        }
    }
}

#[tokio::test]
async fn keyset_stream_keeps_the_user_filter() {
    let server = Server::start().await;
    server.mock.seed_products(30);
    let client = server.client(ApiGeneration::V2_2);
    let all: Vec<Product> = client
        .list::<Product>()
        .filter(NAME.equals("Product 17"))
        .max_size(10)
        .keyset_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id.as_deref(), Some("p017"));
}

/// Waiting for a mass action's job polls its status until done, and gives up at the timeout.
#[tokio::test]
async fn waiting_for_a_mass_action_polls_until_done_or_timeout() {
    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_3);
    let status = client
        .wait_for_mass_action("soon")
        .poll_every(Duration::from_millis(10))
        .await
        .unwrap();
    assert!(status.done);
    assert_eq!(status.errors, ["Error for 'A': locked"]);
    assert_eq!(server.mock.seen_at("/Job/soon/massActionStatus").len(), 3);

    let e = client
        .wait_for_mass_action("never")
        .poll_every(Duration::from_millis(10))
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let polls = server.mock.seen_at("/Job/never/massActionStatus").len();
    assert!((3..=15).contains(&polls), "{polls} polls");
}
