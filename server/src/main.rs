//! `tweetbuy-server`: parses the command line and hands over to [`tweetbuy_server::run`].

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = tweetbuy_server::Cli::parse().into_config();
    match tweetbuy_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tweetbuy-server: {error}");
            ExitCode::FAILURE
        }
    }
}
