//! The `keyport` command: `serve` (the default) runs the web app; `keys generate` prints a
//! fresh encryption key.

use clap::{Parser, Subcommand};
use keyport::server::{config, router};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "keyport", version, about = "Admin app for integrations and their encrypted credentials")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web app (the default).
    Serve,
    /// Manage encryption keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new random 256-bit key, base64 encoded, for ENCRYPTION_KEY.
    Generate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Keys { command: KeysCommand::Generate } => {
            println!("{}", config::generate_key());
            ExitCode::SUCCESS
        }
        Command::Serve => serve(),
    }
}

fn serve() -> ExitCode {
    let config = match config::Config::from_env() {
        Ok(config) => config,
        Err(errors) => return fail(&errors.to_string()),
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.rust_log).unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(router::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("keyport: {}", message.replace('\n', "\nkeyport: "));
    ExitCode::from(2)
}
