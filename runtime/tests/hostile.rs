//! A hostile server: redirects across origins, huge, malformed and truncated answers, throttling
//! with huge or HTTP-date `Retry-After`, failing logins. The client must not panic, must not send
//! a secret to another origin (checked on a second listener), must stay within its memory limit,
//! and must fail with the right error kinds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use atrocore_runtime::{ApiGeneration, Client, DateTime, ErrorKind, Method, RetryPolicy};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;

const TOKEN: &str = "YWRtaW46dG9rZW4tMTIz"; // what the login answers
const PASSWORD: &str = "right-password";

#[derive(Default)]
struct Seen {
    /// Every request: path and headers.
    requests: Mutex<Vec<(String, HeaderMap)>>,
    logins: AtomicUsize,
    /// Bytes of the huge answer actually written.
    huge_sent: AtomicUsize,
    attempts: AtomicUsize,
    /// Requests of the flaky downloads so far.
    downloads: AtomicUsize,
}

impl Seen {
    fn secrets_seen(&self) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, h)| {
                h.contains_key("authorization-token") || h.contains_key("authorization")
            })
            .count()
    }
    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

struct Server {
    url: String,
    seen: Arc<Seen>,
}

/// Starts one server; `other` is the URL of the second origin (for cross-origin redirects).
async fn serve(other: Option<String>) -> Server {
    let seen = Arc::new(Seen::default());
    let state = (seen.clone(), other);
    let app = Router::new().fallback(handle).with_state(Arc::new(state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { url, seen }
}

type St = Arc<(Arc<Seen>, Option<String>)>;

async fn handle(State(st): State<St>, req: Request) -> Response {
    let (seen, other) = (&st.0, &st.1);
    let path = req.uri().path().to_owned();
    seen.requests
        .lock()
        .unwrap()
        .push((path.clone(), req.headers().clone()));
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    match path.as_str() {
        "/api/v1/App/user" => {
            seen.logins.fetch_add(1, Ordering::SeqCst);
            // Basic admin:right-password
            if auth == "Basic YWRtaW46cmlnaHQtcGFzc3dvcmQ=" {
                axum::Json(serde_json::json!({ "authorizationToken": TOKEN })).into_response()
            } else {
                (
                    StatusCode::UNAUTHORIZED,
                    [("X-Status-Reason", "Wrong credentials")],
                )
                    .into_response()
            }
        }
        "/api/v1/Redirect/away" => (
            StatusCode::FOUND,
            [(
                "location",
                format!("{}/api/v1/Collect?t=secret", other.clone().unwrap()),
            )],
        )
            .into_response(),
        "/api/v1/Redirect/home" => {
            (StatusCode::FOUND, [("location", "/api/v1/Ok".to_owned())]).into_response()
        }
        // The first request of each is cut after 100 KiB; the next ones answer in full (no
        // ranges, as AtroCore's `/downloads/` entry point) or, for `ranged.bin`, the rest of a
        // `Range` when `If-Range` names the current version.
        "/files/flaky.bin" | "/files/ranged.bin" => {
            let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
            let first = seen.downloads.fetch_add(1, Ordering::SeqCst) % 2 == 0;
            let ranged = path.ends_with("ranged.bin");
            let from = req
                .headers()
                .get("range")
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
                .filter(|_| {
                    ranged
                        && req.headers().get("if-range").and_then(|v| v.to_str().ok())
                            == Some("\"v1\"")
                });
            let (status, body) = match from {
                Some(from) => (StatusCode::PARTIAL_CONTENT, content[from..].to_vec()),
                None => (StatusCode::OK, content.clone()),
            };
            let total = content.len();
            let length = body.len();
            let stream_body = if first {
                let head = Bytes::from(body[..100 << 10].to_vec());
                Body::from_stream(stream::unfold(0, move |step| {
                    let head = head.clone();
                    async move {
                        match step {
                            0 => Some((Ok(head), 1)),
                            1 => {
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                let cut =
                                    std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut");
                                Some((Err(cut), 2))
                            }
                            _ => None,
                        }
                    }
                }))
            } else {
                Body::from(body)
            };
            let mut r = Response::new(stream_body);
            *r.status_mut() = status;
            let h = r.headers_mut();
            h.insert("content-length", length.to_string().parse().unwrap());
            if ranged {
                h.insert("accept-ranges", "bytes".parse().unwrap());
                h.insert("etag", "\"v1\"".parse().unwrap());
            }
            if let Some(from) = from {
                h.insert(
                    "content-range",
                    format!("bytes {from}-{}/{total}", total - 1)
                        .parse()
                        .unwrap(),
                );
            }
            r
        }
        // A healthy but slow transfer: six pieces, 300 ms apart.
        "/files/slow.bin" => {
            let body = Body::from_stream(stream::unfold(0, |step| async move {
                if step == 6 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1000])),
                    step + 1,
                ))
            }));
            Response::new(body)
        }
        // A transfer that stalls after its first piece.
        "/files/stalled.bin" => {
            let body = Body::from_stream(stream::unfold(0, |step| async move {
                match step {
                    0 => Some((Ok::<_, std::io::Error>(Bytes::from_static(b"first")), 1)),
                    _ => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        None
                    }
                }
            }));
            Response::new(body)
        }
        "/files/cut.bin" => {
            // The headers and a first piece go out; then the connection breaks.
            let body = Body::from_stream(stream::unfold(0, |step| async move {
                match step {
                    0 => Some((Ok(Bytes::from(vec![b'x'; 256 << 10])), 1)),
                    1 => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut");
                        Some((Err(cut), 2))
                    }
                    _ => None,
                }
            }));
            let mut r = Response::new(body);
            r.headers_mut()
                .insert("content-length", (1u64 << 20).to_string().parse().unwrap());
            r
        }
        // A server whose stored copy differs from what was sent.
        "/api/v1/File" => axum::Json(serde_json::json!({
            "id": "f1", "name": "x.txt", "hash": "00000000000000000000000000000000"
        }))
        .into_response(),
        // Lists that never move on: the same two records whatever `offset` or `where` say,
        // under a total that never ends (9e18) or says nothing (-5).
        "/api/v1/Stuck" | "/api/v1/StuckNegative" => {
            let total: i64 = if path.ends_with("Negative") {
                -5
            } else {
                9_000_000_000_000_000_000
            };
            axum::Json(serde_json::json!({
                "total": total,
                "list": [{ "id": "a01", "name": "first" }, { "id": "a02", "name": "second" }],
            }))
            .into_response()
        }
        "/api/v1/Ok" | "/api/v1/Collect" | "/files/x.bin" => {
            axum::Json(serde_json::json!({ "ok": true })).into_response()
        }
        "/api/v1/Huge" | "/api/v1/HugeChunked" => {
            // 1.5 GiB announced (or not), produced lazily, counted as written.
            let seen = seen.clone();
            let piece = Bytes::from(vec![b' '; 1 << 16]);
            let pieces = (3usize << 29) / piece.len();
            let body = Body::from_stream(stream::iter((0..pieces).map(move |_| {
                seen.huge_sent.fetch_add(piece.len(), Ordering::SeqCst);
                Ok::<Bytes, std::io::Error>(piece.clone())
            })));
            let mut r = Response::new(body);
            r.headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            if path == "/api/v1/Huge" {
                r.headers_mut()
                    .insert("content-length", (3u64 << 29).to_string().parse().unwrap());
            }
            r
        }
        "/api/v1/Malformed" => {
            ([("content-type", "application/json")], "{\"list\": [1, 2").into_response()
        }
        "/api/v1/Truncated" => {
            // The first answer sends its head and part of the body, then breaks; the next is
            // whole.
            if seen.attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                let body = Body::from_stream(stream::unfold(0, |step| async move {
                    match step {
                        0 => Some((Ok(Bytes::from(vec![b' '; 256 << 10])), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            let cut =
                                std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut");
                            Some((Err(cut), 2))
                        }
                        _ => None,
                    }
                }));
                let mut r = Response::new(body);
                r.headers_mut().insert(
                    "content-length",
                    (512u64 << 10).to_string().parse().unwrap(),
                );
                r
            } else {
                axum::Json(serde_json::json!({ "total": 1 })).into_response()
            }
        }
        "/api/v1/ThrottleHuge" => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "86400")]).into_response()
        }
        "/api/v1/ThrottleDate" => {
            if seen.attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                let at = DateTime::from(SystemTime::now() + Duration::from_secs(1));
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", http_date(at))],
                )
                    .into_response()
            } else {
                axum::Json(serde_json::json!({ "ok": true })).into_response()
            }
        }
        "/api/v1/ErrorHuge" => {
            let mut r = (StatusCode::BAD_REQUEST, "x".repeat(5 << 20)).into_response();
            r.headers_mut().remove("x-status-reason");
            r
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `Wed, 21 Oct 2015 07:28:00 GMT` for `t` (the weekday is not checked by the parser).
fn http_date(t: DateTime) -> String {
    let (y, m, d) = (t.date().year(), t.date().month(), t.date().day());
    let (h, mi, s) = t.time();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "Mon, {d:02} {} {y} {h:02}:{mi:02}:{s:02} GMT",
        MONTHS[usize::from(m) - 1]
    )
}

fn client(url: &str, password: &str) -> Client {
    Client::builder(url)
        .generation(ApiGeneration::V2_2)
        .basic_auth("admin", password)
        .retry_policy(RetryPolicy {
            max_retries: 2,
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(5),
        })
        .max_response_bytes(1 << 20)
        .build()
        .unwrap()
}

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed_and_carry_no_secret() {
    let other = serve(None).await;
    let api = serve(Some(other.url.clone())).await;
    let c = client(&api.url, PASSWORD);
    let e = c
        .request(Method::GET, "/Redirect/away")
        .send_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(302), "{e}");
    assert!(e.to_string().contains("not followed"), "{e}");
    assert!(
        !e.to_string().contains("secret"),
        "no query in the error: {e}"
    );
    assert_eq!(
        other.seen.count(),
        0,
        "the other origin was never contacted"
    );
    // Within the origin a redirect is followed, with the token.
    let ok: serde_json::Value = c
        .request(Method::GET, "/Redirect/home")
        .send_json()
        .await
        .unwrap();
    assert_eq!(ok["ok"], true);
    // A download link on another origin gets no token either.
    c.download_url(&format!("{}/files/x.bin", other.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(other.seen.count(), 1);
    assert_eq!(
        other.seen.secrets_seen(),
        0,
        "no token or password on the other origin"
    );
    let same = c
        .download_url(&format!("{}/files/x.bin", api.url))
        .await
        .unwrap();
    drop(same);
    let with_token = api
        .seen
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, h)| p == "/files/x.bin" && h.contains_key("authorization-token"))
        .count();
    assert_eq!(with_token, 1, "the instance's own links get the token");
}

#[tokio::test]
async fn huge_answers_fail_early_within_the_limit() {
    let api = serve(None).await;
    let c = client(&api.url, PASSWORD);
    let started = Instant::now();
    let e = c
        .request(Method::GET, "/Huge")
        .send_bytes()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(e.to_string().contains("1048576"), "{e}");
    let e = c
        .request(Method::GET, "/HugeChunked")
        .send_bytes()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    // Far less than the 1.5 GiB was produced: the client stopped reading.
    assert!(api.seen.huge_sent.load(Ordering::SeqCst) < 64 << 20);
    assert!(started.elapsed() < Duration::from_secs(30));
    // Error bodies are read only in part.
    let e = c
        .request(Method::GET, "/ErrorHuge")
        .send_bytes()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.reason().unwrap_or("").len() <= 4096);
}

#[tokio::test]
async fn malformed_and_truncated_answers() {
    let api = serve(None).await;
    let c = client(&api.url, PASSWORD);
    let e = c
        .request(Method::GET, "/Malformed")
        .send_json::<serde_json::Value>()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    // A safe GET cut mid-body is sent again.
    let v: serde_json::Value = c
        .request(Method::GET, "/Truncated")
        .send_json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(api.seen.attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn retry_after_huge_fails_at_once_and_http_dates_are_honoured() {
    let api = serve(None).await;
    let c = client(&api.url, PASSWORD);
    let started = Instant::now();
    let e = c
        .request(Method::GET, "/ThrottleHuge")
        .send_bytes()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "did not wait a day"
    );
    let v: serde_json::Value = c
        .request(Method::GET, "/ThrottleDate")
        .send_json()
        .await
        .unwrap();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn fifty_tasks_with_a_wrong_password_make_one_login() {
    let api = serve(None).await;
    let c = client(&api.url, "wrong");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.request(Method::GET, "/Ok").send_bytes().await })
        })
        .collect();
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    }
    assert_eq!(api.seen.logins.load(Ordering::SeqCst), 1);
    // Within the failure time, later calls get the same answer without a login.
    assert!(c.login().await.is_err());
    assert_eq!(api.seen.logins.load(Ordering::SeqCst), 1);
    // The password never appears in an error.
    let e = c
        .request(Method::GET, "/Ok")
        .send_bytes()
        .await
        .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("wrong"), "{e:?}");
}

#[tokio::test]
async fn a_download_cut_short_leaves_no_file_behind() {
    let api = serve(None).await;
    let c = client(&api.url, PASSWORD);
    let dir = std::env::temp_dir().join(format!("atrocore-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("cut.bin");
    std::fs::write(&target, b"the previous version").unwrap();
    let download = c
        .download_url(&format!("{}/files/cut.bin", api.url))
        .await
        .unwrap();
    assert!(download.save(&target).await.is_err());
    // The old file is untouched and no temporary file is left.
    assert_eq!(std::fs::read(&target).unwrap(), b"the previous version");
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let ok = c
        .download_url(&format!("{}/files/x.bin", api.url))
        .await
        .unwrap();
    ok.save(&target).await.unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), br#"{"ok":true}"#);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A download is limited by how long the next piece takes (the client's per-attempt timeout),
/// never by how long the whole transfer takes: a 1.8 s healthy transfer under a 1 s timeout
/// completes, a stalled one fails within about the timeout.
#[tokio::test]
async fn downloads_time_out_when_idle_not_when_long() {
    let api = serve(None).await;
    let c = Client::builder(&api.url)
        .generation(ApiGeneration::V2_2)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let slow = c
        .download_url(&format!("{}/files/slow.bin", api.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(slow.len(), 6000);
    let started = std::time::Instant::now();
    let err = c
        .download_url(&format!("{}/files/stalled.bin", api.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("stalled"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// `save` asks again after a cut: from the start where the server serves whole files only
/// (AtroCore's `/downloads/`), from where it stopped where it takes ranges for this version.
#[tokio::test]
async fn a_cut_download_is_saved_whole_by_asking_again() {
    let api = serve(None).await;
    let c = client(&api.url, PASSWORD);
    let expected: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let dir = std::env::temp_dir().join(format!("atrocore-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["flaky.bin", "ranged.bin"] {
        let target = dir.join(name);
        let url = format!("{}/files/{name}", api.url);
        let n = c
            .download_url(&url)
            .await
            .unwrap()
            .save(&target)
            .await
            .unwrap();
        assert_eq!(n, expected.len() as u64, "{name}");
        assert_eq!(std::fs::read(&target).unwrap(), expected, "{name}");
    }
    // The ranged one asked for the rest only, naming the version it had.
    let ranged: Vec<HeaderMap> = api
        .seen
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p == "/files/ranged.bin")
        .map(|(_, h)| h.clone())
        .collect();
    assert_eq!(ranged.len(), 2);
    assert_eq!(ranged[1]["range"], format!("bytes={}-", 100 << 10).as_str());
    assert_eq!(ranged[1]["if-range"], "\"v1\"");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_stored_copy_that_differs_is_an_error() {
    let api = serve(None).await;
    let c = client(&api.url, PASSWORD);
    let e = c
        .upload_bytes("x.txt", b"hello".to_vec())
        .on_name_conflict(atrocore_runtime::NameConflict::Reuse)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert!(
        e.to_string().contains("5d41402abc4b2a76b9719d911017c592"),
        "{e}"
    );
}

#[tokio::test]
async fn without_checksum_the_stored_hash_is_not_compared() {
    let api = serve(None).await;
    let c = client(&api.url, PASSWORD);
    let up = c
        .upload_bytes("x.txt", b"hello".to_vec())
        .on_name_conflict(atrocore_runtime::NameConflict::Reuse)
        .checksum(false)
        .await
        .unwrap();
    assert_eq!(up.id, "f1");
}

/// A list that does not move on (a server ignoring `offset` under a huge or negative `total`, or
/// ignoring the keyset condition) ends the stream with an error naming the page, after the
/// records it did deliver once: never an endless stream (`atro export` would write forever).
#[tokio::test]
async fn pages_that_do_not_move_on_end_the_stream_with_an_error() {
    use futures_util::StreamExt;
    let server = serve(None).await;
    let c = client(&server.url, PASSWORD);
    for entity in ["Stuck", "StuckNegative"] {
        let items: Vec<_> = c
            .records(entity)
            .list()
            .max_size(2)
            .stream()
            .take(50)
            .collect()
            .await;
        assert_eq!(items.len(), 3, "{entity}: two records, then the error");
        let e = items[2].as_ref().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
        let text = e.to_string();
        assert!(
            text.contains("offset 2") && text.contains("offset 0") && text.contains(entity),
            "{text}"
        );
        let items: Vec<_> = c
            .records(entity)
            .list()
            .max_size(2)
            .keyset_stream()
            .take(50)
            .collect()
            .await;
        assert_eq!(items.len(), 3, "{entity}: two records, then the error");
        let e = items[2].as_ref().unwrap_err();
        assert!(e.to_string().contains("after id a02"), "{e}");
    }
}
