//! The `kinformer` command-line tool. Subcommands: `fake-apiserver` (a fake Kubernetes API
//! server for tests and demos) and `record` (a proxy writing recordings, in `record`), both
//! from crate kinformer-replay; the client subcommands `demo`, `get`, `watch`, `api-resources`, `apply`
//! and `delete` live in `commands` and the modules it names.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kinformer_replay::{demo, FakeApiServer, Fixture, Recording, ServerConfig, TlsMaterial};

mod api_resources;
mod apply;
mod commands;
mod delete;
mod error;
mod get;
mod global;
mod merge_patch;
mod output;
mod progress;
mod record;
mod watch;

/// kinformer: a Kubernetes client and informer runtime, and its tools.
#[derive(Debug, Parser)]
#[command(name = "kinformer", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a fake Kubernetes API server on 127.0.0.1 until SIGINT or SIGTERM.
    FakeApiserver(FakeApiserverArgs),
    /// Proxy the cluster of the kubeconfig (or --server) on 127.0.0.1, authenticating as its
    /// user, and write every exchange to a recording (format 2 of docs/fixtures.md), until
    /// SIGINT or SIGTERM.
    Record(record::RecordArgs),
    #[command(flatten)]
    Client(commands::ClientCommand),
}

#[derive(Debug, clap::Args)]
struct FakeApiserverArgs {
    /// Port to listen on (0 picks a free one; the first output line names it).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A cluster fixture (YAML or JSON, format 1 of docs/fixtures.md): objects loaded at
    /// start, then its timeline played.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// A recording (format 2 of docs/fixtures.md) whose exchanges are replayed verbatim.
    #[arg(long)]
    recording: Option<PathBuf>,
    /// Preload this many realistic pods (about 5 KB each) over 50 namespaces.
    #[arg(long, default_value_t = 0)]
    pods: usize,
    /// Serve HTTPS with DIR/ca.crt, DIR/server.crt and DIR/server.key (generated when
    /// absent) and write DIR/kubeconfig for this server.
    #[arg(long, value_name = "DIR")]
    tls_dir: Option<PathBuf>,
    /// Require `Authorization: Bearer T` (401 Unauthorized otherwise).
    #[arg(
        long,
        value_name = "T",
        env = "KINFORMER_FAKE_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Events kept for watches to resume from before the oldest are compacted.
    #[arg(long, default_value_t = 100_000)]
    history: usize,
}

fn main() -> Result<(), Box<dyn Error>> {
    let cli = Cli::parse_from(commands::hoist_global_flags(std::env::args_os()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::FakeApiserver(args) => runtime.block_on(fake_apiserver(args)),
        Command::Record(args) => std::process::exit(runtime.block_on(record::run(args))),
        Command::Client(command) => std::process::exit(runtime.block_on(commands::run(command))),
    }
}

async fn fake_apiserver(args: FakeApiserverArgs) -> Result<(), Box<dyn Error>> {
    let mut config = ServerConfig::default()
        .port(args.port)
        .history_limit(args.history);
    if let Some(token) = &args.token {
        config = config.token(token.clone());
    }
    if let Some(dir) = &args.tls_dir {
        config = config.tls(TlsMaterial::load_or_generate(dir)?);
    }
    let fixture = match &args.fixture {
        Some(path) => Some(Fixture::load(path)?),
        None => None,
    };
    if let Some(fixture) = &fixture {
        config = fixture.configure(config);
    }
    if let Some(path) = &args.recording {
        config = config.recording(Recording::load(path)?);
    }
    if args.pods > 0 {
        config = config.objects(demo::preload(args.pods, 50));
    }
    let server = FakeApiServer::start(config).await?;
    if let Some(dir) = &args.tls_dir {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, server.kubeconfig())
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", server.url())?;
    stdout.flush()?;
    if let Some(fixture) = fixture {
        let handle = server.handle();
        tokio::spawn(async move {
            if let Err(error) = fixture.play(&handle).await {
                eprintln!("fixture timeline stopped: {error}");
            }
        });
    }
    wait_for_signal().await?;
    server.shutdown().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub(crate) async fn wait_for_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
