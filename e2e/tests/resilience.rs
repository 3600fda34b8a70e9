//! Authentication, retries and timeouts end to end: the generated client → runtime → HTTP →
//! simulator with injected faults (`atrocore_sim::Faults`).
//!
//! Logins are counted exactly by a forward proxy the client is configured to use (which also
//! checks the `proxy` and `user_agent` settings); other request counts come from the simulator.

mod support;

use std::time::{Duration, Instant};

use atrocore_client::Client;
use atrocore_client::brand::{BrandPatch, BrandPost};
use atrocore_runtime::{ErrorKind, RetryPolicy};
use atrocore_sim::{Faults, Simulator};
use support::{CountingProxy, client, fast_retries, start_with};

/// A client that talks to `sim` through `proxy`, with a custom user agent.
fn proxied(sim: &Simulator, proxy: &CountingProxy, retry: RetryPolicy) -> Client {
    Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .proxy(atrocore_runtime::Proxy::http(&proxy.url).unwrap())
        .user_agent("atrocore-e2e/1.0")
        .retry_policy(retry)
        // The simulator expires these tokens within milliseconds, which AtroCore cannot.
        .revoked_within(Duration::ZERO)
        .build()
        .unwrap()
}

#[tokio::test]
async fn token_expiry_by_use_count_logs_in_again_once_and_replays() {
    let sim = start_with(Faults {
        token_max_requests: Some(3),
        ..Faults::default()
    })
    .await;
    let proxy = CountingProxy::start().await;
    let c = proxied(&sim, &proxy, RetryPolicy::none());
    for _ in 0..10 {
        c.brand().list().await.expect("every read succeeds");
    }
    // Each token serves 3 requests; the 4th gets 401, the client logs in and replays it.
    assert_eq!(proxy.logins(), 4, "{:#?}", proxy.seen());
    assert_eq!(proxy.with_status(401), 3);
    assert_eq!(sim.request_count(), 10 + 4 + 3);
    // The proxy and user agent settings are honoured.
    assert!(
        proxy
            .seen()
            .iter()
            .all(|s| s.user_agent.as_deref() == Some("atrocore-e2e/1.0"))
    );
}

#[tokio::test]
async fn token_expiry_by_time_logs_in_again() {
    let sim = start_with(Faults {
        token_ttl: Some(Duration::from_millis(300)),
        ..Faults::default()
    })
    .await;
    let proxy = CountingProxy::start().await;
    let c = proxied(&sim, &proxy, RetryPolicy::none());
    c.brand().list().await.unwrap();
    c.brand().list().await.unwrap();
    assert_eq!(proxy.logins(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.brand().list().await.unwrap();
    assert_eq!(proxy.logins(), 2);
    assert_eq!(proxy.with_status(401), 1);
}

#[tokio::test]
async fn concurrent_tasks_share_one_login() {
    let sim = start_with(Faults::default()).await;
    let proxy = CountingProxy::start().await;
    let c = proxied(&sim, &proxy, RetryPolicy::none());
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.brand().list().await.map(|p| p.total) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 0);
    }
    assert_eq!(
        proxy.logins(),
        1,
        "one login for 32 concurrent first requests"
    );
    assert_eq!(sim.request_count(), 33);
}

#[tokio::test]
async fn concurrent_tasks_share_one_login_after_expiry() {
    let sim = start_with(Faults {
        token_max_requests: Some(40),
        ..Faults::default()
    })
    .await;
    let proxy = CountingProxy::start().await;
    let c = proxied(&sim, &proxy, RetryPolicy::none());
    c.runtime().login().await.unwrap();
    let tasks: Vec<_> = (0..60)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.brand().list().await.map(|p| p.total) })
        })
        .collect();
    for t in tasks {
        t.await
            .unwrap()
            .expect("replayed after the shared re-login");
    }
    // 40 requests used the first token; the others got 401 (or already had the new token), and
    // all of them waited for the same single re-login.
    assert_eq!(proxy.logins(), 2, "{:#?}", proxy.with_status(401));
    assert!(proxy.with_status(401) <= 20);
    assert_eq!(
        sim.request_count() as usize,
        2 + 60 + proxy.with_status(401)
    );
}

#[tokio::test]
async fn reads_and_idempotent_writes_are_retried_through_injected_503s() {
    let sim = start_with(Faults {
        error_rate: 0.3,
        seed: 7,
        ..Faults::default()
    })
    .await;
    let c = client(&sim, 10);
    let ids = {
        // Creates are not retried: make them on a fault-free path by retrying by hand.
        let mut ids = Vec::new();
        while ids.len() < 3 {
            if let Ok(b) = c
                .brand()
                .create(&BrandPost::new(format!("B{}", ids.len())))
                .await
            {
                ids.push(b.id.unwrap());
            }
        }
        ids
    };
    let before = sim.request_count();
    for id in &ids {
        for _ in 0..5 {
            let b = c.brand().read(id).await.expect("reads are retried");
            assert_eq!(b.id.as_deref(), Some(id.as_str()));
        }
    }
    let reads = sim.request_count() - before;
    assert!(reads > 15, "some reads needed retries: {reads} requests");

    // An update marked idempotent (a PUT of the same fields is safe to repeat) is retried too.
    let before = sim.request_count();
    for (i, id) in ids.iter().enumerate() {
        for round in 0..4 {
            let patch = BrandPatch {
                name: Some(format!("B{i} v{round}")),
                ..Default::default()
            };
            let b: serde_json::Value = c
                .brand()
                .update(id, &patch)
                .into_request()
                .idempotent(true)
                .send_json()
                .await
                .expect("idempotent writes are retried");
            assert_eq!(b["name"], format!("B{i} v{round}"));
        }
    }
    assert!(
        sim.request_count() - before > 12,
        "some writes were retried"
    );
}

#[tokio::test]
async fn throttled_reads_wait_for_retry_after() {
    let sim = start_with(Faults {
        throttle_rate: 0.25,
        seed: 1,
        ..Faults::default()
    })
    .await;
    let c = client(&sim, 10);
    c.runtime().login().await.unwrap();
    let mut waited = false;
    for _ in 0..30 {
        let before = sim.request_count();
        let started = Instant::now();
        c.brand().list().await.expect("429s are retried");
        let throttled = sim.request_count() - before - 1;
        if throttled > 0 {
            // `Retry-After: 1` per 429, not the millisecond backoff of the policy.
            assert!(
                started.elapsed() >= Duration::from_secs(throttled),
                "{throttled} 429s in {:?}",
                started.elapsed()
            );
            waited = true;
            break;
        }
    }
    assert!(waited, "the seed gives at least one 429");

    // A Retry-After longer than the policy accepts is returned at once as RateLimited.
    let impatient = Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .retry_policy(RetryPolicy {
            max_retry_after: Duration::from_millis(500),
            ..fast_retries(10)
        })
        .build()
        .unwrap();
    let mut saw = false;
    for _ in 0..20 {
        let before = sim.request_count();
        match impatient.brand().list().await {
            Ok(_) => continue,
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
                assert_eq!(e.status(), Some(429));
                // Given up at once: one request, not a wait of Retry-After and a retry.
                assert_eq!(sim.request_count() - before, 1);
                saw = true;
                break;
            }
        }
    }
    assert!(saw, "a 429 came back as an error");
}

#[tokio::test]
async fn a_create_is_never_retried() {
    let sim = start_with(Faults {
        error_rate: 0.3,
        seed: 11,
        ..Faults::default()
    })
    .await;
    let c = client(&sim, 10);
    c.runtime().login().await.unwrap();
    let (mut created, mut failed) = (0, 0);
    for i in 0..20 {
        let before = sim.request_count();
        let result = c.brand().create(&BrandPost::new(format!("Once {i}"))).await;
        assert_eq!(
            sim.request_count() - before,
            1,
            "the server saw exactly one create request"
        );
        match result {
            Ok(_) => created += 1,
            Err(e) => {
                assert_eq!(e.status(), Some(503), "{e}");
                assert!(e.is_server());
                failed += 1;
            }
        }
    }
    assert!(
        failed > 0,
        "the seed injects at least one 503 into a create"
    );
    let stored = c.brand().list().await.unwrap().total;
    assert_eq!(stored, created, "no create happened twice");
}

#[tokio::test]
async fn dropped_connections_are_retried_for_reads_but_not_for_creates() {
    let sim = start_with(Faults {
        drop_rate: 0.25,
        seed: 5,
        ..Faults::default()
    })
    .await;
    let c = client(&sim, 10);
    c.runtime().login().await.unwrap();
    let mut drops_seen = 0;
    let mut created = 0;
    for i in 0..20 {
        let before = sim.request_count();
        match c.brand().create(&BrandPost::new(format!("D{i}"))).await {
            Ok(_) => created += 1,
            Err(e) => {
                assert!(e.is_transport(), "{e}");
                drops_seen += 1;
            }
        }
        assert_eq!(sim.request_count() - before, 1, "creates are sent once");
    }
    assert!(drops_seen > 0, "the seed drops at least one create");
    let before = sim.request_count();
    for _ in 0..10 {
        let page = c
            .brand()
            .list()
            .await
            .expect("reads survive dropped connections");
        assert_eq!(page.total, created);
    }
    assert!(sim.request_count() - before > 10, "some reads were retried");
}

#[tokio::test]
async fn slow_answers_time_out_with_is_timeout() {
    // Answers take 2 s; the timeouts are 100 ms: bounds far apart, so load cannot flake them.
    let sim = start_with(Faults {
        latency: Duration::from_secs(2),
        ..Faults::default()
    })
    .await;
    // The client's timeout: the login itself times out.
    let hasty = Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    // A timeout error is the proof that the client's 100 ms applied: under any longer timeout
    // the 2 s answer would have come (no wall-clock bound, which a loaded machine can break).
    let err = hasty.brand().list().await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Timeout);

    // A per-request timeout below the latency; a timed-out read is retried, then reported.
    let c = Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .timeout(Duration::from_secs(20))
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    c.runtime().login().await.unwrap();
    let before = sim.request_count();
    let err = c
        .brand()
        .list()
        .into_request()
        .timeout(Duration::from_millis(100))
        .send_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(
        sim.request_count() - before,
        3,
        "first attempt and 2 retries"
    );
    // Within the client's timeout the same request succeeds.
    assert_eq!(c.brand().list().await.unwrap().total, 0);
}
