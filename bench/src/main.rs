//! Client-overhead benchmarks of atrocore-rs, one process per role (driven by
//! `cargo xtask bench --client`, which starts them, repeats runs and compares):
//!
//! - `server`: a fast static AtroCore 2.2-shaped server answering from memory (product pages by
//!   offset and by keyset, token login, a chunk sink that hashes what it receives, a mass upsert
//!   that parses and answers every item), so that the client's own cost is what is measured;
//! - `client <ROLE>`: one measured run of the generated client (`atrocore-client` through the
//!   runtime) or of its hand-written reqwest + serde_json baseline doing the same work; prints
//!   one JSON line with the time, the checks' figures, peak RSS and CPU time;
//! - `make-file`: writes the upload source and prints its size and MD5.

#![recursion_limit = "256"] // the `json!` of a full product record

mod client;
mod data;
mod server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "atrocore-bench",
    about = "atrocore-rs client-overhead benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve AtroCore-shaped answers from memory on 127.0.0.1 until stdin closes.
    Server(server::ServerArgs),
    /// One measured run of a client role.
    Client(client::ClientArgs),
    /// Write the upload source file (deterministic bytes) and print `{size, md5}`.
    MakeFile(data::MakeFileArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server(args) => server::run(args),
        Command::Client(args) => client::run(args),
        Command::MakeFile(args) => data::make_file(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
