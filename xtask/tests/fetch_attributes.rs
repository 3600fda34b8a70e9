//! `generate --url … --fetch-metadata --fetch-attributes --save-spec DIR` against a running
//! simulator seeded with the bundled attribute definitions under other ids: the definitions it
//! reads back name the same attributes, options and units by the same codes, and the crate it
//! writes has the same typed attributes as the checked-in example (which the e2e tests run
//! against instances whose ids differ).

use std::path::Path;
use std::process::Command;

use atrocore_sim::{SimConfig, Simulator};
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn read(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The bundled definitions with every id replaced, as another instance would have them.
fn other_ids(mut definitions: Value) -> Value {
    let other = |v: &mut Value| *v = Value::from(format!("z{}", &v.as_str().unwrap()[1..]));
    for a in definitions["attributes"].as_array_mut().unwrap() {
        other(&mut a["id"]);
        // 2.2 option values are ids; 2.3 ones are the options' codes, the same everywhere.
        if a["type"].as_str().unwrap().starts_with("extensible") {
            for o in a["options"].as_array_mut().into_iter().flatten() {
                other(&mut o["value"]);
            }
        }
        for u in a["units"].as_array_mut().into_iter().flatten() {
            other(&mut u["id"]);
        }
    }
    definitions
}

/// What a definition says that does not depend on the instance's ids, by code.
fn by_code(definitions: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = definitions["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.clone();
            let m = a.as_object_mut().unwrap();
            m.remove("id");
            // Option ids and unit ids differ; labels and codes must not.
            for o in m
                .get_mut("options")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                o.as_object_mut().unwrap().remove("value");
            }
            for u in m
                .get_mut("units")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                u.as_object_mut().unwrap().remove("id");
            }
            m.remove("group");
            (a["code"].as_str().unwrap().to_owned(), a)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The `attr` module of a generated `product.rs`.
fn attr_module(crate_dir: &Path) -> String {
    let text = std::fs::read_to_string(crate_dir.join("src/product.rs")).unwrap();
    let start = text.find("pub mod attr {").expect("an attr module");
    text[start..].to_owned()
}

#[test]
fn definitions_fetched_from_a_2_2_instance_generate_the_same_typed_attributes() {
    fetch_and_compare("atrocore-2.2-pim-default", "generated-example", "2.2");
}

#[test]
fn definitions_fetched_from_a_2_3_instance_generate_the_same_typed_attributes() {
    fetch_and_compare("atrocore-2.3-pim-small", "e2e/generated-23", "2.3");
}

/// Generates from a simulator serving `specs/<name>.json` with `<name>.attributes.json` seeded
/// under other ids, and compares with the checked-in crate `example`.
fn fetch_and_compare(name: &str, example: &str, generation: &str) {
    let spec = read(&format!("{ROOT}/specs/{name}.json"));
    let metadata = read(&format!("{ROOT}/specs/{name}.metadata.json"));
    let bundled = read(&format!("{ROOT}/specs/{name}.attributes.json"));
    let seeded = other_ids(bundled.clone());

    // The simulator on a thread of its own, serving until the test is done.
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let config = SimConfig::from_spec_value(spec.into()).metadata_value(metadata.into());
            let sim = Simulator::start(config).await.unwrap();
            sim.seed_attributes(&seeded).unwrap();
            url_tx.send(sim.base_url().to_owned()).unwrap();
            let _ = stop_rx.await;
            sim.shutdown().await;
        });
    });
    let url = url_rx.recv().unwrap();

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fetch-attributes-{generation}"));
    let _ = std::fs::remove_dir_all(&dir);
    let (saved, out) = (dir.join("saved"), dir.join("crate"));
    let run = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["generate", "--url", &url, "--user", "admin"])
        .args(["--fetch-metadata", "--fetch-attributes", "--save-spec"])
        .arg(&saved)
        .arg("--out")
        .arg(&out)
        .env("ATROCORE_PASSWORD", "admin")
        .env_remove("ATROCORE_TOKEN")
        .output()
        .unwrap();
    let _ = stop_tx.send(());
    server.join().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");

    // What was fetched is kept, and reads as what the instance holds.
    for name in ["spec.json", "metadata.json", "attributes.json"] {
        assert!(saved.join(name).is_file(), "{name} saved: {stderr}");
    }
    let fetched = read(saved.join("attributes.json").to_str().unwrap());
    assert_eq!(by_code(&fetched), by_code(&bundled));
    let colour = fetched["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "colour")
        .unwrap();
    let option = colour["options"][0]["value"].as_str().unwrap();
    // 2.2 stores option ids (the instance's own); 2.3 the options' codes.
    assert_eq!(
        option.starts_with('z'),
        generation == "2.2",
        "the instance's option values: {colour}"
    );
    let weight = fetched["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "weight")
        .unwrap();
    assert!(
        weight["id"].as_str().unwrap().starts_with('z')
            && weight["units"][0]["id"].as_str().unwrap().starts_with('z'),
        "the instance's own ids: {weight}"
    );

    // The crate generated from it has the example's typed attributes, to the byte.
    assert_eq!(
        attr_module(&out),
        attr_module(&Path::new(ROOT).join(example))
    );
}
