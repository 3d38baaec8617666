//! The `keyport` command: `serve` (the default) runs the web app; `keys generate` prints a
//! fresh encryption key.

use clap::{Parser, Subcommand};
use keyport::server::{config, crypto, router, state::AppState};
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
    /// Import platforms exported from the older Medusa-style store (a JSON array); old
    /// ciphertext needs LEGACY_ENCRYPTION_KEY_V<n>. Prints a report.
    Import {
        file: std::path::PathBuf,
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
    /// Show the data keys, their state and how many stored secrets each protects.
    Status,
    /// Make a new data key the active one (every running instance picks it up within
    /// seconds) and re-encrypt every secret to it, with a progress bar.
    Rotate,
    /// Re-encrypt every secret to the active key without making a new one (resumes a
    /// paused or interrupted job), with a progress bar. Safe while the app runs.
    Reencrypt,
    /// Erase a decrypt-only data key that no secret uses.
    Retire {
        /// The key version, as `keys status` shows it (`2` or `v2`).
        version: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Keys { command: KeysCommand::Generate } => {
            println!("{}", config::generate_key());
            ExitCode::SUCCESS
        }
        Command::Keys { command: KeysCommand::Status } => run(|config| async move { keys_status(config).await }),
        Command::Keys { command: KeysCommand::Rotate } => run(|config| async move { keys_reencrypt(config, true).await }),
        Command::Keys { command: KeysCommand::Reencrypt } => run(|config| async move { keys_reencrypt(config, false).await }),
        Command::Keys { command: KeysCommand::Retire { version } } => run(|config| async move { keys_retire(config, version).await }),
        Command::Import { file } => run(|config| async move { import(config, file).await }),
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
    // The log goes to stderr: a command's own output (`keys status`) stays clean on stdout.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.rust_log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
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
    use keyport::{domain::{Role, SecretText}, server::users};
    let role: Role = role.parse().map_err(|e| format!("--role: {e}"))?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = SecretText::new(line.trim_end_matches(['\r', '\n']));
    let state = AppState::prepare(config).await?;
    let user = users::create(&state.db, &command_line(), &email, &password, role).await.map_err(|e| e.to_string())?;
    println!("Created {} ({}).", user.email, user.role);
    state.db.close().await;
    Ok(())
}

async fn keys_status(config: config::Config) -> Result<(), String> {
    let state = AppState::prepare(config).await?;
    let panel = keyport::server::rotation::panel(&state).await.map_err(|e| e.to_string())?;
    match panel.root_check_value.as_str() {
        "" => println!("root key: {}", panel.root_source),
        check => println!("root key: {} (check value {check})", panel.root_source),
    }
    println!("{:<9} {:<14} {:<12} {:>8} {:>12}  CHECK VALUE", "VERSION", "STATE", "CREATED", "SECRETS", "ENCRYPTIONS");
    for v in &panel.versions {
        let state = if v.available || v.state == keyport::domain::KeyState::Retired { v.state.label().to_owned() } else { "NOT AVAILABLE".to_owned() };
        let created = v.created_at.format("%Y-%m-%d").to_string();
        println!("{:<9} {:<14} {:<12} {:>8} {:>12}  {}", format!("v{}", v.version), state, created, v.secrets, v.encryptions, v.check_value);
        if v.encryptions >= crypto::ENCRYPTIONS_WARN_AT {
            println!("! v{} has made {} encryptions (limit 2^31): rotate to a new key soon.", v.version, v.encryptions);
        }
    }
    for step in &panel.next_steps {
        println!("- {step}");
    }
    state.db.close().await;
    Ok(())
}

async fn keys_retire(config: config::Config, version: String) -> Result<(), String> {
    let number = keyport::domain::parse_key_version(&version).ok_or_else(|| format!("{version} is not a key version: give it as keys status shows it, e.g. v2"))?;
    let state = AppState::prepare(config).await?;
    let retired = keyport::server::keys::retire(&state, &command_line(), number).await.map_err(|e| e.to_string());
    state.db.close().await;
    retired?;
    println!("Data key v{number} retired.");
    Ok(())
}

fn command_line() -> keyport::server::auth::Caller {
    keyport::server::auth::Caller { client_addr: Some("command line".into()), ..Default::default() }
}

async fn keys_reencrypt(config: config::Config, rotate: bool) -> Result<(), String> {
    use keyport::{domain::JobState, server::{keys, rotation, store}};
    let state = AppState::prepare(config).await?;
    let caller = command_line();
    if rotate {
        let job = keys::rotate(&state, &caller, None).await.map_err(|e| e.to_string())?;
        println!("Data key v{} is now active; re-encrypting {} secrets to it.", job.target_version, job.total);
    }
    match store::rotation::latest(&state.db).await.map_err(|e| e.to_string())? {
        Some((job, _)) if job.state == JobState::Paused => {
            rotation::set_paused(&state, &caller, false).await.map_err(|e| e.to_string())?;
        }
        Some((job, _)) if job.state == JobState::Running => println!("Resuming the running job started by {}.", job.started_by),
        _ => {
            rotation::start(&state, &caller).await.map_err(|e| e.to_string())?;
        }
    }
    let owner = uuid::Uuid::now_v7();
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("[{bar:30}] {percent:>3}% {pos}/{len} {msg}").expect("valid template").progress_chars("#> "),
    );
    let progress = |job: &keyport::domain::RotationJob| {
        bar.set_length(job.total.max(0) as u64);
        bar.set_position(job.handled().max(0) as u64);
        bar.set_message(job.rate().map(|r| format!("{r:.0}/s")).unwrap_or_default());
    };
    let job = loop {
        match rotation::work(&state, owner, progress).await.map_err(|e| e.to_string())? {
            Some(job) if job.state == JobState::Done => break job,
            Some(job) if job.state == JobState::Paused => break job,
            // Another instance holds the job's lease: wait for it to finish or let go.
            _ => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
    };
    bar.finish();
    state.db.close().await;
    match job.state {
        JobState::Paused => Err("the job was paused (from the keys panel); run again to resume".into()),
        _ if job.failed > 0 => Err(format!("{} secrets re-encrypted; {} could not be decrypted and were left as they are", job.done, job.failed)),
        _ => {
            println!("{} secrets re-encrypted to key v{}.", job.done, job.target_version);
            Ok(())
        }
    }
}

/// The import's progress on stderr: a bar redrawn in place on a terminal, a line per tenth
/// otherwise (a log keeps ten lines, not one per batch).
fn progress_bar(done: usize, total: usize, started: std::time::Instant) {
    use std::io::IsTerminal;
    let percent = done * 100 / total.max(1);
    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
    let bar: String = (0..30).map(|i| if i * 100 < percent * 30 { '#' } else { '.' }).collect();
    let line = format!("[{bar}] {done} of {total} entries ({percent} %), {rate:.0} per second");
    if std::io::stderr().is_terminal() {
        eprint!("\r{line}{}", if done == total { "\n" } else { "" });
    } else if done == total || (done * 10 / total.max(1)) > ((done.saturating_sub(keyport::server::import::BATCH)) * 10 / total.max(1)) {
        eprintln!("{line}");
    }
}

async fn import(config: config::Config, file: std::path::PathBuf) -> Result<(), String> {
    let bytes = zeroize::Zeroizing::new(std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?);
    let state = AppState::prepare(config).await?;
    let started = std::time::Instant::now();
    let report = keyport::server::import::run(&state, &command_line(), &bytes, |done, total| progress_bar(done, total, started)).await.map_err(|e| e.to_string())?;
    state.db.close().await;
    println!("{}", report.summary());
    for p in &report.problems {
        println!("- {}{}: {}", p.platform, p.field.as_deref().map(|f| format!(" ({f})")).unwrap_or_default(), p.reason);
    }
    if report.from_plaintext > 0 {
        println!("Platforms whose secrets arrived in plaintext are flagged for re-authentication (Needs attention).");
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{} problems (listed above)", report.problems.len()))
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("keyport: {}", message.replace('\n', "\nkeyport: "));
    ExitCode::from(2)
}
