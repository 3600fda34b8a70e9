//! How the generated manifest points at the runtime: by path, by crates.io version or by git
//! repository, always with the TLS features passed through.

use atrocore_codegen::{RuntimeDependency, Settings, generate, spec::Spec};

const SPEC: &str = r#"{"openapi":"3.0.0","servers":[{"url":"/api/v1"}],
 "paths":{"/Brand":{"get":{"tags":["Brand"]}},"/Brand/{id}":{"get":{"tags":["Brand"]}}},
 "components":{"schemas":{"Brand":{"type":"object","properties":{"name":{"type":"string"}}}}}}"#;

fn manifest(runtime: RuntimeDependency) -> String {
    let spec = Spec::parse("inline.json", SPEC).unwrap();
    let settings = Settings {
        runtime,
        ..Settings::default()
    };
    generate(&spec, &settings).unwrap().files["Cargo.toml"].clone()
}

fn dependency_line(manifest: &str) -> &str {
    manifest
        .lines()
        .find(|l| l.starts_with("atrocore-runtime = "))
        .unwrap_or_else(|| panic!("no runtime dependency in:\n{manifest}"))
}

#[test]
fn each_kind_of_runtime_dependency() {
    let cases = [
        (
            RuntimeDependency::Path("vendor/atrocore-runtime".into()),
            r#"atrocore-runtime = { path = "vendor/atrocore-runtime", default-features = false }"#,
        ),
        (
            RuntimeDependency::Version("0.1".into()),
            r#"atrocore-runtime = { version = "0.1", default-features = false }"#,
        ),
        (
            RuntimeDependency::Git {
                url: "https://git.example.com/atrocore-rs.git".into(),
                rev: Some("0123abcd".into()),
            },
            r#"atrocore-runtime = { git = "https://git.example.com/atrocore-rs.git", rev = "0123abcd", default-features = false }"#,
        ),
        (
            RuntimeDependency::Git {
                url: "file:///srv/git/runtime \"quoted\"".into(),
                rev: None,
            },
            r#"atrocore-runtime = { git = "file:///srv/git/runtime \"quoted\"", default-features = false }"#,
        ),
    ];
    for (runtime, expected) in cases {
        let manifest = manifest(runtime);
        assert_eq!(dependency_line(&manifest), expected);
        assert!(
            manifest.contains("rustls = [\"atrocore-runtime/rustls\"]")
                && manifest.contains("native-tls = [\"atrocore-runtime/native-tls\"]"),
            "{manifest}"
        );
    }
}
