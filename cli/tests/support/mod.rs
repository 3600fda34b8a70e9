//! The simulator started in-process for one generation, and the built `atro` binary run against
//! it with a clean environment (no user config, its own state folder).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use atrocore_runtime::{ApiGeneration, Client, UpsertItem};
use atrocore_sim::{Faults, SimConfig, Simulator};
use serde_json::{Value, json};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The two API generations, with the spec and metadata each is tested on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gen {
    V22,
    V23,
}

impl Gen {
    pub const BOTH: [Gen; 2] = [Gen::V22, Gen::V23];

    fn files(self) -> (&'static str, &'static str) {
        match self {
            Gen::V22 => (
                "specs/atrocore-2.2-pim-default.json",
                "specs/atrocore-2.2-pim-default.metadata.json",
            ),
            Gen::V23 => (
                "specs/atrocore-2.3-pim-small.json",
                "specs/atrocore-2.3-pim-small.metadata.json",
            ),
        }
    }

    pub fn runtime(self) -> ApiGeneration {
        match self {
            Gen::V22 => ApiGeneration::V2_2,
            Gen::V23 => ApiGeneration::V2_3,
        }
    }
}

fn load(path: &str) -> Arc<Value> {
    let text = std::fs::read(format!("{ROOT}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"));
    Arc::new(serde_json::from_slice(&text).unwrap())
}

/// A running simulator with a temporary folder for files, config and state.
pub struct Env {
    pub generation: Gen,
    pub rt: tokio::runtime::Runtime,
    pub sim: Option<Simulator>,
    pub dir: tempfile::TempDir,
    pub url: String,
}

impl Env {
    pub fn start(generation: Gen) -> Env {
        Self::start_with(generation, Faults::default())
    }

    /// The simulator with injected faults (latency, errors).
    pub fn start_with(generation: Gen, faults: Faults) -> Env {
        Self::start_config(generation, |c| c.faults(faults))
    }

    /// The simulator with settings of the test's own.
    pub fn start_config(generation: Gen, settings: impl FnOnce(SimConfig) -> SimConfig) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (spec, meta) = generation.files();
        let config = settings(SimConfig::from_spec_value(load(spec)).metadata_value(load(meta)));
        let sim = rt
            .block_on(Simulator::start(config))
            .expect("simulator starts");
        let url = sim.base_url().to_owned();
        Env {
            generation,
            rt,
            sim: Some(sim),
            dir: tempfile::tempdir().unwrap(),
            url,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The runtime client of the admin user.
    pub fn client(&self) -> Client {
        Client::builder(&self.url)
            .generation(self.generation.runtime())
            .basic_auth("admin", "admin")
            .build()
            .unwrap()
    }

    /// The `atro` command with the connection in the environment and nothing from the user's.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_atro"));
        c.args(args)
            .current_dir(self.dir.path())
            .env_remove("ATROCORE_TOKEN")
            .env_remove("ATRO_PROFILE")
            .env_remove("ATRO_CONFIG")
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("ATRO_STATE_DIR", self.dir.path().join("state"))
            .env("ATROCORE_URL", &self.url)
            .env("ATROCORE_USER", "admin")
            .env("ATROCORE_PASSWORD", "admin")
            .env("NO_COLOR", "1");
        c
    }

    pub fn atro(&self, args: &[&str]) -> Run {
        Run::of(self.cmd(args).output().expect("atro runs"))
    }

    /// Creates `n` brands `Brand 000000`… (`code` b000000…; every third inactive) through the
    /// runtime's bulk upsert.
    pub fn seed_brands(&self, n: usize) {
        self.seed_brands_from(0, n);
    }

    /// Like [`seed_brands`](Self::seed_brands), numbered from `first`.
    pub fn seed_brands_from(&self, first: usize, n: usize) {
        let items: Vec<UpsertItem> = (first..first + n)
            .map(|k| {
                UpsertItem::from_value(
                    "Brand",
                    json!({"name": format!("Brand {k:06}"), "code": format!("b{k:06}"), "isActive": k % 3 != 0}),
                )
            })
            .collect();
        let client = self.client();
        let report = self
            .rt
            .block_on(async move { client.upsert(items).batch_size(200).await })
            .unwrap();
        assert!(report.is_success(), "{:?}", report.failed_batches);
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            self.rt.block_on(sim.shutdown());
        }
    }
}

/// A finished run of `atro`.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The `id`s of a JSONL text.
pub fn jsonl_ids(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            v["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
