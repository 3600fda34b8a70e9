//! The change feed end to end, in both generations: random writes (single creates and updates,
//! bulk upserts within one second, deletes, clock steps) interleaved with feed pages and
//! restarts from persisted watermarks; every record's last change is delivered, no change
//! twice. The simulator's clock is frozen and moved by hand, so tie groups (many records
//! stamped in one second) and horizons happen where the test wants them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use atrocore_runtime::{Change, Watermark};
use atrocore_sim::{SimConfig, Simulator};
use futures_util::TryStreamExt;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn config(spec: &str) -> SimConfig {
    let load =
        |p: String| Arc::new(serde_json::from_slice::<Value>(&std::fs::read(&p).unwrap()).unwrap());
    SimConfig::from_spec_value(load(format!("{ROOT}/specs/{spec}.json")))
        .metadata_value(load(format!("{ROOT}/specs/{spec}.metadata.json")))
}

/// A small deterministic generator (xorshift), so that a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Unix seconds of a stamp (`Y-m-d H:i:s`, UTC).
fn secs(stamp: &str) -> i64 {
    stamp
        .parse::<atrocore_runtime::DateTime>()
        .unwrap()
        .unix_seconds()
}

/// What a delivered change says: deleted or not, the record id, its stamp.
type Seen = (bool, String, i64);

/// Reads one change: checks its watermark and record agree, and that it comes after the
/// previous one of its kind in this run.
fn seen(change: &Change<Value>, last: &mut BTreeMap<bool, (i64, String)>) -> Seen {
    let record = change.record();
    let id = record["id"].as_str().unwrap().to_owned();
    let at = secs(record["modifiedAt"].as_str().unwrap());
    let deleted = change.is_deleted();
    let mark = if deleted {
        change.watermark().deleted.as_ref()
    } else {
        change.watermark().modified.as_ref()
    }
    .expect("a change moves its walk's mark");
    assert_eq!(mark.at.unix_seconds(), at);
    assert_eq!(mark.id.as_deref(), Some(id.as_str()));
    if let Some(before) = last.get(&deleted) {
        assert!(*before < (at, id.clone()), "{before:?} then {at} {id}");
    }
    last.insert(deleted, (at, id.clone()));
    (deleted, id, at)
}

macro_rules! feed_tests {
    ($generation:ident, $krate:ident, $spec:literal) => {
        mod $generation {
            use super::*;
            use $krate::Client;
            use $krate::brand::{BrandPatch, BrandPost};

            fn client(sim: &Simulator) -> Client {
                Client::builder(sim.base_url())
                    .basic_auth("admin", "admin")
                    .build()
                    .unwrap()
            }

            /// The record's state as the test wrote it: its last stamp, deleted or not.
            #[derive(Debug, Clone, Copy)]
            struct Last {
                at: i64,
                deleted: bool,
            }

            async fn run_seed(seed: u64) {
                let sim = Simulator::start(config($spec)).await.unwrap();
                let clock = sim.clock();
                clock.freeze_at(1_780_000_000);
                let client = client(&sim);
                let records = client.runtime().records("Brand");
                let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                // Zero for half the seeds; the others allow one-second clock steps back.
                let settle = if seed % 2 == 0 { 0 } else { 2 };
                let mut state: BTreeMap<String, Last> = BTreeMap::new();
                let mut code_of: BTreeMap<String, String> = BTreeMap::new();
                let mut delivered: BTreeSet<Seen> = BTreeSet::new();
                let mut persisted = serde_json::to_string(&Watermark::beginning()).unwrap();
                let mut serial = 0u64;
                let live = |state: &BTreeMap<String, Last>| -> Vec<String> {
                    state
                        .iter()
                        .filter(|(_, l)| !l.deleted)
                        .map(|(id, _)| id.clone())
                        .collect()
                };
                for _ in 0..70 {
                    serial += 1;
                    let now = clock.now();
                    match rng.below(12) {
                        0..=2 => {
                            let code = format!("c{seed}-{serial}");
                            let created = client
                                .brand()
                                .create(&BrandPost {
                                    code: Some(code.clone()),
                                    ..BrandPost::new(format!("Brand {serial}"))
                                })
                                .await
                                .unwrap();
                            let id = created.id.unwrap().to_string();
                            code_of.insert(id.clone(), code);
                            state.insert(
                                id,
                                Last {
                                    at: now,
                                    deleted: false,
                                },
                            );
                        }
                        3 | 4 => {
                            let ids = live(&state);
                            if ids.is_empty() {
                                continue;
                            }
                            let id = &ids[rng.below(ids.len() as u64) as usize];
                            let patch = BrandPatch {
                                name: Some(format!("Renamed {serial}")),
                                ..Default::default()
                            };
                            client.brand().update(id.as_str(), &patch).await.unwrap();
                            state.get_mut(id).unwrap().at = now;
                        }
                        5 => {
                            // A bulk upsert within one second: new records and renames of
                            // existing ones (found by their unique code).
                            let ids = live(&state);
                            let mut items = Vec::new();
                            let mut renamed = BTreeSet::new();
                            for k in 0..(10 + rng.below(40)) {
                                if !ids.is_empty() && rng.below(3) == 0 {
                                    let id = &ids[rng.below(ids.len() as u64) as usize];
                                    if renamed.insert(id.clone()) {
                                        items.push(BrandPost {
                                            code: Some(code_of[id].clone()),
                                            ..BrandPost::new(format!("Bulk {serial}-{k}"))
                                        });
                                    }
                                } else {
                                    items.push(BrandPost {
                                        code: Some(format!("u{seed}-{serial}-{k}")),
                                        ..BrandPost::new(format!("Bulk {serial}-{k}"))
                                    });
                                }
                            }
                            let report = client.brand().upsert(&items).await.unwrap();
                            assert!(report.is_success(), "{:?}", report.failed_batches);
                            for r in &report.results {
                                let id = r.id.as_ref().unwrap().to_string();
                                state.insert(
                                    id,
                                    Last {
                                        at: now,
                                        deleted: false,
                                    },
                                );
                            }
                            for (item, r) in items.iter().zip(&report.results) {
                                let id = r.id.as_ref().unwrap().to_string();
                                code_of.insert(id, item.code.clone().unwrap());
                            }
                        }
                        6 => {
                            let ids = live(&state);
                            if ids.is_empty() {
                                continue;
                            }
                            let id = &ids[rng.below(ids.len() as u64) as usize];
                            assert!(client.brand().delete(id.as_str()).await.unwrap());
                            *state.get_mut(id).unwrap() = Last {
                                at: now,
                                deleted: true,
                            };
                        }
                        7 | 8 => {
                            if settle > 0 && rng.below(4) == 0 {
                                clock.advance(-1);
                            } else {
                                clock.advance(1 + rng.below(2) as i64);
                            }
                        }
                        _ => {
                            // A feed run from the persisted watermark, consumed in part or to
                            // its end, with writes between its changes (the page after is
                            // already on its way).
                            let from: Watermark = serde_json::from_str(&persisted).unwrap();
                            let mut feed = records
                                .list()
                                .max_size(3 + rng.below(6))
                                .changes_since(&from)
                                .settle(Duration::from_secs(settle))
                                .stream();
                            let budget = 1 + rng.below(40);
                            let mut last = BTreeMap::new();
                            for _ in 0..budget {
                                let Some(change) = feed.try_next().await.unwrap() else {
                                    break;
                                };
                                let s = seen(&change, &mut last);
                                assert!(delivered.insert(s.clone()), "delivered twice: {s:?}");
                                persisted = serde_json::to_string(change.watermark()).unwrap();
                                if rng.below(5) == 0 {
                                    let code = format!("m{seed}-{serial}-{}", rng.below(1 << 30));
                                    let created = client
                                        .brand()
                                        .create(&BrandPost {
                                            code: Some(code.clone()),
                                            ..BrandPost::new("Meanwhile")
                                        })
                                        .await
                                        .unwrap();
                                    let id = created.id.unwrap().to_string();
                                    code_of.insert(id.clone(), code);
                                    state.insert(
                                        id,
                                        Last {
                                            at: clock.now(),
                                            deleted: false,
                                        },
                                    );
                                }
                            }
                        }
                    }
                }
                // Catch up: past every settle time, to the end.
                clock.advance(settle as i64 + 2);
                let from: Watermark = serde_json::from_str(&persisted).unwrap();
                let mut feed = records
                    .list()
                    .max_size(7)
                    .changes_since(&from)
                    .settle(Duration::from_secs(settle))
                    .stream();
                let mut last = BTreeMap::new();
                while let Some(change) = feed.try_next().await.unwrap() {
                    let s = seen(&change, &mut last);
                    assert!(delivered.insert(s.clone()), "delivered twice: {s:?}");
                }
                // Every record's last change was delivered, as the last one for that record.
                let mut newest: BTreeMap<&str, (i64, bool)> = BTreeMap::new();
                for (deleted, id, at) in &delivered {
                    let e = newest.entry(id.as_str()).or_insert((*at, *deleted));
                    if (*at, *deleted) > *e {
                        *e = (*at, *deleted);
                    }
                }
                for (id, l) in &state {
                    assert_eq!(
                        newest.get(id.as_str()),
                        Some(&(l.at, l.deleted)),
                        "seed {seed}: record {id}"
                    );
                }
                assert_eq!(newest.len(), state.len(), "seed {seed}");
            }

            #[tokio::test]
            async fn random_writes_and_restarts_deliver_every_change_once() {
                for seed in 1..=8 {
                    run_seed(seed).await;
                }
            }

            /// 5 000 records upserted within one second are one tie group: read by id in
            /// pages, interrupted and resumed from the persisted watermark, all delivered once,
            /// and not before their second is over.
            #[tokio::test]
            async fn a_bulk_upsert_within_one_second_is_delivered_whole() {
                let sim = Simulator::start(config($spec)).await.unwrap();
                let clock = sim.clock();
                clock.freeze_at(1_780_000_000);
                let client = client(&sim);
                let items: Vec<BrandPost> = (0..5_000)
                    .map(|i| BrandPost {
                        code: Some(format!("b{i:05}")),
                        ..BrandPost::new(format!("Brand {i}"))
                    })
                    .collect();
                let report = client.brand().upsert(&items).await.unwrap();
                assert!(report.is_success(), "{:?}", report.failed_batches);
                let feed = |from: &Watermark| {
                    client
                        .brand()
                        .list()
                        .max_size(200)
                        .changes_since(from)
                        .settle(Duration::ZERO)
                        .deletions(false)
                        .stream()
                };
                // Their second is not over: nothing yet.
                let none: Vec<_> = feed(&Watermark::beginning()).try_collect().await.unwrap();
                assert!(none.is_empty());
                clock.advance(1);
                let mut ids = Vec::new();
                let mut stream = feed(&Watermark::beginning());
                let mut saved = String::new();
                while ids.len() < 1_234 {
                    let change = stream.try_next().await.unwrap().unwrap();
                    ids.push(change.record().id.clone().unwrap().to_string());
                    saved = serde_json::to_string(change.watermark()).unwrap();
                }
                drop(stream);
                let from: Watermark = serde_json::from_str(&saved).unwrap();
                let rest: Vec<_> = feed(&from).try_collect().await.unwrap();
                ids.extend(
                    rest.iter()
                        .map(|c| c.record().id.clone().unwrap().to_string()),
                );
                assert_eq!(ids.len(), 5_000);
                let mut sorted = ids.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(sorted, ids, "by id, once each");
            }
        }
    };
}

feed_tests!(v22, atrocore_client, "atrocore-2.2-pim-default");
feed_tests!(v23, atrocore_client_23, "atrocore-2.3-pim-small");
