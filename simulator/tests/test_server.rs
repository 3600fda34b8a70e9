//! The simulator as a test server: seeding (and its errors), faults changed while serving, and
//! the request log (bounded, secrets redacted, dropped connections and large bodies).

use atrocore_sim::{Faults, LoggedBody, SeedError, SimConfig, Simulator};
use serde_json::{Value, json};

const SPECS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../specs");

fn config_22() -> SimConfig {
    SimConfig::from_spec_path(format!("{SPECS}/atrocore-2.2-pim-default.json"))
        .metadata_path(format!("{SPECS}/atrocore-2.2-pim-default.metadata.json"))
}

fn config_23() -> SimConfig {
    SimConfig::from_spec_path(format!("{SPECS}/atrocore-2.3-pim-small.json"))
        .metadata_path(format!("{SPECS}/atrocore-2.3-pim-small.metadata.json"))
}

#[tokio::test]
async fn seeding_checks_records_like_the_api() {
    let sim = Simulator::start(config_22()).await.unwrap();
    let brands = sim
        .seed(
            "Brand",
            [
                json!({"id": "b-acme", "name": "Acme", "code": "acme"}),
                json!({"name": "Globex"}),
            ],
        )
        .unwrap();
    assert_eq!(brands[0]["id"], "b-acme");
    assert_eq!(brands[0]["name"], "Acme");
    assert!(brands[1]["id"].as_str().is_some_and(|id| !id.is_empty()));

    let err = sim.seed("Nope", [json!({})]).unwrap_err();
    assert!(
        matches!(err, SeedError::UnknownEntity(ref e) if e == "Nope"),
        "{err}"
    );
    let err = sim
        .seed("Brand", [json!({"name": "Ok"}), json!([1])])
        .unwrap_err();
    assert!(
        matches!(err, SeedError::NotAnObject { index: 1, .. }),
        "{err}"
    );
    // A required field missing, a unique code taken, a link to no record: the API's 400s.
    let err = sim.seed("Brand", [json!({"code": "x"})]).unwrap_err();
    assert!(
        matches!(err, SeedError::Refused { index: 0, status: 400, ref message, .. } if message.contains("Name")),
        "{err}"
    );
    let err = sim
        .seed(
            "Brand",
            [
                json!({"name": "New"}),
                json!({"name": "Acme 2", "code": "acme"}),
            ],
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            SeedError::Refused {
                index: 1,
                status: 400,
                ..
            }
        ),
        "{err}"
    );
    let err = sim
        .seed(
            "Product",
            [json!({"name": "Chair", "number": "C-1", "status": "draft", "brandId": "missing"})],
        )
        .unwrap_err();
    assert!(
        matches!(err, SeedError::Refused { status: 400, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("seeding Product, record 0"),
        "{err}"
    );

    // Seeding goes around HTTP: nothing logged, nothing counted.
    assert!(sim.requests().is_empty());
    assert_eq!(sim.request_count(), 0);
    // The seeded records are what the API serves.
    let page: Value = reqwest::Client::new()
        .get(format!("{}/Brand", sim.api_url()))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Acme, Globex, Ok (before the non-object) and New (before the taken code).
    assert_eq!(page["total"], 4, "{page}");
}

#[tokio::test]
async fn the_log_redacts_tokens_and_passwords() {
    let sim = Simulator::start(config_23()).await.unwrap();
    let http = reqwest::Client::new();
    let session: Value = http
        .get(format!("{}/userSession", sim.api_url()))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["authorizationToken"]
        .as_str()
        .or_else(|| session["token"].as_str())
        .unwrap_or_else(|| panic!("no token in {session}"))
        .to_owned();
    let created = http
        .post(format!("{}/Brand?password=hunter2", sim.api_url()))
        .header("Authorization-Token", &token)
        .json(&json!({"name": "Acme", "password": "hunter2", "nested": {"apiToken": "t0k"}}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());

    let log = sim.take_requests();
    assert_eq!(
        log.iter().map(|r| r.line()).collect::<Vec<_>>(),
        ["GET /api/userSession", "POST /api/Brand"]
    );
    assert_eq!(log[0].header("authorization"), Some("Basic [redacted]"));
    assert_eq!(log[1].header("authorization-token"), Some("[redacted]"));
    assert_eq!(log[1].query_value("password"), Some("[redacted]"));
    assert_eq!(
        log[1].json(),
        Some(
            &json!({"name": "Acme", "password": "[redacted]", "nested": {"apiToken": "[redacted]"}})
        )
    );
    assert_eq!(log[1].status, Some(200));
    let everything = serde_json::to_string(&log).unwrap();
    for secret in ["hunter2", "t0k", token.as_str(), "YWRtaW46YWRtaW4="] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
    assert!(sim.requests().is_empty(), "take_requests empties the log");
}

#[tokio::test]
async fn faults_can_change_while_serving_and_are_logged() {
    let sim = Simulator::start(config_22().request_log(3)).await.unwrap();
    let http = reqwest::Client::new();
    let brands = format!("{}/Brand", sim.api_url());
    let get = || http.get(&brands).basic_auth("admin", Some("admin")).send();
    assert_eq!(get().await.unwrap().status(), 200);

    sim.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    assert!(get().await.is_err(), "the connection is dropped");
    sim.set_faults(Faults {
        throttle_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(get().await.unwrap().status(), 429);
    sim.set_faults(Faults::default());
    // A body past the limit is logged by its length only.
    let big = json!({"name": "x".repeat(atrocore_sim::request_log::BODY_LIMIT)});
    let answer = http
        .post(&brands)
        .basic_auth("admin", Some("admin"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    // Bounded: the first request was dropped from the log of three.
    let log = sim.requests();
    let statuses: Vec<_> = log.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [None, Some(429), Some(200)]);
    assert!(
        matches!(log[2].body, LoggedBody::TooLarge { len } if len > atrocore_sim::request_log::BODY_LIMIT)
    );
    assert_eq!(sim.request_count(), 4);

    // Turned off: nothing is kept.
    let quiet = Simulator::start(config_22().request_log(0)).await.unwrap();
    reqwest::Client::new()
        .get(format!("{}/Brand", quiet.api_url()))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert!(quiet.requests().is_empty());
}

/// A simulator on a fixed port with well-known users must not be an open door: requests
/// addressed to a name other than a loopback one (DNS rebinding from a page in a browser) are
/// refused, credentials are checked before a body is read, and bodies are capped.
#[tokio::test]
async fn only_loopback_names_authenticated_callers_and_capped_bodies() {
    use std::time::Duration;
    let sim = Simulator::start(config_22().max_body_bytes(4096))
        .await
        .unwrap();
    let c = reqwest::Client::new();
    let api = sim.api_url();
    let r = c
        .get(format!("{api}/Brand"))
        .basic_auth("admin", Some("admin"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let port = sim.addr().port();
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let r = c
            .get(format!("{api}/Brand"))
            .basic_auth("admin", Some("admin"))
            .header("host", host.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }

    // An unauthenticated upload that never ends is refused at once, unread.
    let endless = futures_util::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Some((Ok::<_, std::io::Error>(vec![b'x'; 1 << 16]), ()))
    });
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        c.post(format!("{api}/Brand"))
            .body(reqwest::Body::wrap_stream(endless))
            .send(),
    )
    .await
    .expect("answered without reading the body");
    assert_eq!(r.unwrap().status(), 401);

    // An authenticated body above the cap: 413.
    let r = c
        .post(format!("{api}/Brand"))
        .basic_auth("admin", Some("admin"))
        .body(vec![b' '; 10_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}
