//! `cargo xtask generate --url` with credentials: they are sent to the instance, and never
//! written into the generated files or printed, whether they come in the URL or from the
//! environment (`ATROCORE_TOKEN`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

const SPEC: &str = r#"{"openapi":"3.0.0","servers":[{"url":"/api/v1"}],
 "paths":{"/Brand":{"get":{"tags":["Brand"]}},"/Brand/{id}":{"get":{"tags":["Brand"]}}},
 "components":{"schemas":{"Brand":{"type":"object","properties":{"name":{"type":"string"}}}}}}"#;

/// Serve the spec to one request; return the base URL and a receiver of the request head.
fn serve_spec() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
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
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{SPEC}",
            SPEC.len()
        );
        stream.write_all(reply.as_bytes()).unwrap();
    });
    (url, rx)
}

fn out_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("secrets-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Everything the run left behind: its output and every file it wrote.
fn everything(out: &Path, stdout: &[u8], stderr: &[u8]) -> String {
    let mut all = String::from_utf8_lossy(stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(stderr));
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                all.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    all
}

#[test]
fn credentials_in_the_url_are_used_but_never_written_or_printed() {
    let (url, heads) = serve_spec();
    let out = out_dir("url");
    let given = format!(
        "{}/?api_key=k3y-in-query",
        url.replace("http://", "http://admin:hunter2@")
    );
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["generate", "--url", &given, "--out"])
        .arg(&out)
        .env_remove("ATROCORE_TOKEN")
        .env_remove("ATROCORE_PASSWORD")
        .output()
        .unwrap();
    let all = everything(&out, &run.stdout, &run.stderr);
    assert!(run.status.success(), "{all}");
    let head = heads.recv().unwrap().to_ascii_lowercase();
    assert!(
        head.contains(
            "authorization: basic ywrtaw46aHVudGVyMg=="
                .to_ascii_lowercase()
                .as_str()
        ),
        "{head}"
    );
    for secret in ["hunter2", "k3y-in-query", "admin:"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    let lib = std::fs::read_to_string(out.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains(&format!("// Spec: {url}/openapi.json\n")),
        "{lib}"
    );
}

#[test]
fn a_token_from_the_environment_is_used_but_never_written_or_printed() {
    let (url, heads) = serve_spec();
    let out = out_dir("env");
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["generate", "--url", &url, "--out"])
        .arg(&out)
        .env("ATROCORE_TOKEN", "t0ken-from-env")
        .env_remove("ATROCORE_PASSWORD")
        .output()
        .unwrap();
    let all = everything(&out, &run.stdout, &run.stderr);
    assert!(run.status.success(), "{all}");
    let head = heads.recv().unwrap().to_ascii_lowercase();
    assert!(
        head.contains("authorization-token: t0ken-from-env"),
        "{head}"
    );
    assert!(!all.contains("t0ken-from-env"), "{all}");
}
