//! `tweetbuy-server`: parses the command line and runs `serve` (the default) or a seller tool.

use clap::Parser;
use std::process::ExitCode;
use tweetbuy_server::config::Command;

#[tokio::main]
async fn main() -> ExitCode {
    let result = match tweetbuy_server::Cli::parse().into_command() {
        Command::Serve(config) => tweetbuy_server::run(config).await.map_err(|e| e.to_string()),
        Command::Catalog(command) => tweetbuy_server::seller_cli::catalog(command).await,
        Command::Orders(command) => tweetbuy_server::seller_cli::orders(command).await,
        Command::Keys(command) => tweetbuy_server::keys_cli::keys(command).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tweetbuy-server: {error}");
            ExitCode::FAILURE
        }
    }
}
