//! `atro sim`: the AtroCore simulator (`atrocore-sim`) on a local port until Ctrl-C, to try the
//! tool (or any client) without an instance.

use atrocore_sim::{SimConfig, Simulator};

use crate::args::SimArgs;
use crate::exit::{CliError, CliResult, Exit};

/// Starts the simulator and waits for Ctrl-C.
pub async fn run(args: &SimArgs) -> CliResult<Exit> {
    let mut config = SimConfig::from_spec_path(&args.spec)
        .port(args.port)
        .seed_demo_data(args.seed_demo_data);
    if let Some(m) = &args.metadata {
        config = config.metadata_path(m);
    }
    if let Some(db) = &args.db {
        config = config.db_path(db);
    }
    let sim = Simulator::start(config)
        .await
        .map_err(|e| CliError::usage(format!("the simulator did not start: {e}")))?;
    crate::output::line(format_args!(
        "AtroCore {} simulator on {} (API {}); users admin/admin and reader/reader",
        sim.generation().label(),
        sim.base_url(),
        sim.api_url()
    ))?;
    crate::output::line(format_args!(
        "try: ATROCORE_URL={} ATROCORE_USER=admin ATROCORE_PASSWORD=admin atro entities",
        sim.base_url()
    ))?;
    let _ = tokio::signal::ctrl_c().await;
    sim.shutdown().await;
    Ok(Exit::Ok)
}
