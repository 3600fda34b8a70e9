//! No import cycle between the modules of any hand-written crate: each crate's modules form
//! layers, a module using only those below it.
//!
//! Read from the source text, as `cargo modules dependencies --acyclic` would read the crate:
//! module `a` depends on module `b` when `a` names a path into `b`: `crate::b::…`,
//! `super::b::…`, `super::Item` (the parent module), `use super::*` (the parent), or `b::…`
//! where `b` is a sibling or child module. The crate root (`lib.rs`, `main.rs`) is left out:
//! it declares and re-exports every module. Unit-test modules (`#[cfg(test)] mod tests`, at a
//! file's end by this project's convention) are left out too. The generated crates are not
//! checked: their entity modules name each other's types as the instance's links do.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The hand-written crates' source folders, from the workspace root.
const CRATES: &[&str] = &[
    "runtime/src",
    "generator/src",
    "simulator/src",
    "cli/src",
    "testkit/src",
    "kinds/src",
    "xtask/src",
    "bench/src",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every `.rs` file under `dir` with its module path (`http::execute`; the root is `""`).
fn modules(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(dir).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            // A binary of its own (`src/bin/x.rs`) is another crate root.
            if parts.first().map(String::as_str) == Some("bin") {
                continue;
            }
            out.insert(parts.join("::"), path);
        }
    }
    out
}

/// The text of a file without comments and without its unit-test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths written in `code` as lists of segments, each starting at an identifier that
/// follows no `::` (so `a::b::c` once, not also `b::c`).
fn paths(code: &str) -> Vec<Vec<&str>> {
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_ident(bytes[i]) || (i > 0 && is_ident(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let after_colons = i >= 2 && &bytes[i - 2..i] == b"::";
        let mut segments = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < bytes.len() && is_ident(bytes[j]) {
                j += 1;
            }
            segments.push(&code[start..j]);
            if code[j..].starts_with("::") {
                j += 2;
                if j < bytes.len() && bytes[j] == b'*' {
                    segments.push("*");
                    j += 1;
                    break;
                }
                if j < bytes.len() && is_ident(bytes[j]) {
                    continue;
                }
            }
            break;
        }
        if !after_colons && segments.len() > 1 {
            out.push(segments);
        }
        i = j.max(i + 1);
    }
    out
}

/// `module`'s parent (`""` for a top-level module).
fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        format!("{base}::{name}")
    }
}

/// The module a path starting in `module` leads into: the longest known module prefix.
fn target(module: &str, path: &[&str], known: &BTreeMap<String, PathBuf>) -> Option<String> {
    let (mut base, rest) = match path[0] {
        "crate" => (String::new(), &path[1..]),
        "super" => {
            let mut base = parent(module).to_owned();
            let mut rest = &path[1..];
            while rest.first() == Some(&"super") {
                base = parent(&base).to_owned();
                rest = &rest[1..];
            }
            (base, rest)
        }
        "self" => (module.to_owned(), &path[1..]),
        // A child or a sibling module named plainly (brought in by `mod` or a glob import).
        first if known.contains_key(&join(module, first)) => (module.to_owned(), path),
        first if known.contains_key(&join(parent(module), first)) => {
            (parent(module).to_owned(), path)
        }
        _ => return None,
    };
    for seg in rest {
        let next = join(&base, seg);
        if known.contains_key(&next) {
            base = next;
        } else {
            break;
        }
    }
    Some(base)
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let lw = s.low[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w.as_str()) {
                let iw = s.index[w.as_str()];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

/// `module → modules it depends on` for one crate, the root left out.
fn dependencies(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let known = modules(dir);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &known {
        if module.is_empty() {
            continue;
        }
        let deps = edges.entry(module.clone()).or_default();
        for p in paths(&code(path)) {
            if let Some(t) = target(module, &p, &known)
                && !t.is_empty()
                && t != *module
            {
                deps.insert(t);
            }
        }
    }
    edges
}

#[test]
fn the_hand_written_crates_have_no_import_cycles() {
    let root = workspace_root();
    let mut found = Vec::new();
    for krate in CRATES {
        assert!(
            !modules(&root.join(krate)).is_empty(),
            "{krate}: no source read"
        );
        let edges = dependencies(&root.join(krate));
        for component in cycles(&edges) {
            let ties: Vec<String> = component
                .iter()
                .flat_map(|a| {
                    edges[a]
                        .iter()
                        .filter(|b| component.contains(b))
                        .map(move |b| format!("{a} -> {b}"))
                })
                .collect();
            found.push(format!("{krate}: {}", ties.join(", ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

#[test]
fn a_cycle_is_found() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycles(&edges), vec![vec!["a", "b", "c"]]);
}

#[test]
fn paths_are_read_whole() {
    let p = paths("use crate::http::execute::{A, B};\nlet x = super::Item; use super::*;");
    assert_eq!(
        p,
        vec![
            vec!["crate", "http", "execute"],
            vec!["super", "Item"],
            vec!["super", "*"]
        ]
    );
}
