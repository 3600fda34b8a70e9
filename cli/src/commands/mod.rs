//! One module per command; [`run`] dispatches.

mod changes;
mod csv_dialect;
mod entities;
mod export;
mod files;
mod import;
mod import_values;
mod mass;
mod records;
mod session;
#[cfg(feature = "sim")]
mod sim;
mod sink;

use crate::args::{Cli, Command};
use crate::exit::{CliResult, Exit};
pub use session::Session;

/// Runs the command; the exit code of a command that finished (0, or 1 for partial failure).
pub async fn run(cli: Cli) -> CliResult<Exit> {
    if let Command::Completions { shell } = &cli.command {
        // Needs no instance: the script is made from the argument definitions.
        use clap::CommandFactory;
        clap_complete::generate(*shell, &mut Cli::command(), "atro", &mut std::io::stdout());
        return Ok(Exit::Ok);
    }
    #[cfg(feature = "sim")]
    if let Command::Sim(args) = &cli.command {
        return sim::run(args).await;
    }
    let mut s = Session::open(&cli).await?;
    match cli.command {
        Command::Entities { no_counts, format } => {
            entities::entities(&mut s, no_counts, format).await
        }
        Command::Fields { entity, format } => entities::fields(&mut s, &entity, format).await,
        Command::List(args) => records::list(&mut s, &args).await,
        Command::Get { entity, id } => records::get(&mut s, &entity, &id).await,
        Command::Delete(args) => mass::delete(&mut s, &args).await,
        Command::Update(args) => mass::update(&mut s, &args).await,
        Command::Export(args) => match &args.since_state {
            Some(state) => changes::run(&mut s, &args, state).await,
            None => export::run(&mut s, &args).await,
        },
        Command::Import(args) => import::run(&mut s, &args).await,
        Command::Upload(args) => files::upload(&s, &args).await,
        Command::Download { id, output, force } => {
            files::download(&s, &id, output.as_deref(), force).await
        }
        #[cfg(feature = "sim")]
        Command::Sim(_) => Ok(Exit::Ok),
        Command::Completions { .. } => Ok(Exit::Ok),
    }
}
