//! Fetch a spec (and optionally metadata) from a live AtroCore instance.
//!
//! A real instance serves its spec at `GET /openapi.json` on the web root without credentials;
//! users may give the root, the `/apidocs/` page or the spec URL itself. Credentials are sent
//! when given (instances behind an authenticating proxy).

use std::time::Duration;

use atrocore_codegen::spec::Spec;

use crate::SourceArgs;

/// Credentials for fetching.
pub(crate) enum Auth {
    None,
    Basic(String, String),
    Token(String),
}

impl Auth {
    pub(crate) fn from_args(a: &SourceArgs) -> Auth {
        match (&a.user, &a.password, &a.token) {
            (Some(u), Some(p), _) => Auth::Basic(u.clone(), p.clone()),
            (_, _, Some(t)) => Auth::Token(t.clone()),
            _ => Auth::None,
        }
    }
}

/// The spec URL for what the user gave.
pub(crate) fn spec_url(given: &str) -> String {
    let trimmed = given.trim().trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    if lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml") {
        return trimmed.to_owned();
    }
    let root = match lower.rfind("/apidocs") {
        Some(i) => &trimmed[..i],
        None => trimmed,
    };
    format!("{root}/openapi.json")
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
}

fn get(url: &str, auth: &Auth, extra: &[(&str, &str)]) -> Result<String, String> {
    let mut req = agent().get(url).set("Accept", "application/json");
    match auth {
        Auth::None => {}
        Auth::Basic(u, p) => {
            let encoded = base64(&format!("{u}:{p}"));
            req = req.set("Authorization", &format!("Basic {encoded}"));
        }
        Auth::Token(t) => req = req.set("Authorization-Token", t),
    }
    for (k, v) in extra {
        req = req.set(k, v);
    }
    match req.call() {
        Ok(resp) => resp
            .into_string()
            .map_err(|e| format!("GET {url}: reading the body failed: {e}")),
        Err(ureq::Error::Status(code, resp)) => {
            let reason = resp.header("X-Status-Reason").map(str::to_owned);
            let body = resp.into_string().unwrap_or_default();
            let message = reason.unwrap_or_else(|| body.chars().take(300).collect());
            Err(format!("GET {url}: HTTP {code}: {}", message.trim()))
        }
        Err(e) => Err(format!("GET {url}: {e}")),
    }
}

/// Download the spec; returns its text and the URL it came from.
pub(crate) fn spec(given: &str, auth: &Auth) -> Result<(String, String), String> {
    let url = spec_url(given);
    let text = get(&url, auth, &[])?;
    Ok((text, url))
}

/// Download the instance metadata (needs credentials: Basic is exchanged for nothing here, it is
/// sent as is; AtroCore accepts Basic on every call).
pub(crate) fn metadata(given: &str, spec: &Spec, auth: &Auth) -> Result<serde_json::Value, String> {
    if matches!(auth, Auth::None) {
        return Err("--fetch-metadata needs --user/--password or --token".into());
    }
    let (generation, base, _) = atrocore_codegen::lower::generation(spec);
    let route = match generation {
        atrocore_codegen::ir::Generation::V2_2 => "/Metadata",
        atrocore_codegen::ir::Generation::V2_3 => "/metadata",
    };
    let root = spec_url(given).trim_end_matches("/openapi.json").to_owned();
    let url = format!("{root}{base}{route}");
    let text = get(&url, auth, &[])?;
    serde_json::from_str(&text).map_err(|e| format!("GET {url}: the answer is not JSON: {e}"))
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
        let (text, from) = super::spec(
            &format!("{url}/apidocs/"),
            &Auth::Basic("admin".into(), "admin".into()),
        )
        .unwrap();
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
    fn http_errors_name_the_url_status_and_reason() {
        let (url, _heads) = serve(vec![(
            403,
            "X-Status-Reason: Access denied\r\n",
            "Access denied".into(),
        )]);
        let err = super::spec(&url, &Auth::Token("t".into())).unwrap_err();
        assert!(
            err.contains("/openapi.json") && err.contains("403") && err.contains("Access denied"),
            "{err}"
        );
    }

    #[test]
    fn base64_matches_the_guide() {
        assert_eq!(base64("admin:admin"), "YWRtaW46YWRtaW4=");
        assert_eq!(base64("a"), "YQ==");
        assert_eq!(base64("ab"), "YWI=");
    }
}
