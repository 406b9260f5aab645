//! The client subcommands (`demo`, `get`, `watch`, `api-resources`, `apply`, `delete`) and
//! how their errors are reported: one line on stderr (`error: ...`), the causes with `-v`,
//! exit code 1.

use clap::Subcommand;

use crate::error::{causes, one_line, Error};
use crate::{api_resources, apply, delete, get, watch};

// Declared here: the crate root already has a `demo` (kinformer_replay's) in scope.
#[path = "demo.rs"]
mod demo;

/// The subcommands that talk to an API server (or, for `demo`, to a built-in one).
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Run the informer demo on a built-in cluster (no kubeconfig, no network).
    Demo(demo::DemoArgs),
    /// Display one or many resources.
    Get(get::GetArgs),
    /// Run an informer on a resource and print every event it delivers.
    Watch(watch::WatchArgs),
    /// Print the resources the server serves.
    ApiResources(api_resources::ApiResourcesArgs),
    /// Create or update objects from manifest files.
    Apply(apply::ApplyArgs),
    /// Delete objects by name.
    Delete(delete::DeleteArgs),
}

impl ClientCommand {
    fn verbosity(&self) -> u8 {
        let global = match self {
            ClientCommand::Demo(_) => return 0,
            ClientCommand::Get(args) => &args.global,
            ClientCommand::Watch(args) => &args.global,
            ClientCommand::ApiResources(args) => &args.global,
            ClientCommand::Apply(args) => &args.global,
            ClientCommand::Delete(args) => &args.global,
        };
        global.verbosity.unwrap_or(0)
    }
}

/// Runs a client subcommand; returns the process exit code.
pub async fn run(command: ClientCommand) -> i32 {
    let verbosity = command.verbosity();
    if verbosity > 0 {
        let level = if verbosity >= 6 { "trace" } else { "debug" };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
                "kinformer={level}"
            )))
            .with_writer(std::io::stderr)
            .try_init();
    }
    let result = match command {
        ClientCommand::Demo(args) => demo::run(args).await,
        ClientCommand::Get(args) => get::run(args).await,
        ClientCommand::Watch(args) => watch::run(args).await,
        ClientCommand::ApiResources(args) => api_resources::run(args).await,
        ClientCommand::Apply(args) => apply::run(args).await,
        ClientCommand::Delete(args) => delete::run(args).await,
    };
    match result {
        Ok(()) => 0,
        Err(error) => {
            report(&error, verbosity);
            1
        }
    }
}

fn report(error: &Error, verbosity: u8) {
    // A closed stdout (`kinformer get pods | head`) is not worth a message.
    if let Error::OutputFailed(io) = error {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return;
        }
    }
    eprintln!("error: {}", one_line(error));
    if verbosity > 0 {
        for cause in causes(error) {
            eprintln!("  caused by: {cause}");
        }
    }
}
