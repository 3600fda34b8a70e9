//! `not` and `NULL` semantics end to end: random filter trees built with the generated crate's
//! typed handles go through the runtime (which never sends a `not`: AtroCore ignores it) to the
//! simulator (which models AtroCore's `where`, `not` defects included); the answer must equal a
//! reference evaluator's over the records the server stored.

mod support;

use atrocore_client::Client;
use atrocore_client::product::Product;
use atrocore_client::product::{ProductPatch, ProductPost, filter as p};
use atrocore_runtime::{Filter, Patch};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

/// One record as the server stored it: the three fields the filters look at.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    price: Option<f64>,
    mpn: Option<String>,
    active: Option<bool>,
}

/// A filter tree: the test builds both the typed filter and the reference answer from it.
#[derive(Debug, Clone)]
enum Tree {
    PriceGt(i32),
    PriceLe(i32),
    PriceEq(i32),
    PriceBetween(i32, i32),
    PriceIn(Vec<i32>),
    PriceNull,
    MpnEq(&'static str),
    MpnLike(&'static str),
    MpnContains(&'static str),
    MpnStarts(&'static str),
    MpnNull,
    Active,
    Inactive,
    And(Vec<Tree>),
    Or(Vec<Tree>),
    Not(Box<Tree>),
}

const PRICES: [Option<i32>; 4] = [None, Some(1), Some(5), Some(10)];
const MPNS: [Option<&str>; 5] = [None, Some("abc"), Some("ABD"), Some("xyz"), Some("")];
const ACTIVE: [Option<bool>; 3] = [None, Some(true), Some(false)];

fn leaf() -> impl Strategy<Value = Tree> {
    let n = 0..12i32;
    let word = prop::sample::select(vec!["abc", "ABC", "ab", "AB", "x", "d", "zz"]);
    let pattern = prop::sample::select(vec!["abc", "ABC", "a%", "%B%", "%d", "xyz", "%"]);
    prop_oneof![
        n.clone().prop_map(Tree::PriceGt),
        n.clone().prop_map(Tree::PriceLe),
        n.clone().prop_map(Tree::PriceEq),
        (n.clone(), n.clone()).prop_map(|(a, b)| Tree::PriceBetween(a.min(b), a.max(b))),
        prop::collection::vec(n, 1..3).prop_map(Tree::PriceIn),
        Just(Tree::PriceNull),
        word.clone().prop_map(Tree::MpnEq),
        pattern.prop_map(Tree::MpnLike),
        word.clone().prop_map(Tree::MpnContains),
        word.prop_map(Tree::MpnStarts),
        Just(Tree::MpnNull),
        Just(Tree::Active),
        Just(Tree::Inactive),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::And),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Tree::Or),
            inner.prop_map(|t| Tree::Not(Box::new(t))),
        ]
    })
}

fn filter(t: &Tree) -> Filter<Product> {
    match t {
        Tree::PriceGt(v) => p::price().greater_than(*v),
        Tree::PriceLe(v) => p::price().less_than_or_equals(*v),
        Tree::PriceEq(v) => p::price().equals(*v),
        Tree::PriceBetween(a, b) => p::price().between(*a, *b),
        Tree::PriceIn(vs) => p::price().in_(vs.iter().copied()),
        Tree::PriceNull => p::price().is_null(),
        Tree::MpnEq(s) => p::mpn().equals(*s),
        Tree::MpnLike(s) => p::mpn().like(*s),
        Tree::MpnContains(s) => p::mpn().contains(*s),
        Tree::MpnStarts(s) => p::mpn().starts_with(*s),
        Tree::MpnNull => p::mpn().is_null(),
        Tree::Active => p::is_active().is_true(),
        Tree::Inactive => p::is_active().is_false(),
        Tree::And(ts) => Filter::all(ts.iter().map(filter)),
        Tree::Or(ts) => Filter::any(ts.iter().map(filter)),
        Tree::Not(t) => filter(t).not(),
    }
}

/// SQL `LIKE` where `%` is any text (the test's patterns hold no `_`).
fn like(text: &str, pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.split('%').collect();
    if parts.len() == 1 {
        return text == pattern;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// AtroCore's meaning: positive operators never match `NULL`; `like` lower-cases both sides
/// only when the pattern holds `%` (`contains`/`startsWith` always hold one); `not` is the
/// complement of the records matched.
fn eval(t: &Tree, r: &Row) -> bool {
    let price = |f: &dyn Fn(f64) -> bool| r.price.is_some_and(f);
    let mpn = |f: &dyn Fn(&str) -> bool| r.mpn.as_deref().is_some_and(f);
    match t {
        Tree::PriceGt(v) => price(&|x| x > f64::from(*v)),
        Tree::PriceLe(v) => price(&|x| x <= f64::from(*v)),
        Tree::PriceEq(v) => price(&|x| x == f64::from(*v)),
        Tree::PriceBetween(a, b) => price(&|x| x >= f64::from(*a) && x <= f64::from(*b)),
        Tree::PriceIn(vs) => price(&|x| vs.iter().any(|v| x == f64::from(*v))),
        Tree::PriceNull => r.price.is_none(),
        Tree::MpnEq(s) => mpn(&|m| m == *s),
        Tree::MpnLike(s) if s.contains('%') => mpn(&|m| like(&m.to_lowercase(), &s.to_lowercase())),
        Tree::MpnLike(s) => mpn(&|m| like(m, s)),
        Tree::MpnContains(s) => mpn(&|m| m.to_lowercase().contains(&s.to_lowercase())),
        Tree::MpnStarts(s) => mpn(&|m| m.to_lowercase().starts_with(&s.to_lowercase())),
        Tree::MpnNull => r.mpn.is_none(),
        Tree::Active => r.active == Some(true),
        Tree::Inactive => r.active == Some(false),
        Tree::And(ts) => ts.iter().all(|t| eval(t, r)),
        Tree::Or(ts) => ts.iter().any(|t| eval(t, r)),
        Tree::Not(t) => !eval(t, r),
    }
}

async fn seed(c: &Client) -> Vec<Row> {
    let mut k = 0;
    for price in PRICES {
        for mpn in MPNS {
            for active in ACTIVE {
                k += 1;
                // Not every combination: enough rows for each value to meet each other.
                if k % 2 == 0 && price.is_some() && active.is_some() {
                    continue;
                }
                let post = ProductPost {
                    price: price.map(f64::from),
                    mpn: mpn.map(str::to_string),
                    is_active: active,
                    ..ProductPost::new(format!("P{k}"), format!("N{k}"))
                };
                let created = c.product().create(&post).await.expect("seed product");
                if active.is_none() {
                    // A create without the flag gets the default; clear it to have NULL flags.
                    let id = created.id.unwrap();
                    let clear = ProductPatch {
                        is_active: Patch::Null,
                        ..Default::default()
                    };
                    match c.product().update(&id, &clear).await {
                        Ok(_) => {}
                        Err(e) if e.status() == Some(304) => {}
                        Err(e) => panic!("clear isActive: {e}"),
                    }
                }
            }
        }
    }
    // The rows as the server stored them (defaults applied), which the reference reads.
    let all = c.product().list().max_size(200).await.expect("list all");
    all.list
        .into_iter()
        .map(|p| Row {
            id: p.id.clone().map(String::from).unwrap_or_default(),
            price: p.price,
            mpn: p.mpn.clone(),
            active: p.is_active,
        })
        .collect()
}

#[test]
fn filters_with_not_return_what_the_reference_evaluator_returns() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(support::start_with(Default::default()));
    let c = support::client(&sim, 0);
    let rows = rt.block_on(seed(&c));
    assert!(rows.len() > 30, "seeded {}", rows.len());
    assert!(
        rows.iter().any(|r| r.active.is_none()),
        "some flags are NULL"
    );
    assert!(rows.iter().any(|r| r.price.is_none() && r.mpn.is_some()));
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(160);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&tree(), |t| {
            let got =
                rt.block_on(async { c.product().list().filter(filter(&t)).max_size(200).await });
            let got = got.map_err(|e| TestCaseError::fail(format!("{t:?}: {e}")))?;
            let mut got: Vec<String> = got
                .list
                .into_iter()
                .filter_map(|p| p.id.map(String::from))
                .collect();
            let mut want: Vec<String> = rows
                .iter()
                .filter(|r| eval(&t, r))
                .map(|r| r.id.clone())
                .collect();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want, "{:?}", t);
            Ok(())
        })
        .unwrap();
    rt.block_on(sim.shutdown());
}

/// The same trees sent raw (a `not` inside a group, as a client without the rewrite would) lose
/// conditions on the simulator, as on AtroCore: the property above is not true by construction.
#[test]
fn a_raw_not_is_ignored_by_the_server() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(support::start_with(Default::default()));
    let c = support::client(&sim, 0);
    let rows = rt.block_on(seed(&c));
    let url = format!(
        "{}/Product?maxSize=200&where[0][type]=or\
         &where[0][value][0][type]=isNull&where[0][value][0][attribute]=price\
         &where[0][value][1][type]=not&where[0][value][1][value][0][type]=isNull\
         &where[0][value][1][value][0][attribute]=mpn",
        sim.api_url()
    );
    let raw: Value = rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let raw_total = raw["total"].as_u64().unwrap() as usize;
    let price_null = rows.iter().filter(|r| r.price.is_none()).count();
    // `price is null or not(mpn is null)` lost its `not`: only `price is null` is applied.
    assert_eq!(raw_total, price_null);
    // Through the runtime the same filter means what it says.
    let t = Tree::Or(vec![Tree::PriceNull, Tree::Not(Box::new(Tree::MpnNull))]);
    let got = rt
        .block_on(async { c.product().list().filter(filter(&t)).max_size(200).await })
        .unwrap();
    let want = rows.iter().filter(|r| eval(&t, r)).count();
    assert_eq!(got.list.len(), want);
    assert!(want > price_null);
    rt.block_on(sim.shutdown());
}

/// What the server would silently misread is refused before sending: more query variables than
/// PHP's `max_input_vars`, an operator AtroCore does not know, a negation it cannot express.
#[tokio::test]
async fn unreadable_filters_are_refused_before_sending() {
    let sim = support::start_with(Default::default()).await;
    let c = support::client(&sim, 0);
    let ids: Vec<String> = (0..1200).map(|i| format!("id{i}")).collect();
    let e = c
        .product()
        .list()
        .filter(p::brand_id().in_(ids.clone()))
        .await
        .unwrap_err();
    assert!(e.is_query(), "{e}");
    assert!(e.to_string().contains("1000"), "{e}");
    // The boundary: PHP's 1000 include the rewrite's `atroq`, so 999 are the client's. With
    // 2 + 997 variables the last value still reaches the server; one more is refused.
    let product = c
        .product()
        .create(&ProductPost::new("Edge", "E-1"))
        .await
        .unwrap();
    let sent_before = sim.request_count();
    let mut edge: Vec<String> = (0..996).map(|i| format!("none{i}")).collect();
    edge.push(product.id.clone().unwrap().into_string());
    let page = c
        .product()
        .list()
        .filter(p::id().in_(edge.clone()))
        .await
        .unwrap();
    assert_eq!(page.total, 1, "the 999th variable was read");
    edge.insert(0, "one-more".into());
    let e = c
        .product()
        .list()
        .filter(p::id().in_(edge))
        .await
        .unwrap_err();
    assert!(e.is_query() && e.to_string().contains("999"), "{e}");
    assert_eq!(sim.request_count(), sent_before + 1);
    let before = sim.request_count();
    let e = c
        .product()
        .list()
        .filter(Filter::raw(atrocore_runtime::Where::from(
            atrocore_runtime::Condition::new("equalz")
                .attribute("name")
                .value("x"),
        )))
        .await
        .unwrap_err();
    assert!(e.is_query() && e.to_string().contains("equalz"), "{e}");
    let e = c
        .product()
        .list()
        .filter(p::created_at().today().not())
        .await
        .unwrap_err();
    assert!(e.is_query() && e.to_string().contains("today"), "{e}");
    assert_eq!(sim.request_count(), before, "nothing was sent");
    // A server configured with a higher limit is reached once the client is told so.
    let c = atrocore_client::Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .max_input_vars(5000)
        .build()
        .unwrap();
    let page = c
        .product()
        .list()
        .filter(p::brand_id().in_(ids))
        .await
        .unwrap();
    assert_eq!(page.total, 0);
    sim.shutdown().await;
}

/// Date-time conditions read their days in the time zone sent with them (AtroCore's
/// `convertDateTimeWhere`: the item's `timeZone`, else UTC): per filter or per client.
#[tokio::test]
async fn date_time_days_are_read_in_the_requested_time_zone() {
    use atrocore_client::sharing::{SharingPost, filter as s};
    let sim = support::start_with(Default::default()).await;
    let c = support::client(&sim, 0);
    let file = c
        .runtime()
        .upload_bytes("tz.txt", b"tz".to_vec())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for at in [
        "2026-01-14 22:30:00",
        "2026-01-14 23:30:00",
        "2026-01-15 22:30:00",
        "2026-01-15 23:30:00",
    ] {
        let post = SharingPost {
            valid_till: Some(at.parse().unwrap()),
            ..SharingPost::new(file.id.clone())
        };
        ids.push(String::from(
            c.sharing().create(&post).await.unwrap().id.unwrap(),
        ));
    }
    let found = |page: atrocore_runtime::ListResult<atrocore_client::sharing::Sharing>| {
        let mut got: Vec<String> = page
            .list
            .into_iter()
            .filter_map(|r| r.id.map(String::from))
            .collect();
        got.sort();
        got
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let day15: atrocore_runtime::Date = "2026-01-15".parse().unwrap();
    // UTC: the 15th is 00:00:00–23:59:59 UTC.
    let utc = c
        .sharing()
        .list()
        .filter(s::valid_till().on(day15))
        .await
        .unwrap();
    assert_eq!(found(utc), sorted(vec![ids[2].clone(), ids[3].clone()]));
    // Berlin (UTC+1 in January): 14th 23:00 to 15th 22:59:59 UTC.
    let berlin = c
        .sharing()
        .list()
        .filter(s::valid_till().on(day15).time_zone("Europe/Berlin"))
        .await
        .unwrap();
    assert_eq!(found(berlin), sorted(vec![ids[1].clone(), ids[2].clone()]));
    // The client's default zone, and its negation (with the zone kept on the complement).
    let c = atrocore_client::Client::builder(sim.base_url())
        .basic_auth("admin", "admin")
        .time_zone("Europe/Berlin")
        .build()
        .unwrap();
    let berlin = c
        .sharing()
        .list()
        .filter(s::valid_till().before(day15))
        .await
        .unwrap();
    assert_eq!(found(berlin), vec![ids[0].clone()]);
    let not_before = c
        .sharing()
        .list()
        .filter(s::valid_till().before(day15).not())
        .await
        .unwrap();
    assert_eq!(
        found(not_before),
        sorted(vec![ids[1].clone(), ids[2].clone(), ids[3].clone()])
    );
    sim.shutdown().await;
}
