//! The `kinformer` command-line tool. Subcommands: `fake-apiserver` (a fake Kubernetes API
//! server for tests and demos) and `record` (a proxy writing recordings), both from crate
//! kinformer-replay; the client subcommands `demo`, `get`, `watch`, `api-resources`, `apply`
//! and `delete` live in `commands` and the modules it names.

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kinformer_replay::{
    demo, recorder, FakeApiServer, Fixture, RecorderConfig, Recording, ServerConfig, TlsMaterial,
};

mod api_resources;
mod apply;
mod commands;
mod delete;
mod error;
mod get;
mod global;
mod output;
mod progress;
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
    /// Proxy an API server on 127.0.0.1 and write every exchange to a recording (format 2 of
    /// docs/fixtures.md), until SIGINT or SIGTERM.
    Record(RecordArgs),
    #[command(flatten)]
    Client(commands::ClientCommand),
}

#[derive(Debug, clap::Args)]
struct RecordArgs {
    /// The recording to write (truncated first).
    #[arg(long)]
    out: PathBuf,
    /// The API server to forward to, such as https://127.0.0.1:6443.
    #[arg(long)]
    server: String,
    /// CA certificate (PEM) to trust for an https server.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Bearer token sent upstream (never written to the recording).
    #[arg(
        long,
        value_name = "T",
        env = "KINFORMER_RECORD_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Port to listen on (0 picks a free one; the first output line names it).
    #[arg(long, default_value_t = 0)]
    port: u16,
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
        Command::Record(args) => runtime.block_on(record(args)),
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

async fn record(args: RecordArgs) -> Result<(), Box<dyn Error>> {
    let mut config = RecorderConfig::new(&args.server, &args.out)?.port(args.port);
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        config = config.ca_pem(pem);
    }
    if let Some(token) = &args.token {
        config = config.token(token.clone());
    }
    let proxy = recorder::start(config).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", proxy.url())?;
    stdout.flush()?;
    wait_for_signal().await?;
    proxy.shutdown().await;
    Ok(())
}

async fn wait_for_signal() -> std::io::Result<()> {
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
