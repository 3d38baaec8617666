//! The `keyport` command: `serve` (the default) runs the web app; `keys generate` prints a
//! fresh encryption key.

use clap::{Parser, Subcommand};
use keyport::server::{config, crypto, router, secrets, state::AppState};
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
    /// Manage users without the browser.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (one line).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "marketer")]
        role: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a new random 256-bit key, base64 encoded, for ENCRYPTION_KEY.
    Generate,
    /// Show the key versions configured and how many stored secrets each protects.
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Keys { command: KeysCommand::Generate } => {
            println!("{}", config::generate_key());
            ExitCode::SUCCESS
        }
        Command::Keys { command: KeysCommand::Status } => run(|config| async move { keys_status(config).await }),
        Command::User { command: UserCommand::Create { email, role } } => run(|config| async move { create_user(config, email, role).await }),
        Command::Serve => run(router::serve),
    }
}

/// Loads the configuration, sets up logging and runs `task` to completion.
fn run<F, Fut>(task: F) -> ExitCode
where
    F: FnOnce(config::Config) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
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
    match runtime.block_on(task(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

async fn create_user(config: config::Config, email: String, role: String) -> Result<(), String> {
    use keyport::{domain::{Role, SecretText}, server::{auth::Caller, users}};
    let role: Role = role.parse().map_err(|e| format!("--role: {e}"))?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = SecretText::new(line.trim_end_matches(['\r', '\n']));
    let state = AppState::prepare(config).await?;
    let caller = Caller { user: None, client_addr: Some("command line".into()), via_token: false, job: None };
    let user = users::create(&state.db, &caller, &email, &password, role).await.map_err(|e| e.to_string())?;
    println!("Created {} ({}).", user.email, user.role);
    state.db.close().await;
    Ok(())
}

async fn keys_status(config: config::Config) -> Result<(), String> {
    let state = AppState::prepare(config).await?;
    let versions = secrets::key_versions(&state.db, &state.keyring).await.map_err(|e| e.to_string())?;
    println!("{:<9} {:<26} {:>8} {:>12}", "VERSION", "STATE", "SECRETS", "ENCRYPTIONS");
    for v in &versions {
        let state = match (v.current, v.configured) {
            (true, _) => "current (ENCRYPTION_KEY)".to_owned(),
            (false, true) => format!("configured (…_V{})", v.version),
            (false, false) => "NOT CONFIGURED".to_owned(),
        };
        println!("{:<9} {:<26} {:>8} {:>12}", format!("v{}", v.version), state, v.secrets, v.encryptions);
    }
    for v in &versions {
        if !v.configured && v.secrets > 0 {
            println!("! {} secrets use v{1} but ENCRYPTION_KEY_V{1} is not set: they cannot be decrypted.", v.secrets, v.version);
        } else if !v.current && v.configured && v.secrets == 0 {
            println!("- v{} protects no secret: ENCRYPTION_KEY_V{0} can be removed.", v.version);
        }
        if v.encryptions >= crypto::ENCRYPTIONS_WARN_AT {
            println!("! v{} has made {} encryptions (limit 2^31): rotate to a new key soon.", v.version, v.encryptions);
        }
    }
    state.db.close().await;
    Ok(())
}

fn fail(message: &str) -> ExitCode {
    eprintln!("keyport: {}", message.replace('\n', "\nkeyport: "));
    ExitCode::from(2)
}
