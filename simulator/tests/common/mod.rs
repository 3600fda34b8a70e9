//! Shared helpers for the conformance tests: specs loaded once per test binary, a plain HTTP client.

#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use atrocore_sim::{SimConfig, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The four reference documents the tests run on (AtroCore's own specs and metadata of real
/// instances, outside this repository).
const REFERENCE: [&str; 4] = [
    "specs/atrocore-2.2-pim-multilang.json",
    "specs/atrocore-pim-multilang.json",
    "metadata/atrocore-2.2-pim-multilang.metadata.json",
    "metadata/atrocore-pim-multilang.metadata.json",
];

/// Whether the reference documents are there; when not, one line says the calling test is
/// skipped (a failure under `CI=true`). Every test of these files starts with it.
#[track_caller]
pub fn have_specs() -> bool {
    for rel in REFERENCE {
        if atrocore_testkit::reference(rel).is_none() {
            return false;
        }
    }
    true
}

fn load(rel: &str) -> Arc<Value> {
    let value = atrocore_testkit::reference_json(rel)
        .unwrap_or_else(|| panic!("{rel}: call common::have_specs() first"));
    Arc::new(value)
}

macro_rules! cached {
    ($name:ident, $file:expr) => {
        /// The document, parsed once per test binary.
        pub fn $name() -> Arc<Value> {
            static CELL: OnceLock<Arc<Value>> = OnceLock::new();
            CELL.get_or_init(|| load($file)).clone()
        }
    };
}

cached!(spec22, REFERENCE[0]);
cached!(spec23, REFERENCE[1]);
cached!(meta22, REFERENCE[2]);
cached!(meta23, REFERENCE[3]);

/// Which real spec a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gen {
    /// 2.2 PIM multilang.
    V22,
    /// 2.3 PIM multilang.
    V23,
}

/// Both generations.
pub const BOTH: [Gen; 2] = [Gen::V22, Gen::V23];

/// Settings for a generation, with metadata; every JSON answer is checked against the spec (a
/// mismatch turns into a 500 naming the route, JSON pointer and reason).
pub fn config(g: Gen) -> SimConfig {
    let cfg = match g {
        Gen::V22 => SimConfig::from_spec_value(spec22()).metadata_value(meta22()),
        Gen::V23 => SimConfig::from_spec_value(spec23()).metadata_value(meta23()),
    };
    cfg.validate_responses(true)
}

/// A running simulator with a client logged in as admin.
pub struct H {
    /// The simulator.
    pub sim: Simulator,
    /// Plain HTTP client.
    pub c: reqwest::Client,
    /// API base URL.
    pub api: String,
    /// `Authorization-Token` value.
    pub token: String,
    /// Which generation.
    pub g: Gen,
}

/// A response: status, headers, body text.
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body text.
    pub text: String,
}

impl Resp {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    /// `X-Status-Reason`.
    pub fn reason(&self) -> String {
        self.headers
            .get("x-status-reason")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

/// Starts a simulator and logs in as admin/admin.
pub async fn start(g: Gen) -> H {
    start_with(g, config(g)).await
}

/// Starts a simulator with custom settings and logs in as admin/admin.
pub async fn start_with(g: Gen, cfg: SimConfig) -> H {
    let sim = Simulator::start(cfg).await.expect("simulator starts");
    let c = reqwest::Client::new();
    let api = sim.api_url();
    let token = login(&c, &api, g, "admin", "admin")
        .await
        .unwrap_or_default();
    H {
        sim,
        c,
        api,
        token,
        g,
    }
}

/// The token route of a generation.
pub fn token_path(g: Gen) -> &'static str {
    match g {
        Gen::V22 => "/App/user",
        Gen::V23 => "/userSession",
    }
}

/// Logs in with Basic credentials and `Authorization-Token-Only: true`.
pub async fn login(
    c: &reqwest::Client,
    api: &str,
    g: Gen,
    user: &str,
    pass: &str,
) -> Option<String> {
    let r = c
        .get(format!("{api}{}", token_path(g)))
        .basic_auth(user, Some(pass))
        .header("Authorization-Token-Only", "true")
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let v: Value = r.json().await.ok()?;
    v["authorizationToken"].as_str().map(str::to_string)
}

impl H {
    /// Sends a request with the admin token and optional extra headers.
    pub async fn send(
        &self,
        m: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.send_as(&self.token.clone(), m, path, body, headers)
            .await
    }

    /// Sends a request with a given token.
    pub async fn send_as(
        &self,
        token: &str,
        m: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self
            .c
            .request(m, format!("{}{path}", self.api))
            .header("Authorization-Token", token)
            .header("Accept", "application/json");
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        Resp {
            status,
            headers,
            text,
        }
    }

    /// GET, expecting JSON with 200.
    pub async fn get_ok(&self, path: &str) -> Value {
        let r = self.send(Method::GET, path, None, &[]).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text);
        r.json()
    }

    /// POST, expecting JSON with 200.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        let r = self.send(Method::POST, path, Some(&body), &[]).await;
        assert_eq!(r.status, 200, "POST {path}: {}", r.text);
        r.json()
    }

    /// Where the generation lists the records linked to `entity` `id` through `link`: 2.2
    /// `/{E}/{id}/{link}`, 2.3 `/entityRelation?…` (it has no per-entity link routes).
    pub fn linked_path(&self, entity: &str, id: &str, link: &str) -> String {
        match self.g {
            Gen::V22 => format!("/{entity}/{id}/{link}"),
            Gen::V23 => format!("/entityRelation?entityName={entity}&id={id}&link={link}"),
        }
    }

    /// The update method of the generation (2.2 PUT, 2.3 PATCH).
    pub fn update_method(&self) -> Method {
        match self.g {
            Gen::V22 => Method::PUT,
            Gen::V23 => Method::PATCH,
        }
    }

    /// The bulk upsert route of the generation.
    pub fn upsert_path(&self) -> &'static str {
        match self.g {
            Gen::V22 => "/MassActions/action/upsert",
            Gen::V23 => "/upsert",
        }
    }
}
