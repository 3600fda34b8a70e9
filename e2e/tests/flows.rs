//! Bulk upsert, files, sharing and attribute values end to end, on the default 2.2 spec (with
//! the generated client's types) and on the 2.3 spec (runtime only): runtime → HTTP → simulator.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use atrocore_client::brand::{Brand, BrandPost};
use atrocore_client::product::Product;
use atrocore_runtime::{
    ApiGeneration, AttrValue, AttributeValue, ChunkSession, Client, DateTime, Method, NameConflict,
    RetryPolicy, UploadMethod, UploadProgress, UpsertItem, UpsertStatus, WriteOutcome,
};
use atrocore_sim::{Faults, SimConfig, Simulator};
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn load(path: &str) -> Arc<Value> {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    Arc::new(serde_json::from_slice(&text).unwrap())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gen {
    V22,
    V23,
}

const BOTH: [Gen; 2] = [Gen::V22, Gen::V23];

fn config(g: Gen) -> SimConfig {
    static DOCS: OnceLock<[Arc<Value>; 4]> = OnceLock::new();
    let [s22, m22, s23, m23] = DOCS.get_or_init(|| {
        [
            load(&format!("{ROOT}/specs/atrocore-2.2-pim-default.json")),
            load(&format!(
                "{ROOT}/specs/atrocore-2.2-pim-default.metadata.json"
            )),
            load(&format!("{ROOT}/specs/atrocore-2.3-pim-small.json")),
            load(&format!(
                "{ROOT}/specs/atrocore-2.3-pim-small.metadata.json"
            )),
        ]
    });
    match g {
        Gen::V22 => SimConfig::from_spec_value(s22.clone()).metadata_value(m22.clone()),
        Gen::V23 => SimConfig::from_spec_value(s23.clone()).metadata_value(m23.clone()),
    }
}

/// Settings for the attribute flows, which need `Attribute`, `Measure` and `Unit` routes: 2.2
/// has them in the bundled spec; 2.3 only in the full reference spec (outside this repository),
/// so without it the 2.3 half is skipped (`None`, said on stderr; a failure under `CI=true`).
fn config_with_attributes(g: Gen) -> Option<SimConfig> {
    static FULL_23: OnceLock<Option<(Arc<Value>, Arc<Value>)>> = OnceLock::new();
    match g {
        Gen::V22 => Some(config(g)),
        Gen::V23 => {
            let (spec, meta) = FULL_23
                .get_or_init(|| {
                    Some((
                        Arc::new(atrocore_testkit::reference_json(
                            "specs/atrocore-pim-multilang.json",
                        )?),
                        Arc::new(atrocore_testkit::reference_json(
                            "metadata/atrocore-pim-multilang.metadata.json",
                        )?),
                    ))
                })
                .as_ref()?;
            Some(SimConfig::from_spec_value(spec.clone()).metadata_value(meta.clone()))
        }
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 6,
        base_backoff: Duration::from_millis(2),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    }
}

fn client(sim: &Simulator, g: Gen, retry: RetryPolicy) -> Client {
    Client::builder(sim.base_url())
        .generation(match g {
            Gen::V22 => ApiGeneration::V2_2,
            Gen::V23 => ApiGeneration::V2_3,
        })
        .basic_auth("admin", "admin")
        .retry_policy(retry)
        .build()
        .unwrap()
}

async fn start(g: Gen, faults: Faults) -> (Simulator, Client) {
    let sim = Simulator::start(config(g).faults(faults)).await.unwrap();
    let c = client(&sim, g, fast_retries());
    (sim, c)
}

/// Logs in even when faults hit the login request and the client does not retry.
async fn login(c: &Client) {
    for _ in 0..50 {
        if c.login().await.is_ok() {
            return;
        }
    }
    panic!("could not log in");
}

/// Deterministic pseudo-random bytes.
fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

async fn downloaded(c: &Client, file_id: &str) -> Vec<u8> {
    c.download_file(file_id)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

// ---------------------------------------------------------------------------------------------
// Bulk upsert
// ---------------------------------------------------------------------------------------------

fn brand_items(g: Gen, n: usize, suffix: &str) -> Vec<UpsertItem> {
    (0..n)
        .map(|i| {
            let code = format!("b{i:03}");
            let name = format!("Brand {i}{suffix}");
            match g {
                // Typed: the generated create struct of the generated entity.
                Gen::V22 => UpsertItem::new::<Brand>(&BrandPost {
                    code: Some(code),
                    ..BrandPost::new(name)
                })
                .unwrap(),
                // Untyped: the unique field named by hand, so that the item can be retried.
                Gen::V23 => UpsertItem::from_value("Brand", json!({ "code": code, "name": name }))
                    .with_unique_fields(&["code"]),
            }
        })
        .collect()
}

#[tokio::test]
async fn upsert_creates_updates_and_reports_per_item() {
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let mut items = brand_items(g, 23, "");
        // Item 23: no name: rejected by the server, the others go on.
        items.push(UpsertItem::from_value(
            "Brand",
            json!({ "code": "nameless" }),
        ));
        let report = c.upsert(items).batch_size(10).await.unwrap();
        assert!(
            report.failed_batches.is_empty(),
            "{g:?}: {:?}",
            report.failed_batches
        );
        assert_eq!(report.results.len(), 24);
        assert!(report.results.iter().enumerate().all(|(i, r)| r.index == i));
        assert_eq!(report.count(UpsertStatus::Created), 23, "{g:?}");
        let failed: Vec<_> = report.failed_items().collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].index, 23);
        assert_eq!(failed[0].status, UpsertStatus::Failed);
        assert!(!failed[0].stored);
        assert_eq!(failed[0].code, Some(400), "{g:?}: {:?}", failed[0]);
        assert!(
            failed[0].message.as_deref().unwrap_or("").contains("Name"),
            "{g:?}: {:?}",
            failed[0].message
        );
        let first = report.result(0).unwrap();
        assert!(first.id.is_some(), "{g:?}: {first:?}");
        assert_eq!(first.entity, "Brand");
        if g == Gen::V22 {
            assert_eq!(first.record.as_ref().unwrap()["code"], "b000");
        }

        // Again, one changed: Updated once, NotModified otherwise; same ids.
        let mut again = brand_items(g, 23, "");
        again[5] = UpsertItem::from_value("Brand", json!({ "code": "b005", "name": "Renamed" }));
        let report2 = c.upsert(again).batch_size(7).concurrency(3).await.unwrap();
        assert!(report2.is_success(), "{g:?}");
        assert_eq!(report2.count(UpsertStatus::Updated), 1);
        assert_eq!(report2.count(UpsertStatus::NotModified), 22);
        assert_eq!(report2.result(5).unwrap().status, UpsertStatus::Updated);
        assert_eq!(report2.result(5).unwrap().id, report.result(5).unwrap().id);
        let total: Value = c.request(Method::GET, "/Brand").send_json().await.unwrap();
        assert_eq!(total["total"], 23);
    }
}

#[tokio::test]
async fn upsert_retries_batches_through_server_errors() {
    for g in BOTH {
        let faults = Faults {
            error_rate: 0.4,
            seed: 7,
            ..Faults::default()
        };
        let (_sim, c) = start(g, faults).await;
        let report = c
            .upsert(brand_items(g, 60, ""))
            .batch_size(6)
            .await
            .unwrap();
        assert!(report.is_success(), "{g:?}: {:?}", report.failed_batches);
        assert_eq!(report.count(UpsertStatus::Created), 60);
    }
}

#[tokio::test]
async fn failed_batch_is_reported_with_its_indices_and_other_batches_kept() {
    for g in BOTH {
        let faults = Faults {
            error_rate: 0.35,
            seed: 3,
            ..Faults::default()
        };
        let sim = Simulator::start(config(g).faults(faults)).await.unwrap();
        let c = client(&sim, g, RetryPolicy::none());
        login(&c).await;
        let report = c
            .upsert(brand_items(g, 50, ""))
            .batch_size(5)
            .await
            .unwrap();
        assert!(!report.failed_batches.is_empty(), "{g:?}: some batch fails");
        assert!(!report.results.is_empty(), "{g:?}: some batch succeeds");
        for b in &report.failed_batches {
            assert_eq!(b.indices.len(), 5);
            assert_eq!(b.indices.start % 5, 0);
            assert_eq!(b.error.status(), Some(503), "{}", b.error);
        }
        // Every index is either in a result or in a failed batch, once.
        let mut seen: Vec<usize> = report.results.iter().map(|r| r.index).collect();
        seen.extend(report.unsent_indices());
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        // Sending the failed ones again (idempotent) completes the set.
        let retry_client = client(&sim, g, fast_retries());
        let all = brand_items(g, 50, "");
        let missing: Vec<UpsertItem> = report.unsent_indices().map(|i| all[i].clone()).collect();
        let n_missing = missing.len();
        let second = retry_client.upsert(missing).await.unwrap();
        assert!(second.is_success());
        assert_eq!(second.count(UpsertStatus::Created), n_missing);
    }
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn base64_and_url_uploads_download_byte_identical() {
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let data = content(50_000, 1);
        let up = c
            .upload_bytes("small.bin", data.clone())
            .field("description", "base64")
            .await
            .unwrap();
        assert_eq!(
            up.chunks_sent, 0,
            "small content goes in one Base64 request"
        );
        assert_eq!(up.record["fileSize"], 50_000);
        assert_eq!(up.record["description"], "base64");
        assert_eq!(downloaded(&c, &up.id).await, data, "{g:?}");

        let text = c
            .upload_bytes("hello.txt", b"hello".to_vec())
            .method(UploadMethod::Base64)
            .await
            .unwrap();
        let dl = c.download_file(&text.id).await.unwrap();
        assert_eq!(dl.content_type(), Some("text/plain"));
        assert_eq!(dl.file_name(), Some("hello.txt"));
        assert_eq!(&dl.bytes().await.unwrap()[..], b"hello");

        // By URL: the server fetches the first file's public download URL.
        let url = up.download_url().unwrap().to_owned();
        let copy = c.upload_url(&url).name("copy.bin").await.unwrap();
        assert_eq!(copy.record["name"], "copy.bin");
        assert_eq!(downloaded(&c, &copy.id).await, data);
        // The name defaults to the URL's last segment.
        let unnamed = c.upload_url(&url).await.unwrap();
        assert!(unnamed.record["name"].as_str().unwrap().ends_with(".bin"));
    }
}

/// A reupload replaces the content of an existing File record, which keeps its id: Base64 (2.2
/// `PUT /File/action/reupload`, 2.3 `PATCH /File/{id}/reupload`), chunks (the chunk route
/// with `reupload`) and a URL; an unknown id is a 404 and nothing is created.
#[tokio::test]
async fn reupload_replaces_the_content_of_a_file_record() {
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let first = c
            .upload_bytes("report.txt", b"first version".to_vec())
            .field("description", "kept")
            .await
            .unwrap();
        let replaced = c
            .upload_bytes("report-v2.txt", b"second version, longer".to_vec())
            .replacing(first.id.clone())
            .await
            .unwrap();
        assert_eq!(replaced.id, first.id, "{g:?}");
        assert!(replaced.verified, "the answer's hash is the new content's");
        assert_eq!(replaced.record["name"], "report-v2.txt");
        assert_eq!(replaced.record["description"], "kept");
        assert_eq!(replaced.record["fileSize"], 22);
        assert_eq!(
            downloaded(&c, &first.id).await,
            b"second version, longer",
            "{g:?}"
        );

        // In chunks.
        let data = content(120_000, 7);
        let chunked = c
            .upload_bytes("report-v3.bin", data.clone())
            .method(UploadMethod::Chunked)
            .chunk_size(50_000)
            .replacing(first.id.clone())
            .await
            .unwrap();
        assert_eq!(chunked.id, first.id, "{g:?}");
        assert!(chunked.chunks_sent >= 3);
        assert!(chunked.verified);
        assert_eq!(downloaded(&c, &first.id).await, data, "{g:?}");

        let total = c.records("File").list().await.unwrap().total;
        assert_eq!(total, 1, "a reupload creates no record: {g:?}");

        let e = c
            .upload_bytes("x.txt", b"x".to_vec())
            .replacing("nope")
            .await
            .unwrap_err();
        assert!(e.is_not_found(), "{g:?}: {e}");
        assert_eq!(c.records("File").list().await.unwrap().total, 1);
    }
}

#[tokio::test]
async fn chunked_upload_from_path_in_parallel_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(1_000_123, 2);
    let path = dir.path().join("big.bin");
    std::fs::write(&path, &data).unwrap();
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let seen: Arc<Mutex<Vec<UploadProgress>>> = Arc::default();
        let s = seen.clone();
        let up = c
            .upload_path(&path)
            .chunk_size(64 * 1024)
            .parallel_chunks(4)
            .on_progress(move |p| s.lock().unwrap().push(*p))
            .await
            .unwrap();
        assert_eq!(up.record["name"], "big.bin");
        assert_eq!(up.chunks_sent, 16, "{g:?}");
        assert_eq!(up.chunks_skipped, 0);
        assert!(up.verified, "{g:?}");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 16);
        assert!(
            seen.iter()
                .all(|p| p.total_bytes == 1_000_123 && p.chunks_total == 16)
        );
        let last = seen.iter().max_by_key(|p| p.bytes_done).unwrap();
        assert_eq!(last.bytes_done, 1_000_123);
        assert_eq!(downloaded(&c, &up.id).await, data, "{g:?}: byte-identical");

        // Auto picks chunks above the threshold; an AsyncRead source works the same way.
        let file = tokio::fs::File::open(&path).await.unwrap();
        let up2 = c
            .upload_reader("reader.bin", file, data.len() as u64)
            .chunk_size(100_000)
            .chunk_threshold(500_000)
            .share(true)
            .await
            .unwrap();
        assert_eq!(up2.chunks_sent, 11);
        let shared = up2.shared_url.clone().expect("share: true gives a link");
        assert!(
            c.fetch_public(&shared)
                .await
                .unwrap()
                .matches(&data)
                .await
                .unwrap()
        );
        assert_eq!(downloaded(&c, &up2.id).await, data);
    }
}

#[tokio::test]
async fn interrupted_upload_resumes_and_skips_stored_chunks() {
    let data = content(800_000, 3);
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        // Stop after 5 chunks (the upload future is dropped, as on a crash or a cancel).
        let done = Arc::new(AtomicU64::new(0));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let tx = Mutex::new(Some(tx));
        let d = done.clone();
        let upload = c
            .upload_bytes("resume.bin", data.clone())
            .chunk_size(50_000)
            .parallel_chunks(1)
            .on_progress(move |p| {
                d.store(p.chunks_done, Ordering::SeqCst);
                if p.chunks_done >= 5
                    && let Some(tx) = tx.lock().unwrap().take()
                {
                    let _ = tx.send(());
                }
            });
        let session: ChunkSession = upload.chunk_session().clone();
        tokio::select! {
            r = upload => panic!("the upload should have been stopped: {r:?}"),
            _ = rx => {}
        }
        assert!(done.load(Ordering::SeqCst) >= 5);
        let missing = c
            .request(Method::GET, format!("/File/{}", session.file_id()))
            .send_json::<Value>()
            .await
            .unwrap_err();
        assert_eq!(
            missing.status(),
            Some(404),
            "no File record before the last chunk"
        );

        let resumed = c
            .upload_bytes("resume.bin", data.clone())
            .chunk_size(50_000)
            .session(session.clone())
            .await
            .unwrap();
        assert_eq!(resumed.id, session.file_id());
        assert!(resumed.chunks_skipped >= 4, "{g:?}: {resumed:?}");
        assert_eq!(resumed.chunks_sent + resumed.chunks_skipped, 16);
        // The skipped chunks were hashed locally: the whole content is verified.
        assert!(resumed.verified, "{g:?}: {resumed:?}");
        assert_eq!(downloaded(&c, &resumed.id).await, data, "{g:?}");
    }
}

#[tokio::test]
async fn upload_broken_by_dropped_connections_resumes_with_retries() {
    let dir = tempfile::tempdir().unwrap();
    let data = content(600_000, 4);
    let path = dir.path().join("flaky.bin");
    std::fs::write(&path, &data).unwrap();
    for g in BOTH {
        let faults = Faults {
            drop_rate: 0.2,
            seed: 11,
            ..Faults::default()
        };
        let sim = Simulator::start(config(g).faults(faults)).await.unwrap();
        // No retries at all: the first dropped chunk ends the upload.
        let fragile = client(&sim, g, RetryPolicy::none());
        login(&fragile).await;
        let upload = fragile
            .upload_path(&path)
            .chunk_size(30_000)
            .chunk_retries(0)
            .parallel_chunks(2);
        let session = upload.chunk_session().clone();
        let err = upload.await.unwrap_err();
        assert!(err.is_transport(), "{g:?}: {err}");

        // Request retries plus chunk retries get it through; stored chunks are skipped.
        let sturdy = client(&sim, g, fast_retries());
        let up = sturdy
            .upload_path(&path)
            .chunk_size(30_000)
            .parallel_chunks(3)
            .session(session)
            .await
            .unwrap();
        assert_eq!(up.chunks_sent + up.chunks_skipped, 20);
        assert_eq!(downloaded(&sturdy, &up.id).await, data, "{g:?}");
    }
}

/// A reader that fails after `limit` bytes.
struct Failing {
    inner: std::io::Cursor<Vec<u8>>,
    limit: u64,
}

impl tokio::io::AsyncRead for Failing {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        if self.inner.position() >= self.limit {
            return std::task::Poll::Ready(Err(std::io::Error::other("disk gone")));
        }
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[tokio::test]
async fn source_failing_midway_then_resumed() {
    let data = content(300_000, 5);
    let (_sim, c) = start(Gen::V22, Faults::default()).await;
    let upload = c
        .upload_reader(
            "part.bin",
            Failing {
                inner: std::io::Cursor::new(data.clone()),
                limit: 120_000,
            },
            data.len() as u64,
        )
        .chunk_size(40_000)
        .method(UploadMethod::Chunked);
    let session = upload.chunk_session().clone();
    assert!(upload.await.is_err());
    let up = c
        .upload_reader(
            "part.bin",
            std::io::Cursor::new(data.clone()),
            data.len() as u64,
        )
        .chunk_size(40_000)
        .method(UploadMethod::Chunked)
        .session(session)
        .await
        .unwrap();
    assert!(up.chunks_skipped >= 2, "{up:?}");
    assert_eq!(downloaded(&c, &up.id).await, data);
}

// ---------------------------------------------------------------------------------------------
// Sharing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sharing_links_serve_the_file_until_they_expire() {
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let data = content(20_000, 6);
        let file = c.upload_bytes("shared.bin", data.clone()).await.unwrap();
        let tomorrow = DateTime::from_unix_seconds(DateTime::now().unix_seconds() + 86_400);
        let link = c
            .share_file(&file.id)
            .name("Press kit")
            .valid_till(tomorrow)
            .allowed_usage(10)
            .await
            .unwrap();
        assert!(link.link.contains("/sharings/"), "{link:?}");
        assert!(link.view_link.as_deref().unwrap().contains("view=1"));
        assert_eq!(link.valid_till, Some(tomorrow));
        assert_eq!(link.record["name"], "Press kit");
        assert!(link.serves(&c, &data).await.unwrap(), "{g:?}");
        assert!(!link.serves(&c, b"other bytes").await.unwrap());

        let yesterday = DateTime::from_unix_seconds(DateTime::now().unix_seconds() - 86_400);
        let expired = c.share_file(&file.id).valid_till(yesterday).await.unwrap();
        let err = expired.serves(&c, &data).await.unwrap_err();
        assert!(err.is_not_found(), "{g:?}: {err}");

        let url = c.create_shared_url(&file.id).await.unwrap();
        assert!(
            c.fetch_public(&url)
                .await
                .unwrap()
                .matches(&data)
                .await
                .unwrap()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Attributes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn attribute_values_add_upsert_with_units_and_remove() {
    for g in BOTH {
        let Some(config) = config_with_attributes(g) else {
            continue;
        };
        let sim = Simulator::start(config).await.unwrap();
        let c = client(&sim, g, fast_retries());
        let post = |path: &'static str, body: Value| {
            let c = c.clone();
            async move {
                let v: Value = c
                    .request(Method::POST, path)
                    .json(&body)
                    .send_json()
                    .await
                    .unwrap_or_else(|e| panic!("{path}: {e}"));
                v["id"].as_str().unwrap().to_owned()
            }
        };
        let product = post(
            "/Product",
            json!({ "name": "Scale", "number": "S-1", "status": "draft" }),
        )
        .await;
        let measure = post("/Measure", json!({ "name": "Weight", "code": "weight" })).await;
        let kg = post(
            "/Unit",
            json!({ "name": "kg", "code": "kg", "measureId": measure, "multiplier": 1 }),
        )
        .await;
        let attr = |name: &str, kind: &str| {
            json!({ "name": name, "code": name, "systemName": name, "type": kind,
                    "entityId": "Product", "attributePanelId": "main" })
        };
        let weight = post("/Attribute", attr("weight", "float")).await;
        let colour = post("/Attribute", attr("colour", "varchar")).await;

        let attrs = match g {
            Gen::V22 => c.attributes::<Product>(&product),
            Gen::V23 => c.attributes_of("Product", &product),
        };
        assert!(attrs.list().await.unwrap().is_empty());
        assert!(attrs.add([weight.clone(), colour.clone()]).await.unwrap());
        let values = attrs.list().await.unwrap();
        assert_eq!(values.len(), 2);
        assert!(values.iter().all(|v| v.value.is_none()));

        let ok = attrs
            .upsert(&[
                AttributeValue::new(weight.clone(), 12.5).unit(kg.clone()),
                AttributeValue::new(colour.clone(), "red").localized("valueDeDe", "rot"),
            ])
            .await
            .unwrap_or_else(|e| panic!("{g:?}: {e}"));
        assert_eq!(ok, WriteOutcome::Changed, "{g:?}");
        // The same value again: AtroCore answers 304, reported as "not modified", not an error.
        let again = attrs
            .upsert(&[AttributeValue::new(weight.clone(), 12.5).unit(kg.clone())])
            .await
            .unwrap_or_else(|e| panic!("{g:?}: a no-op upsert is not an error: {e}"));
        assert_eq!(again, WriteOutcome::NotModified, "{g:?}");
        // Adding an attribute already present is a plain `true` in both generations.
        assert!(attrs.add([weight.clone()]).await.unwrap(), "{g:?}");
        let values = attrs.list().await.unwrap();
        let w = values.iter().find(|v| v.attribute_id == weight).unwrap();
        assert_eq!(w.value.as_ref().and_then(AttrValue::as_f64), Some(12.5));
        assert_eq!(w.value_unit_id.as_deref(), Some(kg.as_str()));
        assert_eq!(w.value_unit_name.as_deref(), Some("kg"));
        assert_eq!(w.kind.as_deref(), Some("float"));
        let col = values.iter().find(|v| v.attribute_id == colour).unwrap();
        assert_eq!(col.value, Some(AttrValue::from("red")));
        assert_eq!(col.extra["valueDeDe"], "rot");

        let removed = attrs.remove([colour.clone()]).await.unwrap();
        // 2.2 answers {count, errors}; 2.3's spec says a bare boolean.
        if g == Gen::V22 {
            assert_eq!(removed.count, Some(1), "{g:?}");
        }
        assert_eq!(removed.outcome, WriteOutcome::Changed, "{g:?}");
        // Removing it again changes nothing: 2.3 answers 304, 2.2 `{count: 0}`.
        let again = attrs
            .remove([colour.clone()])
            .await
            .unwrap_or_else(|e| panic!("{g:?}: a no-op removal is not an error: {e}"));
        assert_eq!(again.outcome, WriteOutcome::NotModified, "{g:?}");
        let values = attrs.list().await.unwrap();
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].attribute_id, weight);
    }
}

// ---------------------------------------------------------------------------------------------
// Faults after the server acted: the write is stored, its answer is lost
// ---------------------------------------------------------------------------------------------

/// Answers lost after one write in three was stored.
fn lost_answers(seed: u64) -> Faults {
    Faults {
        after_write_drop_rate: 0.2,
        after_write_error_rate: 0.15,
        seed,
        ..Faults::default()
    }
}

async fn all_brands(c: &Client) -> Vec<Value> {
    let page: Value = c
        .request(Method::GET, "/Brand")
        .query("maxSize", 1000)
        .send_json()
        .await
        .unwrap();
    page["list"].as_array().unwrap().clone()
}

#[tokio::test]
async fn upserts_whose_answers_are_lost_create_nothing_twice() {
    for g in BOTH {
        let (_sim, c) = start(g, lost_answers(11)).await;
        login(&c).await;
        // Keyed brands (by `code`) mixed with unkeyed ones (no id, no code): batches of both.
        let keyed = brand_items(g, 30, "");
        let mut items = Vec::new();
        for (i, k) in keyed.into_iter().enumerate() {
            items.push(k);
            if i % 2 == 0 {
                items.push(UpsertItem::from_value(
                    "Brand",
                    json!({ "name": format!("Loose {i}") }),
                ));
            }
        }
        let n = items.len();
        let report = c.upsert(items.clone()).batch_size(4).await.unwrap();
        let unknown: Vec<usize> = report.unknown_items().map(|r| r.index).collect();
        assert!(
            !unknown.is_empty(),
            "{g:?}: the seed loses some answers of mixed batches"
        );
        for r in report.unknown_items() {
            assert!(!items[r.index].is_keyed(), "{g:?}: keyed items are re-sent");
        }
        let stored = all_brands(&c).await;
        let named = |name: &str| stored.iter().filter(|b| b["name"] == name).count();
        for (i, item) in items.iter().enumerate() {
            let name = item.payload()["name"].as_str().unwrap();
            let copies = named(name);
            assert!(
                copies <= 1,
                "{g:?}: item {i} ({name}) stored {copies} times"
            );
            match report.result(i).map(|r| r.status) {
                Some(UpsertStatus::Created | UpsertStatus::Updated | UpsertStatus::NotModified) => {
                    assert_eq!(copies, 1, "{g:?}: item {i} reported stored")
                }
                Some(UpsertStatus::OutcomeUnknown) | None => {}
                Some(other) => panic!("{g:?}: item {i}: {other}"),
            }
        }
        // Every index is accounted for once: a result or a failed batch.
        let mut seen: Vec<usize> = report.results.iter().map(|r| r.index).collect();
        seen.extend(report.unsent_indices());
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>(), "{g:?}");
        // The keyed items can simply be sent again: still no duplicates, all present.
        let again: Vec<UpsertItem> = items.iter().filter(|i| i.is_keyed()).cloned().collect();
        let fixed = client(&_sim, g, fast_retries());
        let mut second = fixed.upsert(again.clone()).batch_size(4).await.unwrap();
        for _ in 0..5 {
            if second.failed_batches.is_empty() {
                break;
            }
            let rest: Vec<UpsertItem> = second.unsent_indices().map(|i| again[i].clone()).collect();
            second = fixed.upsert(rest).batch_size(4).await.unwrap();
        }
        let stored = all_brands(&c).await;
        for k in &again {
            let code = k.payload()["code"].as_str().unwrap();
            let copies = stored.iter().filter(|b| b["code"] == code).count();
            assert_eq!(copies, 1, "{g:?}: brand {code}");
        }
    }
}

#[tokio::test]
async fn chunked_uploads_whose_answers_are_lost_are_byte_exact_and_single() {
    let data = content(420_000, 9);
    for g in BOTH {
        // On a storage with unique names a completing chunk sent again is a 400; on the default
        // storage a single chunk sent again re-creates the record (a 500): both must be avoided.
        for (unique, chunk_size) in [(true, 50_000), (false, 500_000), (true, 500_000)] {
            for seed in [1, 2, 3, 4, 5, 6] {
                let faults = lost_answers(seed);
                let sim = Simulator::start(config(g).faults(faults).unique_file_names(unique))
                    .await
                    .unwrap();
                let c = client(&sim, g, fast_retries());
                login(&c).await;
                let name = format!("lost-{seed}.bin");
                let up = c
                    .upload_bytes(name.clone(), data.clone())
                    .method(UploadMethod::Chunked)
                    .chunk_size(chunk_size)
                    .parallel_chunks(3)
                    .chunk_retries(10)
                    .await
                    .unwrap_or_else(|e| panic!("{g:?} {unique} {chunk_size} seed {seed}: {e}"));
                assert_eq!(downloaded(&c, &up.id).await, data, "{g:?} seed {seed}");
                let files: Value = c
                    .request(Method::GET, "/File")
                    .query("maxSize", 100)
                    .send_json()
                    .await
                    .unwrap();
                let copies = files["list"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["name"] == name.as_str())
                    .count();
                assert_eq!(copies, 1, "{g:?} seed {seed}");
            }
        }
    }
}

#[tokio::test]
async fn a_second_upload_of_a_name_follows_the_conflict_policy() {
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let first = c.upload_bytes("same.txt", b"one".to_vec()).await.unwrap();
        let e = c
            .upload_bytes("same.txt", b"two".to_vec())
            .await
            .unwrap_err();
        assert!(e.is_conflict(), "{g:?}: {e}");
        assert!(
            e.to_string().contains("same.txt") && e.to_string().contains("root folder"),
            "{g:?}: {e}"
        );
        let reused = c
            .upload_bytes("same.txt", b"two".to_vec())
            .on_name_conflict(NameConflict::Reuse)
            .await
            .unwrap();
        assert_eq!(reused.id, first.id, "{g:?}");
        let renamed = c
            .upload_bytes("same.txt", b"two".to_vec())
            .on_name_conflict(NameConflict::Rename)
            .await
            .unwrap();
        assert_ne!(renamed.id, first.id);
        assert_eq!(renamed.record["name"], "same (1).txt", "{g:?}");
        assert_eq!(downloaded(&c, &renamed.id).await, b"two");
        // A server that enforces unique names itself gives the same answer.
        let sim = Simulator::start(config(g).unique_file_names(true))
            .await
            .unwrap();
        let c = client(&sim, g, fast_retries());
        c.upload_bytes("x.txt", b"1".to_vec()).await.unwrap();
        let e = c.upload_bytes("x.txt", b"2".to_vec()).await.unwrap_err();
        assert!(e.is_conflict(), "{g:?}: {e}");
    }
}

/// Creates a record through lost answers: sent once per attempt (never retried by the
/// client), then looked up by `field`, until it is there.
async fn create_until_found(c: &Client, entity: &str, body: Value, field: &str) -> String {
    for _ in 0..30 {
        let _ = c
            .request(Method::POST, format!("/{entity}"))
            .json(&body)
            .send_json::<Value>()
            .await;
        let list: Value = c
            .request(Method::GET, format!("/{entity}"))
            .query("maxSize", 1000)
            .send_json()
            .await
            .unwrap();
        if let Some(r) = list["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[field] == body[field])
        {
            return r["id"].as_str().unwrap().to_owned();
        }
    }
    panic!("{entity} {body} never stored");
}

#[tokio::test]
async fn creates_and_attribute_writes_whose_answers_are_lost() {
    for g in BOTH {
        let Some(config) = config_with_attributes(g) else {
            continue;
        };
        let sim = Simulator::start(config.faults(lost_answers(21)))
            .await
            .unwrap();
        let c = client(&sim, g, fast_retries());
        login(&c).await;
        // Creates are never sent twice: an error may hide a stored record, never a second one.
        for i in 0..25 {
            let name = format!("Created {i}");
            let sent = c
                .request(Method::POST, "/Brand")
                .json(&json!({ "name": name }))
                .send_json::<Value>()
                .await;
            let copies = all_brands(&c)
                .await
                .iter()
                .filter(|b| b["name"] == name.as_str())
                .count();
            match sent {
                Ok(_) => assert_eq!(copies, 1, "{g:?} {name}"),
                Err(e) => assert!(copies <= 1, "{g:?} {name}: {e}"),
            }
        }
        // Attribute writes are idempotent: retried through lost answers, and a repeat that
        // finds the value stored is "not modified", never an error.
        let product = create_until_found(
            &c,
            "Product",
            json!({ "name": "Scale", "number": "S-1", "status": "draft" }),
            "number",
        )
        .await;
        let attr = create_until_found(
            &c,
            "Attribute",
            json!({ "name": "note", "code": "note", "systemName": "note", "type": "varchar",
                    "entityId": "Product", "attributePanelId": "main" }),
            "name",
        )
        .await;
        let attrs = c.attributes_of("Product", &product);
        for round in 0..6 {
            let value = format!("v{}", round / 2);
            let outcome = attrs
                .upsert(&[AttributeValue::new(&attr, value.as_str())])
                .await
                .unwrap_or_else(|e| panic!("{g:?} round {round}: {e}"));
            if round % 2 == 1 {
                assert_eq!(outcome, WriteOutcome::NotModified, "{g:?} round {round}");
            }
            let values = attrs.list().await.unwrap();
            let mine: Vec<_> = values.iter().filter(|v| v.attribute_id == attr).collect();
            assert_eq!(mine.len(), 1, "{g:?}");
            let stored = mine[0].value.as_ref().and_then(|v| v.as_str());
            assert_eq!(stored, Some(value.as_str()), "{g:?}");
        }
    }
}

#[tokio::test]
async fn a_resume_with_another_chunk_size_or_content_starts_over() {
    let data = content(300_000, 12);
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let session = ChunkSession::new();
        // Interrupt after the first chunks with 50 kB chunks.
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let tx = Mutex::new(Some(tx));
        let upload = c
            .upload_bytes("mixed.bin", data.clone())
            .chunk_size(50_000)
            .parallel_chunks(1)
            .session(session.clone())
            .on_progress(move |p| {
                if p.chunks_done >= 2
                    && let Some(tx) = tx.lock().unwrap().take()
                {
                    let _ = tx.send(());
                }
            });
        tokio::select! {
            r = upload => panic!("stopped early expected: {r:?}"),
            _ = rx => {}
        }
        // Resumed with another chunk size: nothing is reused, the file is whole.
        let other = c
            .upload_bytes("mixed.bin", data.clone())
            .chunk_size(40_000)
            .session(session.clone())
            .await
            .unwrap();
        assert_eq!(other.chunks_skipped, 0, "{g:?}");
        assert_eq!(downloaded(&c, &other.id).await, data, "{g:?}");
    }
}

#[tokio::test]
async fn a_reader_longer_than_declared_is_refused() {
    for g in BOTH {
        let (_sim, c) = start(g, Faults::default()).await;
        let data = content(120_000, 13);
        for chunk in [200_000usize, 50_000] {
            let reader = std::io::Cursor::new(data.clone());
            let e = c
                .upload_reader(format!("long-{chunk}.bin"), reader, 100_000)
                .chunk_size(chunk)
                .method(UploadMethod::Chunked)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("100000"), "{g:?} {chunk}: {e}");
        }
        let files: Value = c.request(Method::GET, "/File").send_json().await.unwrap();
        assert_eq!(files["total"], 0, "{g:?}: no truncated file was created");
    }
}
