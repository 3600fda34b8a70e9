//! Stage 3: IR → Rust tokens → formatted files. Never sees the spec.
//!
//! Emitted code refers to everything outside its own crate by absolute path
//! (`::atrocore_runtime::…`, `::std::…`) and depends only on the runtime crate. The only
//! unqualified names are prelude items (`Option`, `String`, `Vec`, the derivable traits):
//! `naming` forbids generated types to take those names, so nothing can shadow them.

/// The files of a generated crate, by path relative to the crate root.
pub type Files = BTreeMap<String, String>;

mod attributes;
mod crate_files;
mod ctx;
mod doc;
mod fields;
mod module;
mod operation;
mod types;

use crate_files::*;
use ctx::*;
use doc::*;
use module::*;
use operation::*;
use types::*;

/// Format tokens as a Rust file with the preamble.
fn format_file(path: &str, tokens: TokenStream, preamble: &str) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| Error::Emit {
        file: path.to_owned(),
        message: format!("generated tokens do not parse: {e}"),
    })?;
    let body = prettyplease::unparse(&file);
    Ok(format!("{preamble}\n{body}"))
}

/// Emit every file of the generated crate.
pub fn emit(api: &Api, settings: &Settings) -> Result<Files, Error> {
    let pre = preamble(settings, "//");
    // One job per module file; jobs run on all cores (token building and pretty-printing
    // dominate the run time, and modules are independent). Output order does not depend on
    // scheduling: results are collected into a sorted map.
    enum Job<'a> {
        Entity(&'a Entity),
        Group(&'a Group),
        Types,
        Ids,
    }
    let mut jobs: Vec<Job> = api.entities.iter().map(Job::Entity).collect();
    jobs.extend(api.groups.iter().map(Job::Group));
    if !api.shared_types.is_empty() || !api.shared_params.is_empty() {
        jobs.push(Job::Types);
    }
    if !api.id_types.is_empty() {
        jobs.push(Job::Ids);
    }
    let run = |job: &Job| -> Result<(String, String), Error> {
        let (module, tokens) = match job {
            Job::Entity(e) => (e.module.as_str(), entity_module(api.ctx(&e.module), e)),
            Job::Group(g) => (g.module.as_str(), group_module(api.ctx(&g.module), g)),
            Job::Types => {
                let inner = module_inner_doc(
                    "Types shared by several routes (the spec's component schemas that are not entities).",
                    None,
                );
                let cx = api.ctx(TYPES_MODULE);
                let defs = type_defs(cx, &api.shared_types);
                let params = api
                    .shared_params
                    .iter()
                    .map(|p| params_struct(cx, &p.name, &p.doc, &p.params));
                (TYPES_MODULE, quote!(#inner #defs #(#params)*))
            }
            Job::Ids => (crate::naming::IDS_MODULE, ids_module(api)),
        };
        let path = format!("src/{module}.rs");
        let text = format_file(&path, tokens, &pre)?;
        Ok((path, text))
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<(String, String), Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        done.push(run(job));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("emit worker panicked"))
            .collect()
    });
    let mut files = Files::new();
    for r in results {
        let (path, text) = r?;
        files.insert(path, text);
    }
    files.insert(
        "src/lib.rs".into(),
        format_file("src/lib.rs", lib_rs(api, settings), &pre)?,
    );
    files.insert("Cargo.toml".into(), manifest(api, settings));
    // The files are formatted by prettyplease; keep `cargo fmt` in a surrounding workspace from
    // rewriting them (a reformatted file would be reported stale and make noisy diffs).
    files.insert(
        "rustfmt.toml".into(),
        format!("{}disable_all_formatting = true\n", preamble(settings, "#")),
    );
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::serde_camel_case;

    /// Our copy of serde's rule must agree with serde itself on the shapes `naming` produces.
    #[test]
    fn camel_case_matches_serde() {
        #[derive(serde::Serialize, Default)]
        #[serde(rename_all = "camelCase")]
        #[allow(non_snake_case)]
        struct S {
            name_de_de: u8,
            n3d_model: u8,
            type_: u8,
            a_b_2: u8,
            position_2: u8,
            id: u8,
            is_active: u8,
            _meta: u8,
        }
        let value = serde_json::to_value(S::default()).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        let ours: Vec<String> = [
            "name_de_de",
            "n3d_model",
            "type_",
            "a_b_2",
            "position_2",
            "id",
            "is_active",
            "_meta",
        ]
        .iter()
        .map(|f| serde_camel_case(f))
        .collect();
        let mut keys: Vec<String> = keys.into_iter().cloned().collect();
        let mut ours_sorted = ours.clone();
        keys.sort();
        ours_sorted.sort();
        assert_eq!(keys, ours_sorted);
    }
}
