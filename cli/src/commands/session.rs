//! The connection a command works through: the logged-in client and the instance's metadata.

use atrocore_runtime::Client;

use crate::args::Cli;
use crate::connection::Settings;
use crate::exit::CliResult;
use crate::metadata::Metadata;

/// A connected client and, once read, the instance's metadata.
pub struct Session {
    /// The logged-in client.
    pub client: Client,
    metadata: Option<Metadata>,
}

impl Session {
    pub(super) async fn open(cli: &Cli) -> CliResult<Session> {
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
