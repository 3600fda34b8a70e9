//! `atro`, the AtroCore command line: see `atro --help` and the README section "Command-line
//! tool: atro".
//!
//! Modules, one concern each: [`args`] (the command line), [`connection`] and [`profiles`]
//! (where and who), [`metadata`] (entities and fields from the instance), [`filter_lang`] (the
//! `--where` language), [`output`] and [`progress`] (what is shown), [`commands`] (one module
//! per command), [`exit`] (exit codes).

mod args;
mod commands;
mod connection;
mod exit;
mod filter_lang;
mod metadata;
mod output;
mod profiles;
mod progress;

use clap::Parser;

use crate::exit::Exit;

fn main() {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("atro: cannot start: {e}");
            std::process::exit(Exit::Other as i32);
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("atro: {}", e.message);
            e.code
        }
    };
    // Leave in-flight work (progress ticks, idle connections) behind without waiting.
    runtime.shutdown_background();
    std::process::exit(code as i32);
}
