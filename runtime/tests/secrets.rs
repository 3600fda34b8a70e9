//! Passwords and tokens never show in `Debug`, `Display`, errors or tracing output.

mod support;

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use atrocore_runtime::{ApiGeneration, Client, Method};
use support::{PASSWORD, Server};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records every span and event with all its fields as text.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    next: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut text = self.text.lock().unwrap();
        let _ = write!(text, "\nspan {}:", span.metadata().name());
        span.record(&mut Fields(&mut text));
        Id::from_u64(self.next.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut text = self.text.lock().unwrap();
        text.push_str("\nrecord:");
        values.record(&mut Fields(&mut text));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = self.text.lock().unwrap();
        let _ = write!(text, "\nevent {}:", event.metadata().target());
        event.record(&mut Fields(&mut text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !text.contains(s),
            "{what} contains the secret {s:?}:\n{text}"
        );
    }
}

#[test]
fn debug_of_builder_and_client_hides_credentials() {
    let builder = Client::builder("https://pim.example.com")
        .basic_auth("api-user", PASSWORD)
        .token("tok-given-1234567");
    let text = format!("{builder:?}");
    assert!(
        text.contains("api-user"),
        "the user name is not secret: {text}"
    );
    assert!(text.contains("<redacted>"));
    assert_clean("builder Debug", &text, &[PASSWORD, "tok-given-1234567"]);

    let client = builder.build().unwrap();
    assert_clean(
        "client Debug",
        &format!("{client:?}"),
        &[PASSWORD, "tok-given-1234567"],
    );
    let request = client
        .request(Method::GET, "/Echo")
        .header("Authorization-Token", "tok-given-1234567");
    assert_clean(
        "request Debug",
        &format!("{request:?}"),
        &[PASSWORD, "tok-given-1234567"],
    );
}

#[tokio::test(flavor = "current_thread")]
async fn errors_and_tracing_hide_credentials_and_tokens() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    let server = Server::start().await;
    let client = server.client(ApiGeneration::V2_2);
    let _: serde_json::Value = client
        .request(Method::GET, "/Echo")
        .send_json()
        .await
        .unwrap();
    server.mock.expire_token();
    let _: serde_json::Value = client
        .request(Method::GET, "/Echo")
        .send_json()
        .await
        .unwrap();
    server
        .mock
        .push_faults([support::Fault::status(503), support::Fault::status(404)]);
    let e = client
        .request(Method::GET, "/Faulty")
        .send_empty()
        .await
        .unwrap_err();
    assert_clean(
        "error",
        &format!("{e} {e:?}"),
        &[PASSWORD, "tok-1-abcdef", "tok-2-abcdef"],
    );

    let wrong = Client::builder(&server.url)
        .basic_auth("admin", "Wr0ng-Secret!")
        .build()
        .unwrap();
    let e = wrong
        .request(Method::GET, "/Echo")
        .send_empty()
        .await
        .unwrap_err();
    assert!(e.is_auth());
    assert_clean("login error", &format!("{e} {e:?}"), &["Wr0ng-Secret!"]);

    let text = capture.text.lock().unwrap().clone();
    assert!(text.contains("span atrocore_request:"), "{text}");
    assert!(text.contains("method=GET"), "{text}");
    assert!(text.contains("path=/Echo"), "{text}");
    assert!(text.contains("path=/App/user"), "{text}");
    assert!(text.contains("status=200"), "{text}");
    assert!(text.contains("status=404"), "{text}");
    assert!(text.contains("attempt=2"), "{text}");
    assert!(text.contains("duration_ms="), "{text}");
    assert_clean(
        "tracing output",
        &text,
        &[
            PASSWORD,
            "Wr0ng-Secret!",
            "tok-1-abcdef",
            "tok-2-abcdef",
            support::BASIC.trim_start_matches("Basic "),
        ],
    );
}
