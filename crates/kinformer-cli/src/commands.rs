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

/// The subcommand names [`ClientCommand`] parses.
const CLIENT_COMMANDS: [&str; 6] = ["demo", "get", "watch", "api-resources", "apply", "delete"];

/// Global flags that take a value, as typed before a subcommand.
const VALUE_FLAGS: [&str; 6] = [
    "--kubeconfig",
    "--context",
    "-n",
    "--namespace",
    "--server",
    "--token",
];

/// Global flags without a value.
const SWITCH_FLAGS: [&str; 4] = ["-A", "--all-namespaces", "--insecure-skip-tls-verify", "-v"];

/// Moves connection flags written before a client subcommand (`kinformer -n shop get pods`,
/// as kubectl allows) to just after it, where the subcommand parses them. Anything else is
/// left as it is, so clap reports it.
pub fn hoist_global_flags<I>(args: I) -> Vec<std::ffi::OsString>
where
    I: IntoIterator<Item = std::ffi::OsString>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let mut hoisted = Vec::new();
    let mut index = 1;
    while index < args.len() {
        let Some(arg) = args[index].to_str() else {
            return args;
        };
        let name = arg.split_once('=').map_or(arg, |(name, _)| name);
        if VALUE_FLAGS.contains(&name) {
            hoisted.push(args[index].clone());
            if !arg.contains('=') {
                let Some(value) = args.get(index + 1) else {
                    return args;
                };
                hoisted.push(value.clone());
                index += 1;
            }
        } else if SWITCH_FLAGS.contains(&name) {
            hoisted.push(args[index].clone());
        } else {
            break;
        }
        index += 1;
    }
    // `record` takes the connection flags too.
    let is_client_command = args
        .get(index)
        .and_then(|a| a.to_str())
        .is_some_and(|a| CLIENT_COMMANDS.contains(&a) || a == "record");
    if hoisted.is_empty() || !is_client_command {
        return args;
    }
    let mut result = vec![args[0].clone(), args[index].clone()];
    result.extend(hoisted);
    result.extend(args[index + 1..].iter().cloned());
    result
}

/// Prints `error` as one `error: ` line on stderr, with its causes when `verbosity` > 0.
pub(crate) fn report(error: &Error, verbosity: u8) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hoist(args: &[&str]) -> Vec<String> {
        hoist_global_flags(args.iter().map(std::ffi::OsString::from))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn flags_before_a_client_subcommand_move_after_it() {
        assert_eq!(
            hoist(&[
                "kinformer",
                "-n",
                "shop",
                "--server=http://x",
                "-A",
                "get",
                "pods"
            ]),
            [
                "kinformer",
                "get",
                "-n",
                "shop",
                "--server=http://x",
                "-A",
                "pods"
            ]
        );
    }

    #[test]
    fn connection_flags_before_record_move_after_it() {
        assert_eq!(
            hoist(&["kinformer", "--context", "prod", "record", "--out", "r.txt"]),
            ["kinformer", "record", "--context", "prod", "--out", "r.txt"]
        );
    }

    #[test]
    fn other_subcommands_and_plain_command_lines_are_untouched() {
        let plain = ["kinformer", "get", "pods", "-n", "shop"];
        assert_eq!(hoist(&plain), plain);
        let other = ["kinformer", "--token", "t", "fake-apiserver"];
        assert_eq!(hoist(&other), other);
        let dangling = ["kinformer", "-n"];
        assert_eq!(hoist(&dangling), dangling);
    }
}
