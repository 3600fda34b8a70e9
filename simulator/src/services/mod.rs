//! What AtroCore's services do, over the store: records, links, upsert, attributes, files.
//!
//! Layers, lowest first: `attributes` and `file_output` (read and write per-record extras) ←
//! `output` (a record's answer shape) ← `records` (CRUD and the checks of a write) ← `lists`
//! (`GET /E` and linked lists) ← `links`, `upsert`, `mass`, `files` (flows over records);
//! `jobs` (a job record around work run at once) sits beside `records`.
//! A lower module never calls a higher one.

pub mod attributes;
pub mod file_output;
pub mod files;
pub mod jobs;
pub mod language;
pub mod links;
pub mod lists;
pub mod mass;
pub mod output;
pub mod records;
pub mod timezone;
pub mod upsert;
