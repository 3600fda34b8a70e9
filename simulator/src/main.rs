//! `atrocore-sim`: serves an AtroCore simulator for a spec until interrupted.

use std::path::PathBuf;

use atrocore_sim::{SimConfig, Simulator};
use clap::Parser;

/// An AtroCore stand-in over real HTTP, driven by an AtroCore OpenAPI spec.
#[derive(Debug, Parser)]
#[command(name = "atrocore-sim", version)]
struct Args {
    /// The OpenAPI spec (JSON) to serve.
    #[arg(long)]
    spec: PathBuf,
    /// TCP port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The instance metadata (JSON) served at the Metadata route.
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// SQLite file that keeps records across restarts (in memory when absent); file contents
    /// live beside it in `<db>.files` (in a temporary folder when absent).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Fill the database with demo brands, categories, files and products.
    #[arg(long)]
    seed_demo_data: bool,
    /// Do not validate requests against the spec (the real server does).
    #[arg(long)]
    no_request_validation: bool,
    /// Check every JSON answer against the spec; a mismatch becomes a 500 naming route, JSON
    /// pointer and reason.
    #[arg(long)]
    validate_responses: bool,
    /// The AtroCore release to model where releases differ (e.g. 2.3.13: no reads by code);
    /// default: the spec's info.version.
    #[arg(long, value_name = "VERSION")]
    atrocore_version: Option<String>,
    /// "Only one auth token per user": a login revokes the user's other tokens.
    #[arg(long)]
    one_token_per_user: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut config = SimConfig::from_spec_path(&args.spec)
        .port(args.port)
        .seed_demo_data(args.seed_demo_data)
        .validate_requests(!args.no_request_validation)
        .validate_responses(args.validate_responses);
    if let Some(m) = &args.metadata {
        config = config.metadata_path(m);
    }
    if let Some(db) = &args.db {
        config = config.db_path(db);
    }
    if let Some(v) = &args.atrocore_version {
        config = config.atrocore_version(v);
    }
    config = config.auth_token_prevent_concurrent(args.one_token_per_user);
    let sim = match Simulator::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("atrocore-sim: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "AtroCore {} simulator listening on {}",
        sim.generation().label(),
        sim.base_url()
    );
    println!("API base: {}", sim.api_url());
    println!("Spec: {}/openapi.json", sim.base_url());
    println!("Credentials: admin/admin (administrator), reader/reader (read-only)");
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
}
