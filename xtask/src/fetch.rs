//! Fetch a spec (and optionally metadata) from a live AtroCore instance.
//!
//! A real instance serves its spec at `GET /openapi.json` on the web root without credentials;
//! users may give the root, the `/apidocs/` page or the spec URL itself. Credentials are sent
//! when given (instances behind an authenticating proxy).

use std::time::Duration;

use atrocore_codegen::spec::Spec;
use url::Url;

use crate::SourceArgs;

/// Redirects followed by hand, at most.
const MAX_REDIRECTS: usize = 5;

/// Credentials for fetching.
pub(crate) enum Auth {
    None,
    Basic(String, String),
    Token(String),
}

impl Auth {
    /// From `--user`/`--password` (or `ATROCORE_PASSWORD`) and `--token` (or `ATROCORE_TOKEN`).
    pub(crate) fn from_args(a: &SourceArgs) -> Result<Auth, String> {
        match (&a.user, &a.password, &a.token) {
            (Some(u), Some(p), _) => Ok(Auth::Basic(u.clone(), p.clone())),
            (Some(_), None, _) => {
                Err("--user needs a password: --password or ATROCORE_PASSWORD".into())
            }
            (None, _, Some(t)) => Ok(Auth::Token(t.clone())),
            (None, _, None) => Ok(Auth::None),
        }
    }
}

/// Where to fetch from: the URL without credentials, and the credentials (given, or taken out
/// of the URL's `user:password@`).
pub(crate) struct Source {
    url: Url,
    auth: Auth,
}

impl Source {
    /// What the user gave (`--url`) and the credentials from the arguments.
    pub(crate) fn new(given: &str, auth: Auth) -> Result<Source, String> {
        let spec_url = spec_url(given);
        let mut url =
            Url::parse(&spec_url).map_err(|e| format!("--url {}: {e}", redact(&spec_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "--url {}: only http and https are supported",
                redact(&spec_url)
            ));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = decode(url.username());
        let password = url.password().map(decode);
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let auth = match auth {
            Auth::None if !user.is_empty() || password.is_some() => {
                Auth::Basic(user, password.unwrap_or_default())
            }
            given => given,
        };
        Ok(Source { url, auth })
    }

    /// The spec URL as it may be shown: no credentials, no secret query parameters.
    pub(crate) fn shown(&self) -> String {
        redact(self.url.as_str())
    }
}

/// Query parameters whose name says they hold a secret (`token`, `api_key`, `password`, …).
fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token",
        "key",
        "pass",
        "secret",
        "auth",
        "sig",
        "session",
        "credential",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// A URL as it may appear in files, errors and output: without `user:password@` and without
/// query parameters that hold secrets. Text that is no URL keeps only what precedes any `@`.
pub(crate) fn redact(text: &str) -> String {
    let Ok(mut url) = Url::parse(text.trim()) else {
        return match text.rfind('@') {
            Some(i) => format!("(credentials removed)@{}", &text[i + 1..]),
            None => text.to_owned(),
        };
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_secret_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

/// The spec URL for what the user gave (a query is kept, a fragment dropped).
pub(crate) fn spec_url(given: &str) -> String {
    let given = given.trim();
    let given = given.split('#').next().unwrap_or_default();
    let (address, query) = match given.find('?') {
        Some(i) => (&given[..i], &given[i..]),
        None => (given, ""),
    };
    let trimmed = address.trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    if lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return format!("{trimmed}{query}");
    }
    let root = match lower.rfind("/apidocs") {
        Some(i) => &trimmed[..i],
        None => trimmed,
    };
    format!("{root}/openapi.json{query}")
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        // Redirects are followed by hand (`get`): credentials never leave their origin.
        .redirects(0)
        .build()
}

/// Same scheme, host and port.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin()
}

/// `GET url` with credentials. Redirects are followed by hand: within the origin of `start`
/// with the credentials; to another origin (another host or port, or https → http) only when
/// there are no credentials to leak, otherwise it is an error naming the target.
fn get(start: &Url, auth: &Auth) -> Result<String, String> {
    let agent = agent();
    let mut url = start.clone();
    for _ in 0..=MAX_REDIRECTS {
        let shown = redact(url.as_str());
        let mut req = agent
            .request_url("GET", &url)
            .set("Accept", "application/json");
        if same_origin(&url, start) {
            match auth {
                Auth::None => {}
                Auth::Basic(u, p) => {
                    let encoded = base64(&format!("{u}:{p}"));
                    req = req.set("Authorization", &format!("Basic {encoded}"));
                }
                Auth::Token(t) => req = req.set("Authorization-Token", t),
            }
        }
        match req.call() {
            Ok(resp) if (300..400).contains(&resp.status()) => {
                let status = resp.status();
                let Some(location) = resp.header("Location") else {
                    return Err(format!("GET {shown}: HTTP {status} without a Location"));
                };
                let next = url.join(location).map_err(|e| {
                    format!("GET {shown}: HTTP {status} to an invalid Location: {e}")
                })?;
                if !matches!(next.scheme(), "http" | "https") {
                    return Err(format!(
                        "GET {shown}: redirected to {}: only http and https are followed",
                        redact(next.as_str())
                    ));
                }
                if !matches!(auth, Auth::None) && !same_origin(&next, start) {
                    return Err(format!(
                        "GET {shown}: redirected (HTTP {status}) to {}, another origin: not following with credentials; use that URL directly if you trust it",
                        redact(next.as_str())
                    ));
                }
                url = next;
            }
            Ok(resp) => {
                return resp
                    .into_string()
                    .map_err(|e| format!("GET {shown}: reading the body failed: {e}"));
            }
            Err(ureq::Error::Status(code, resp)) => {
                let reason = resp.header("X-Status-Reason").map(str::to_owned);
                let body = resp.into_string().unwrap_or_default();
                let message = reason.unwrap_or_else(|| body.chars().take(300).collect());
                return Err(format!("GET {shown}: HTTP {code}: {}", message.trim()));
            }
            Err(ureq::Error::Transport(t)) => {
                // Not `t`'s Display: it starts with the URL as sent.
                let mut message = t.kind().to_string();
                if let Some(m) = t.message() {
                    message.push_str(&format!(": {m}"));
                }
                if let Some(source) = std::error::Error::source(&t) {
                    message.push_str(&format!(": {source}"));
                }
                return Err(format!("GET {shown}: {message}"));
            }
        }
    }
    Err(format!(
        "GET {}: more than {MAX_REDIRECTS} redirects",
        redact(start.as_str())
    ))
}

/// Download the spec; returns its text and the URL it came from (without credentials).
pub(crate) fn spec(source: &Source) -> Result<(String, String), String> {
    let text = get(&source.url, &source.auth)?;
    Ok((text, source.shown()))
}

/// Download the instance metadata (needs credentials: Basic is exchanged for nothing here, it is
/// sent as is; AtroCore accepts Basic on every call).
pub(crate) fn metadata(source: &Source, spec: &Spec) -> Result<serde_json::Value, String> {
    if matches!(source.auth, Auth::None) {
        return Err(
            "--fetch-metadata needs credentials: --user/--password (or ATROCORE_PASSWORD) or --token (or ATROCORE_TOKEN)"
                .into(),
        );
    }
    let (generation, base, _) = atrocore_codegen::lower::generation(spec);
    let route = match generation {
        atrocore_codegen::ir::Generation::V2_2 => "/Metadata",
        atrocore_codegen::ir::Generation::V2_3 => "/metadata",
    };
    let mut url = source.url.clone();
    let root = url.path().trim_end_matches("/openapi.json").to_owned();
    url.set_path(&format!("{root}{base}{route}"));
    let text = get(&url, &source.auth)?;
    serde_json::from_str(&text)
        .map_err(|e| format!("GET {}: the answer is not JSON: {e}", redact(url.as_str())))
}

/// The instance's attribute definitions in the generator's file format (see
/// `generator/src/lower/attributes.rs`): every `Attribute` record (2.2 keyed by `code`, or its
/// id when it has none; 2.3 by `systemName`), with the options of its list (2.3: the
/// attribute's `options`, labelled by `translatedOptions`; 2.2: the options of its extensible
/// enum, `GET /ExtensibleEnum/action/getExtensibleEnumsOptions`, stored as option ids with
/// their codes, by which the generated enums name them), sorted
/// by entity and code so that a saved copy diffs well.
pub(crate) fn attributes(source: &Source, spec: &Spec) -> Result<serde_json::Value, String> {
    use serde_json::{Value, json};
    if matches!(source.auth, Auth::None) {
        return Err(
            "--fetch-attributes needs credentials: --user/--password (or ATROCORE_PASSWORD) or --token (or ATROCORE_TOKEN)"
                .into(),
        );
    }
    let (generation, base, _) = atrocore_codegen::lower::generation(spec);
    let v22 = generation == atrocore_codegen::ir::Generation::V2_2;
    let root = source
        .url
        .path()
        .trim_end_matches("/openapi.json")
        .to_owned();
    let api = |route: &str, query: &[(&str, String)]| -> Result<Value, String> {
        let mut url = source.url.clone();
        url.set_path(&format!("{root}{base}{route}"));
        url.query_pairs_mut().clear().extend_pairs(query);
        let text = get(&url, &source.auth)?;
        serde_json::from_str(&text)
            .map_err(|e| format!("GET {}: the answer is not JSON: {e}", redact(url.as_str())))
    };
    const PAGE: usize = 200;
    let mut records = Vec::new();
    loop {
        let page = api(
            "/Attribute",
            &[
                ("maxSize", PAGE.to_string()),
                ("offset", records.len().to_string()),
                ("sortBy", "id".into()),
                ("asc", "true".into()),
            ],
        )?;
        let list = page["list"].as_array().cloned().unwrap_or_default();
        let n = list.len();
        records.extend(list);
        if n < PAGE {
            break;
        }
    }
    let text = |r: &Value, k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // 2.2: the options of every extensible enum the attributes use, by list id, in one
    // request per 50 lists (`GET /ExtensibleEnum/action/getExtensibleEnumsOptions`, 2.2.31
    // `Controllers/ExtensibleEnum.php`: a JSON array of ids; each option `{id, code, name, …}`
    // in the list's order).
    let mut enum_options: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    if v22 {
        let lists: std::collections::BTreeSet<String> = records
            .iter()
            .filter_map(|r| text(r, "extensibleEnumId"))
            .collect();
        let lists: Vec<String> = lists.into_iter().collect();
        for chunk in lists.chunks(50) {
            let answer = api(
                "/ExtensibleEnum/action/getExtensibleEnumsOptions",
                &[("extensibleEnumIds", json!(chunk).to_string())],
            )?;
            for list in chunk {
                let items = answer[list.as_str()]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let opts = items
                    .iter()
                    .filter_map(|o| {
                        let mut option = json!({"value": text(o, "id")?, "label": text(o, "name").or_else(|| text(o, "code"))});
                        if let Some(code) = text(o, "code") {
                            option["code"] = json!(code);
                        }
                        Some(option)
                    })
                    .collect();
                enum_options.insert(list.clone(), opts);
            }
        }
    }
    // The units of the measures the attributes use (`Unit.code` names them in generated
    // crates): every `Unit` (instances have few), by pages of `/Unit`.
    let measures: std::collections::BTreeSet<String> = records
        .iter()
        .filter_map(|r| text(r, "measureId"))
        .collect();
    let mut units: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    if !measures.is_empty() {
        let mut offset = 0;
        loop {
            let page = api(
                "/Unit",
                &[
                    ("select", "id,name,code,measureId".to_owned()),
                    ("maxSize", PAGE.to_string()),
                    ("offset", offset.to_string()),
                    ("sortBy", "id".into()),
                    ("asc", "true".into()),
                ],
            )?;
            let list = page["list"].as_array().cloned().unwrap_or_default();
            offset += list.len();
            for u in &list {
                let (Some(id), Some(measure)) = (text(u, "id"), text(u, "measureId")) else {
                    continue;
                };
                if !measures.contains(&measure) {
                    continue;
                }
                let mut unit = json!({"id": id});
                for k in ["name", "code"] {
                    if let Some(v) = text(u, k) {
                        unit[k] = json!(v);
                    }
                }
                units.entry(measure).or_default().push(unit);
            }
            if list.len() < PAGE {
                break;
            }
        }
    }
    // By code (then name): the same order on every instance set up alike, whatever the ids.
    for list in units.values_mut() {
        list.sort_by(|a, b| {
            let key = |u: &Value| {
                (
                    u["code"].as_str().unwrap_or_default().to_owned(),
                    u["name"].as_str().unwrap_or_default().to_owned(),
                    u["id"].as_str().unwrap_or_default().to_owned(),
                )
            };
            key(a).cmp(&key(b))
        });
    }
    let mut out = Vec::new();
    for r in &records {
        let (Some(id), Some(entity), Some(type_)) =
            (text(r, "id"), text(r, "entityId"), text(r, "type"))
        else {
            continue;
        };
        let code = if v22 {
            text(r, "code").unwrap_or_else(|| id.clone())
        } else {
            text(r, "systemName").unwrap_or_else(|| id.clone())
        };
        let mut options = Vec::new();
        if v22 && let Some(list) = text(r, "extensibleEnumId") {
            options = enum_options.get(&list).cloned().unwrap_or_default();
        } else if let Some(list) = r.get("options").and_then(Value::as_array) {
            options = list
                .iter()
                .filter_map(Value::as_str)
                .map(|o| json!({"value": o, "label": r.pointer(&format!("/translatedOptions/{o}")).and_then(Value::as_str).unwrap_or(o)}))
                .collect();
        }
        let mut def = json!({"id": id, "entity": entity, "code": code, "type": type_});
        if let Some(n) = text(r, "name") {
            def["name"] = json!(n);
        }
        if r.get("isMultilang").and_then(Value::as_bool) == Some(true) {
            def["multilingual"] = json!(true);
        }
        if let Some(m) = text(r, "measureName").or_else(|| text(r, "measureId")) {
            def["measure"] = json!(m);
            if let Some(list) = text(r, "measureId").and_then(|m| units.get(&m)) {
                def["units"] = json!(list);
            }
        }
        if let Some(g) = text(r, "attributeGroupName") {
            def["group"] = json!(g);
        }
        if !options.is_empty() {
            def["options"] = json!(options);
        }
        out.push(def);
    }
    out.sort_by(|a, b| {
        (a["entity"].as_str(), a["code"].as_str()).cmp(&(b["entity"].as_str(), b["code"].as_str()))
    });
    Ok(json!({ "attributes": out }))
}

fn base64(input: &str) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_urls_from_what_users_paste() {
        assert_eq!(
            spec_url("https://demo.atropim.com"),
            "https://demo.atropim.com/openapi.json"
        );
        assert_eq!(
            spec_url("https://demo.atropim.com/"),
            "https://demo.atropim.com/openapi.json"
        );
        assert_eq!(
            spec_url("https://demo.atropim.com/apidocs/"),
            "https://demo.atropim.com/openapi.json"
        );
        assert_eq!(
            spec_url("https://x.org/pim/apidocs/index.html"),
            "https://x.org/pim/openapi.json"
        );
        assert_eq!(
            spec_url("https://x.org/openapi.json"),
            "https://x.org/openapi.json"
        );
        assert_eq!(
            spec_url("https://x.org/pim/?lang=de#top"),
            "https://x.org/pim/openapi.json?lang=de"
        );
    }

    /// Serve `responses` (status, headers, body) to one request each on a local port; return the
    /// base URL and a receiver of the request heads.
    fn serve(
        responses: Vec<(u16, &'static str, String)>,
    ) -> (String, std::sync::mpsc::Receiver<String>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for (status, headers, body) in responses {
                let (mut stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                tx.send(head).unwrap();
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
                    body.len()
                );
                stream.write_all(reply.as_bytes()).unwrap();
            }
        });
        (url, rx)
    }

    #[test]
    fn fetches_the_spec_from_an_instance_root_with_credentials() {
        let spec = r#"{"openapi":"3.0.0","paths":{}}"#.to_owned();
        let (url, heads) = serve(vec![(200, "", spec.clone())]);
        let source = Source::new(
            &format!("{url}/apidocs/"),
            Auth::Basic("admin".into(), "admin".into()),
        )
        .unwrap();
        let (text, from) = super::spec(&source).unwrap();
        assert_eq!(text, spec);
        assert_eq!(from, format!("{url}/openapi.json"));
        let head = heads.recv().unwrap();
        assert!(head.starts_with("GET /openapi.json "), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("authorization: basic ywrtaw46ywrtaw4="),
            "{head}"
        );
    }

    #[test]
    fn fetch_metadata_reads_the_generations_route_with_credentials() {
        let parse = |servers: &str| {
            atrocore_codegen::spec::Spec::parse(
                "spec.json",
                &format!(r#"{{"openapi":"3.0.0","servers":[{{"url":"{servers}"}}],"paths":{{}}}}"#),
            )
            .unwrap()
        };
        for (servers, route) in [("/api/v1", "/api/v1/Metadata"), ("/api", "/api/metadata")] {
            let (url, heads) = serve(vec![(200, "", r#"{"entityDefs":{}}"#.into())]);
            let source = Source::new(&format!("{url}/pim/"), Auth::Token("tok".into())).unwrap();
            let meta = super::metadata(&source, &parse(servers)).unwrap();
            assert_eq!(meta, serde_json::json!({ "entityDefs": {} }));
            let head = heads.recv().unwrap();
            assert!(head.starts_with(&format!("GET /pim{route} ")), "{head}");
            assert!(
                head.to_ascii_lowercase()
                    .contains("authorization-token: tok"),
                "{head}"
            );
        }
        // Without credentials, nothing is sent; an answer that is not JSON names the URL.
        let source = Source::new("http://127.0.0.1:9", Auth::None).unwrap();
        let err = super::metadata(&source, &parse("/api/v1")).unwrap_err();
        assert!(err.contains("--fetch-metadata needs credentials"), "{err}");
        let (url, _heads) = serve(vec![(200, "", "<html>login</html>".into())]);
        let source = Source::new(&url, Auth::Token("tok".into())).unwrap();
        let err = super::metadata(&source, &parse("/api/v1")).unwrap_err();
        assert!(
            err.contains("/api/v1/Metadata") && err.contains("not JSON"),
            "{err}"
        );
    }

    #[test]
    fn http_errors_name_the_url_status_and_reason() {
        let (url, _heads) = serve(vec![(
            403,
            "X-Status-Reason: Access denied\r\n",
            "Access denied".into(),
        )]);
        let err = super::spec(&Source::new(&url, Auth::Token("t".into())).unwrap()).unwrap_err();
        assert!(
            err.contains("/openapi.json") && err.contains("403") && err.contains("Access denied"),
            "{err}"
        );
    }

    #[test]
    fn shown_urls_carry_no_credentials_or_secret_parameters() {
        assert_eq!(
            redact("https://admin:hunter2@x.org/openapi.json?token=abc&lang=de&api_key=k"),
            "https://x.org/openapi.json?lang=de"
        );
        assert_eq!(
            redact("https://admin@x.org/?access_token=abc"),
            "https://x.org/"
        );
        assert_eq!(
            redact("not a url user:pw@host"),
            "(credentials removed)@host"
        );
        let source =
            Source::new("https://ad%40min:p%3Ass@x.org/apidocs/?sig=1", Auth::None).unwrap();
        assert_eq!(source.shown(), "https://x.org/openapi.json");
        assert!(matches!(&source.auth, Auth::Basic(u, p) if u == "ad@min" && p == "p:ss"));
        assert!(!source.url.as_str().contains("p%3Ass"));
        // Given credentials win over the URL's.
        let source = Source::new("https://a:b@x.org", Auth::Token("t".into())).unwrap();
        assert!(matches!(&source.auth, Auth::Token(t) if t == "t"));
        assert!(Source::new("file:///etc/passwd", Auth::None).is_err());
    }

    #[test]
    fn url_credentials_are_sent_as_basic_auth_never_shown() {
        let spec = r#"{"openapi":"3.0.0","paths":{}}"#.to_owned();
        let (url, heads) = serve(vec![(200, "", spec)]);
        let with_credentials = url.replace("http://", "http://admin:hunter2@");
        let source = Source::new(&format!("{with_credentials}/?token=abc"), Auth::None).unwrap();
        let (_, from) = super::spec(&source).unwrap();
        assert_eq!(from, format!("{url}/openapi.json"));
        let head = heads.recv().unwrap();
        assert!(
            head.to_ascii_lowercase().contains(
                &format!("authorization: basic {}", base64("admin:hunter2")).to_ascii_lowercase()
            ),
            "{head}"
        );
        // A transport error names the URL without what it held.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = dead.local_addr().unwrap().port();
        drop(dead);
        let source = Source::new(
            &format!("http://admin:hunter2@127.0.0.1:{port}/openapi.json?api_key=k3y"),
            Auth::None,
        )
        .unwrap();
        let err = super::spec(&source).unwrap_err();
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
        assert!(
            !err.contains("hunter2") && !err.contains("k3y") && !err.contains("admin"),
            "{err}"
        );
    }

    #[test]
    fn redirects_within_the_origin_keep_the_credentials() {
        let spec = r#"{"openapi":"3.0.0","paths":{}}"#.to_owned();
        let (url, heads) = serve(vec![
            (301, "Location: /moved/openapi.json\r\n", String::new()),
            (200, "", spec.clone()),
        ]);
        let source = Source::new(&url, Auth::Token("s3cret".into())).unwrap();
        let (text, _) = super::spec(&source).unwrap();
        assert_eq!(text, spec);
        let _first = heads.recv().unwrap();
        let second = heads.recv().unwrap();
        assert!(second.starts_with("GET /moved/openapi.json "), "{second}");
        assert!(second.contains("s3cret"), "{second}");
    }

    #[test]
    fn redirects_to_another_origin_never_carry_the_credentials() {
        let spec = r#"{"openapi":"3.0.0","paths":{}}"#.to_owned();
        for auth in [
            Auth::Token("s3cret".into()),
            Auth::Basic("admin".into(), "s3cret".into()),
        ] {
            let (other, other_heads) = serve(vec![(200, "", spec.clone())]);
            let location: &'static str =
                Box::leak(format!("Location: {other}/openapi.json\r\n").into_boxed_str());
            let (url, heads) = serve(vec![(302, location, String::new())]);
            let err = super::spec(&Source::new(&url, auth).unwrap()).unwrap_err();
            assert!(
                err.contains("another origin") && err.contains(&other),
                "{err}"
            );
            assert!(
                heads
                    .recv()
                    .unwrap()
                    .to_ascii_lowercase()
                    .contains("authorization")
            );
            // The other origin saw no request at all (let alone the credentials).
            assert!(
                other_heads
                    .recv_timeout(Duration::from_millis(200))
                    .is_err()
            );
        }
        // Without credentials there is nothing to leak: the redirect is followed.
        let (other, other_heads) = serve(vec![(200, "", spec.clone())]);
        let location: &'static str =
            Box::leak(format!("Location: {other}/openapi.json\r\n").into_boxed_str());
        let (url, _heads) = serve(vec![(307, location, String::new())]);
        let (text, _) = super::spec(&Source::new(&url, Auth::None).unwrap()).unwrap();
        assert_eq!(text, spec);
        assert!(
            other_heads
                .recv()
                .unwrap()
                .starts_with("GET /openapi.json ")
        );
    }

    #[test]
    fn https_to_http_is_another_origin() {
        let a = Url::parse("https://x.org/openapi.json").unwrap();
        assert!(!same_origin(
            &a,
            &Url::parse("http://x.org/openapi.json").unwrap()
        ));
        assert!(!same_origin(
            &a,
            &Url::parse("https://x.org:8443/").unwrap()
        ));
        assert!(!same_origin(&a, &Url::parse("https://evil.org/").unwrap()));
        assert!(same_origin(
            &a,
            &Url::parse("https://x.org:443/other").unwrap()
        ));
    }

    #[test]
    fn base64_matches_the_guide() {
        assert_eq!(base64("admin:admin"), "YWRtaW46YWRtaW4=");
        assert_eq!(base64("a"), "YQ==");
        assert_eq!(base64("ab"), "YWI=");
    }
}
