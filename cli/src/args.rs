//! The command line, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit::EXIT_CODES_HELP;

/// atro: work with any AtroCore instance from the shell.
///
/// Entities and fields are read from the instance's metadata; lists take a filter language;
/// export, import and file uploads run in batches with progress. Credentials come from
/// ATROCORE_PASSWORD or ATROCORE_TOKEN (never from the command line), or from the variables a
/// profile of the config file names.
#[derive(Debug, Parser)]
#[command(name = "atro", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Connection settings.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the instance is and who we are.
// These doc comments are the `--help` text, shown as plain text: a URL stays bare.
#[allow(rustdoc::bare_urls)]
#[derive(Debug, Args, Clone, Default)]
pub struct ConnectionArgs {
    /// The instance's web root, e.g. https://pim.example.com [env: ATROCORE_URL].
    #[arg(long, global = true, help_heading = "Connection")]
    pub url: Option<String>,
    /// The user name [env: ATROCORE_USER]; the password comes from ATROCORE_PASSWORD.
    #[arg(long, global = true, help_heading = "Connection")]
    pub user: Option<String>,
    /// The API generation; detected from the instance when not given.
    #[arg(long, value_enum, global = true, help_heading = "Connection")]
    pub generation: Option<GenerationArg>,
    /// A named profile of the config file.
    #[arg(
        long,
        short = 'P',
        env = "ATRO_PROFILE",
        global = true,
        help_heading = "Connection"
    )]
    pub profile: Option<String>,
    /// The config file with the profiles (default: the user's config folder, atro/config.toml).
    #[arg(long, env = "ATRO_CONFIG", global = true, help_heading = "Connection")]
    pub config: Option<PathBuf>,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 60, global = true, help_heading = "Connection")]
    pub timeout: u64,
}

/// An API generation on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerationArg {
    /// AtroCore 2.2 (`/api/v1`).
    #[value(name = "2.2")]
    V22,
    /// AtroCore 2.3 (`/api`).
    #[value(name = "2.3")]
    V23,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Entities of the instance with their record counts.
    Entities {
        /// Names only (no count requests).
        #[arg(long)]
        no_counts: bool,
        /// Output format.
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Fields of an entity: name, kind, required, unique, link target; and its attributes.
    Fields {
        /// The entity, e.g. Product.
        entity: String,
        /// Output format (besides the table, one row per field and attribute:
        /// `name,kind,required,unique,readOnly,linkTo,attribute,multilingual,measure,label`).
        #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// Records of an entity.
    List(ListArgs),
    /// One record as JSON.
    Get {
        /// The entity.
        entity: String,
        /// The record id.
        id: String,
    },
    /// Deletes records: one or more ids, or every record a filter matches (mass delete).
    Delete(DeleteArgs),
    /// Sets fields on many records at once: the ids given, or every record a filter matches.
    Update(UpdateArgs),
    /// Every matching record to a file (keyset paging, resumable).
    Export(ExportArgs),
    /// Creates or updates records from a CSV or JSONL file (bulk upsert).
    Import(ImportArgs),
    /// Uploads files (chunked, parallel, resumable).
    Upload(UploadArgs),
    /// Downloads the content of a File record.
    Download {
        /// The File id.
        id: String,
        /// Where to write (default: the file's name in the current folder).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Prints the shell completion script for `shell` (e.g. `atro completions bash >
    /// ~/.local/share/bash-completion/completions/atro`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Runs the AtroCore simulator (a stand-in server on SQLite) until interrupted.
    #[cfg(feature = "sim")]
    Sim(SimArgs),
}

/// `atro list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The entity, e.g. Product.
    pub entity: String,
    /// A filter, e.g. 'name like "%chair%" and isActive and not sortOrder > 5'.
    #[arg(long = "where", short = 'w')]
    pub filter: Option<String>,
    /// Fields to show, comma-separated.
    #[arg(long, short = 's', value_delimiter = ',')]
    pub select: Vec<String>,
    /// Sort by this field.
    #[arg(long)]
    pub sort: Option<String>,
    /// Sort descending.
    #[arg(long)]
    pub desc: bool,
    /// At most this many records.
    #[arg(long, short = 'n', default_value_t = 20)]
    pub limit: u64,
    /// Skip this many records.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

/// The records a mass action applies to: ids, `--where`, or `--all`.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// The entity, e.g. Product.
    pub entity: String,
    /// Record ids.
    #[arg(conflicts_with_all = ["filter", "all"])]
    pub ids: Vec<String>,
    /// Every record this filter matches (see `atro list --help`).
    #[arg(long = "where", short = 'w', conflicts_with = "all")]
    pub filter: Option<String>,
    /// Every record of the entity.
    #[arg(long)]
    pub all: bool,
    /// Go ahead with a `--where` or `--all` selection; without it the matching records are
    /// counted and nothing is changed (exit code 2).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// When the server queues the work as a job, wait until it is done (asking every 2 s).
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds (the job goes on; a job only runs while the
    /// server's cron does, so a stopped cron would keep `--wait` waiting forever).
    #[arg(
        long,
        default_value_t = 1800,
        requires = "wait",
        value_name = "SECONDS"
    )]
    pub wait_timeout: u64,
}

/// `atro delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Which records.
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Remove the records for good instead of moving them to the trash.
    #[arg(long)]
    pub permanently: bool,
}

/// `atro update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Which records.
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// A field to set, `name=value` (typed by the field's kind, like an import cell; an empty
    /// value sets null); repeat for more fields.
    #[arg(long = "set", short = 's', value_name = "FIELD=VALUE", required = true)]
    pub set: Vec<String>,
}

/// Output formats of `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// An aligned table.
    Table,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
    /// One JSON array.
    Json,
}

/// File formats of `export` and `import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header.
    Csv,
}

/// `atro export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The entity.
    pub entity: String,
    /// A filter (see `atro list --help`).
    #[arg(long = "where", short = 'w')]
    pub filter: Option<String>,
    /// Fields to write, comma-separated (default: every field the server sends).
    #[arg(long, short = 's', value_delimiter = ',')]
    pub select: Vec<String>,
    /// The file format (default: from the file's extension).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<FileFormat>,
    /// The file to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Attribute values to add, by code (2.2 `code`, 2.3 `systemName`) or id, comma-separated:
    /// one column per attribute named by its code (JSONL also carries units, `<code>UnitId`,
    /// and languages, `<code>DeDe`).
    #[arg(long, value_delimiter = ',')]
    pub attributes: Vec<String>,
    /// Continue an interrupted export: keep the file's complete records and fetch the ones after
    /// its last id.
    #[arg(long, conflicts_with_all = ["force", "since_state"])]
    pub resume: bool,
    /// Write only the changes (created, modified, deleted records, each with a `_change`
    /// column) since the state saved in this file, and save the new state there after a
    /// complete run (a missing file: every record). An interrupted run resumes when run again.
    #[arg(long, value_name = "FILE")]
    pub since_state: Option<PathBuf>,
    /// With --since-state: deliver changes once they are this many seconds old by the server's
    /// clock (saves still running, clock steps; above 60 where link changes stamp records
    /// through AtroCore's "modified extended relations").
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        requires = "since_state"
    )]
    pub settle: u64,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Records per request.
    #[arg(long, default_value_t = 200)]
    pub page_size: u64,
    /// CSV: the field delimiter, one character or `tab` (`;` for a German or French Excel).
    #[arg(long, value_name = "CHAR", default_value = ",")]
    pub delimiter: String,
    /// CSV: start with a UTF-8 byte-order mark, which Excel needs to read the file as UTF-8.
    #[arg(long)]
    pub bom: bool,
}

/// `atro import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The entity.
    pub entity: String,
    /// A .csv or .jsonl file; columns named by field (`brand`/`brandId` an id, `brand.name` find
    /// or create by name; lists separated by `|` in CSV).
    pub file: PathBuf,
    /// The file format (default: from the extension).
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<FileFormat>,
    /// Check every row against the metadata and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where failed rows go (default: FILE with `.rejects` before the extension).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// CSV: the field delimiter, one character or `tab` (default: `,`, `;` or tab, whichever
    /// the header line uses).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,
    /// CSV: the text encoding, e.g. `windows-1252` (default: a byte-order mark's, else UTF-8,
    /// else Windows-1252 as a German or French Excel saves).
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,
    /// Continue an interrupted import after the rows it handled (FILE.import-progress says
    /// which); rows without an id or unique field are then not created twice.
    #[arg(long, conflicts_with_all = ["restart", "dry_run"])]
    pub resume: bool,
    /// Import every row again although an interrupted import of the file left a progress log.
    #[arg(long)]
    pub restart: bool,
    /// Records per upsert request.
    #[arg(long, default_value_t = 200)]
    pub batch_size: usize,
    /// Upsert requests in flight at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Skip columns that are not fields of the entity instead of refusing the file.
    #[arg(long)]
    pub ignore_unknown: bool,
    /// Columns (CSV) or keys (JSONL) that are attribute values by code (2.2 `code`, 2.3
    /// `systemName`), comma-separated, as `atro export --attributes` writes them; a CSV header
    /// `attr:CODE` is one too.
    #[arg(long, value_delimiter = ',')]
    pub attributes: Vec<String>,
}

/// What to do when the folder holds a file of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnConflict {
    /// Fail that file.
    Fail,
    /// Keep the existing file and report its id.
    Reuse,
    /// Upload as `name (1).ext`.
    Rename,
}

/// `atro upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Files to upload.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The folder id to upload into.
    #[arg(long)]
    pub folder: Option<String>,
    /// When the folder holds the name already.
    #[arg(long, value_enum, default_value_t = OnConflict::Fail)]
    pub on_conflict: OnConflict,
    /// Files uploaded at once.
    #[arg(long, short = 'j', default_value_t = 2)]
    pub jobs: usize,
    /// Chunk size in KiB (files larger go in chunks).
    #[arg(long, default_value_t = 4096)]
    pub chunk_kib: usize,
    /// Chunks of one file in flight at once.
    #[arg(long, default_value_t = 3)]
    pub parallel_chunks: usize,
    /// Replace the content of this existing File record instead of creating one (AtroCore's
    /// reupload: the record keeps its id and links; one path only).
    #[arg(long, value_name = "ID", conflicts_with_all = ["folder", "on_conflict"])]
    pub replace: Option<String>,
}

/// `atro sim`.
#[cfg(feature = "sim")]
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The OpenAPI spec (JSON) to serve.
    #[arg(long)]
    pub spec: PathBuf,
    /// The instance metadata (JSON) served at the Metadata route.
    #[arg(long)]
    pub metadata: Option<PathBuf>,
    /// TCP port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// SQLite file that keeps records across restarts (in memory when absent).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Fill the database with demo records.
    #[arg(long)]
    pub seed_demo_data: bool,
}
