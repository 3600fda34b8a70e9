//! What AtroCore's specs repeat per entity (the `language` header enum, link bodies,
//! mass-action bodies, linked-list parameters) is defined once, in `types`, in the crate
//! generated from every real spec; the entity modules re-export it.

use std::collections::BTreeMap;

use atrocore_codegen::{Settings, generate, spec::Spec};

const REPEATED: &[&str] = &[
    "Language",
    "LinkBody",
    "LinkedParams",
    "UnlinkParams",
    "MassUpdateBody",
    "MassDeleteBody",
    "AddRelationBody",
    "RemoveRelationBody",
];

#[test]
fn repeated_types_are_defined_once_in_every_real_spec() {
    let Some(dir) = atrocore_testkit::reference_dir() else {
        return;
    };
    let entries = std::fs::read_dir(dir.join("specs")).unwrap();
    let mut specs: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    specs.sort();
    for path in specs {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let spec = Spec::parse(name.clone(), &text).unwrap();
        let out = generate(&spec, &Settings::default()).unwrap();
        // Every `pub struct X` / `pub enum X` by name → the files defining it.
        let mut defined: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (file, text) in &out.files {
            for line in text.lines() {
                let rest = line
                    .strip_prefix("pub struct ")
                    .or_else(|| line.strip_prefix("pub enum "));
                if let Some(rest) = rest {
                    let ty: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    defined.entry(ty).or_default().push(file.clone());
                }
            }
        }
        for ty in REPEATED {
            if let Some(files) = defined.get(*ty) {
                // An entity of the same name (2.2 core has `Language`) has its own module, and
                // the marker of its ids (`ids::Language`, an uninhabited enum).
                let entity_module = format!("src/{}.rs", ty.to_lowercase());
                let elsewhere: Vec<_> = files
                    .iter()
                    .filter(|f| !["src/types.rs", "src/ids.rs"].contains(&f.as_str()))
                    .filter(|f| **f != entity_module)
                    .collect();
                // One module of its own is fine (2.2's `UserProfile` group keeps the raw link
                // routes no entity handle covers); two copies are not.
                assert!(
                    elsewhere.len() <= usize::from(!files.iter().any(|f| f == "src/types.rs")),
                    "{name}: `{ty}` also defined in {elsewhere:?}"
                );
            }
        }
        // 2.2 specs repeat these per entity (the link and mass routes the runtime serves are
        // not generated: the `language` enum and the relation bodies remain); 2.3 has generic
        // routes (`/entityRelation`).
        assert!(
            !name.contains("2.2")
                || REPEATED
                    .iter()
                    .filter(|t| defined
                        .get(**t)
                        .is_some_and(|f| f.iter().any(|f| f == "src/types.rs")))
                    .count()
                    >= 2,
            "{name}: the repeated types were expected in this spec"
        );
        // The entity modules keep the old paths.
        let product = out
            .files
            .get("src/product.rs")
            .or(out.files.get("src/brand.rs"));
        if let Some(module) = product {
            assert!(module.contains("pub use crate::types::{"), "{name}");
        }
    }
}
