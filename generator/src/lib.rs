//! atrocore-codegen: turns an AtroCore OpenAPI spec into a typed Rust client crate.
//!
//! The pipeline has three stages, each in its own module:
//! [`spec`] (load and resolve, no interpretation) → [`lower`] (spec → [`ir`], every AtroCore
//! quirk handled there) → [`emit`] (IR → tokens → formatted files). The library does no I/O:
//! it takes spec text and returns file contents; the `xtask` binary reads and writes the disk.
//!
//! ```
//! let spec = atrocore_codegen::spec::Spec::parse("inline.json", r#"{
//!   "openapi": "3.0.0", "servers": [{"url": "/api/v1"}],
//!   "paths": {"/Brand": {"get": {"tags": ["Brand"]}}, "/Brand/{id}": {"get": {"tags": ["Brand"]}}},
//!   "components": {"schemas": {"Brand": {"type": "object", "properties": {"name": {"type": "string"}}}}}
//! }"#)?;
//! let out = atrocore_codegen::generate(&spec, &atrocore_codegen::Settings::default())?;
//! assert!(out.files.contains_key("src/brand.rs"));
//! # Ok::<(), atrocore_codegen::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]

mod boxing;
pub mod emit;
mod features;
pub mod ir;
pub mod lower;
pub mod naming;
pub mod path;
pub mod reduce;
pub mod select;
mod share;
pub mod spec;
pub mod summary;

use serde_json::Value;

/// Everything that can go wrong, each saying where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not JSON/YAML.
    #[error("{origin}: {message}")]
    Parse {
        /// File or URL.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// The document is not a usable spec at `pointer`.
    #[error("{origin}#{pointer}: {message}")]
    Spec {
        /// File or URL.
        origin: String,
        /// JSON pointer into the document.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The entity filter names something the spec does not have.
    #[error("entity filter: {0}")]
    Filter(String),
    /// A setting is unusable.
    #[error("settings: {0}")]
    Settings(String),
    /// A generated file failed to parse (a generator bug).
    #[error("internal error while generating {file}: {message}")]
    Emit {
        /// The file being generated.
        file: String,
        /// The parser's message.
        message: String,
    },
}

/// Which entities to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityFilter {
    /// Only these entities (all when empty).
    pub include: Vec<String>,
    /// Never these entities.
    pub exclude: Vec<String>,
    /// With instance metadata, also select the targets of the selected entities' required
    /// links, transitively (on by default; see [`select`]).
    pub required_links: bool,
}

impl Default for EntityFilter {
    fn default() -> EntityFilter {
        EntityFilter {
            include: Vec::new(),
            exclude: Vec::new(),
            required_links: true,
        }
    }
}

/// How the generated manifest refers to the runtime crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeDependency {
    /// A path, relative to the generated crate's folder.
    Path(String),
    /// A crates.io version requirement.
    Version(String),
    /// A git repository holding the runtime (cargo finds the package by name in it).
    Git {
        /// The repository's URL (`https://…`, `ssh://…`, `file://…`).
        url: String,
        /// The commit (or other revision) to build; the default branch's head when `None`.
        rev: Option<String>,
    },
}

/// Generation settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The generated package's name.
    pub crate_name: String,
    /// How the manifest points at the runtime.
    pub runtime: RuntimeDependency,
    /// Entities to generate.
    pub filter: EntityFilter,
    /// Names the spec in file preambles (a relative path or URL; never an absolute local path).
    pub spec_label: String,
    /// The command that produced the files, for preambles.
    pub command: String,
    /// Add an empty `[workspace]` table so the crate builds outside any workspace.
    pub standalone_workspace: bool,
    /// The instance's metadata (`GET …/Metadata`), for real field kinds (dates, links, enums).
    pub metadata: Option<Value>,
    /// The instance's attribute definitions, for typed attribute handles per entity.
    pub attributes: Option<AttributeDefinitions>,
}

/// The instance's attribute definitions (the file `generate --fetch-attributes` writes; its
/// shape is in the docs of `lower/attributes.rs`) and where they were read from (for errors).
#[derive(Debug, Clone)]
pub struct AttributeDefinitions {
    /// The file's path or URL, as errors name it.
    pub origin: String,
    /// Its contents.
    pub file: Value,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            crate_name: "atrocore-client".into(),
            runtime: RuntimeDependency::Version(env!("CARGO_PKG_VERSION").into()),
            filter: EntityFilter::default(),
            spec_label: "(inline)".into(),
            command: "cargo xtask generate".into(),
            standalone_workspace: false,
            metadata: None,
            attributes: None,
        }
    }
}

/// The result of a generation run.
#[derive(Debug)]
pub struct Output {
    /// The IR the files were emitted from.
    pub api: ir::Api,
    /// File path (relative to the crate root) → contents.
    pub files: emit::Files,
    /// Which entities were generated, and what following required links added or left unmet.
    pub selection: select::Selection,
}

/// Generate a crate from a loaded spec. Pure: same spec and settings → same files.
pub fn generate(spec: &spec::Spec, settings: &Settings) -> Result<Output, Error> {
    let name = &settings.crate_name;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(Error::Settings(format!(
            "crate name {name:?} is not a valid package name (ASCII letters, digits, `-` and `_`, starting with a letter)"
        )));
    }
    let selection = select::select_entities(
        &lower::entity_names(spec),
        &settings.filter,
        settings.metadata.as_ref(),
    )?;
    let api = lower::lower_entities(spec, settings, selection.entities.clone())?;
    let mut files = emit::emit(&api, settings)?;
    files.insert(summary::FILE.into(), summary::Summary::of(&api).to_json());
    Ok(Output {
        api,
        files,
        selection,
    })
}
