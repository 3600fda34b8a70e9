//! A public link to an uploaded file, with an expiry and a usage limit, checked by fetching it.
//!
//! `cargo run -p atrocore-e2e --example sharing`

#[path = "support/mod.rs"]
mod support;

use atrocore_runtime::DateTime;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sim) = support::connect().await?;
    let content = b"%PDF-1.4 press kit".to_vec();
    let file = client
        .upload_bytes("press-kit.pdf", content.clone())
        .await?;
    let in_a_week = DateTime::from_unix_seconds(DateTime::now().unix_seconds() + 7 * 86_400);
    let shared = client
        .share_file(&file.id)
        .name("Press kit")
        .valid_till(in_a_week)
        .allowed_usage(100)
        .await?;
    println!("link: {}", shared.link);
    println!("view: {:?}", shared.view_link);
    println!("valid till: {:?}", shared.valid_till);
    println!(
        "serves the file: {}",
        shared.serves(&client, &content).await?
    );
    Ok(())
}
