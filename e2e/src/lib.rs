//! End-to-end tests live in `tests/`: the generated example client (`atrocore-client`) calls
//! the runtime, which talks real HTTP to the simulator (`atrocore-sim`). This crate has no code
//! of its own besides [`tour`] (the guide's tasks through the typed API of both generated
//! crates, run by `examples/tour.rs` and `tests/tour.rs`); it exists so the generated crates'
//! manifests stay exactly what the generator writes.

pub mod tour;

/// The README's examples, compiled (and not run) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
