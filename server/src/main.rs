//! `tweetbuy-server`: parses the command line and runs `serve` (the default) or a seller tool.

use clap::Parser;
use std::process::ExitCode;
use tweetbuy_server::config::Command;

/// A purchase allocates and frees many small buffers (requests, JSON, rows) across threads;
/// glibc's allocator spent about an eighth of the server's CPU on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(flag) = tweetbuy_server::config::password_on_command_line(&args) {
        let env = if flag == "--smtp-url" { "SMTP_URL" } else { "DATABASE_URL" };
        eprintln!(
            "tweetbuy-server: {flag} carries a password, which every user of this machine can read in \
             the process list: pass the URL in {env} instead"
        );
        return ExitCode::FAILURE;
    }
    let result = match tweetbuy_server::Cli::parse().into_command() {
        Command::Serve(config) => tweetbuy_server::run(config).await.map_err(|e| e.to_string()),
        Command::Catalog(command) => tweetbuy_server::seller_cli::catalog(command).await,
        Command::Orders(command) => tweetbuy_server::seller_cli::orders(command).await,
        Command::Discounts(command) => tweetbuy_server::seller_cli::discounts(command).await,
        Command::Keys(command) => tweetbuy_server::keys_cli::keys(command).await,
        Command::Webhooks(command) => tweetbuy_server::seller_cli::webhooks(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tweetbuy-server: {error}");
            ExitCode::FAILURE
        }
    }
}
