//! End-to-end tests live in `tests/`: the generated example client (`atrocore-client`) calls
//! the runtime, which talks real HTTP to the simulator (`atrocore-sim`). This crate has no code
//! of its own; it exists so the generated crate's manifest stays exactly what the generator
//! writes.
