//! One module per command; [`run`] dispatches.

mod entities;
mod export;
mod files;
mod import;
mod import_values;
mod mass;
mod records;
#[cfg(feature = "sim")]
mod sim;

use atrocore_runtime::Client;

use crate::args::{Cli, Command};
use crate::connection::Settings;
use crate::exit::{CliResult, Exit};
use crate::metadata::Metadata;

/// A connected client and, once read, the instance's metadata.
pub struct Session {
    /// The logged-in client.
    pub client: Client,
    metadata: Option<Metadata>,
}

impl Session {
    async fn open(cli: &Cli) -> CliResult<Session> {
        let settings = Settings::resolve(&cli.connection)?;
        let client = settings.connect().await?;
        Ok(Session {
            client,
            metadata: None,
        })
    }

    /// The instance's metadata (read once).
    pub async fn metadata(&mut self) -> CliResult<&Metadata> {
        if self.metadata.is_none() {
            self.metadata = Some(Metadata::fetch(&self.client).await?);
        }
        Ok(self.metadata.get_or_insert_with(Metadata::default))
    }
}

/// Runs the command; the exit code of a command that finished (0, or 1 for partial failure).
pub async fn run(cli: Cli) -> CliResult<Exit> {
    #[cfg(feature = "sim")]
    if let Command::Sim(args) = &cli.command {
        return sim::run(args).await;
    }
    let mut s = Session::open(&cli).await?;
    match cli.command {
        Command::Entities { no_counts } => entities::entities(&mut s, no_counts).await,
        Command::Fields { entity } => entities::fields(&mut s, &entity).await,
        Command::List(args) => records::list(&mut s, &args).await,
        Command::Get { entity, id } => records::get(&mut s, &entity, &id).await,
        Command::Delete(args) => mass::delete(&mut s, &args).await,
        Command::Update(args) => mass::update(&mut s, &args).await,
        Command::Export(args) => export::run(&mut s, &args).await,
        Command::Import(args) => import::run(&mut s, &args).await,
        Command::Upload(args) => files::upload(&s, &args).await,
        Command::Download { id, output, force } => {
            files::download(&s, &id, output.as_deref(), force).await
        }
        #[cfg(feature = "sim")]
        Command::Sim(_) => Ok(Exit::Ok),
    }
}
