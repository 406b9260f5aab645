//! `kinformer-bench`: the end-to-end benchmark harness (issue 11).
//!
//! `kinformer-bench sync --pods N --events M [--runs R] [--drop-managed-fields]
//! [--uncompressed-managed-fields]
//! [--pipeline informer|fifo-loop]` starts the
//! fake API server in-process with N generated pods, syncs a pod cache through the real client
//! over loopback HTTP, follows M watch events, forces a relist, and prints one JSON line of
//! medians over R runs, each time figure next to its plain `serde_json` floor. See
//! `docs/performance.md` for the figures and how to read them.
//!
//! Modules, in reading order: `sync` (the phases of a run), `pipeline` (what is measured),
//! `floor`, `generator` (the pods and the event plan), `alloc` (the counting allocator), `rss`,
//! `report` (the JSON line), `error`.

mod alloc;
mod backend;
mod error;
mod floor;
mod generator;
mod pause;
mod pipeline;
mod report;
mod rss;
mod sync;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: alloc::CountingAllocator = alloc::CountingAllocator;

/// End-to-end benchmarks for kinformer.
#[derive(Debug, Parser)]
#[command(name = "kinformer-bench", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sync N pods, follow M watch events, force a relist; print one JSON line of medians.
    Sync {
        /// Pods loaded into the server before the sync.
        #[arg(long, default_value_t = 10_000)]
        pods: u64,
        /// Watch events queued on the server while the client is held, then followed (about
        /// 90% MODIFIED, 5% ADDED, 5% DELETED).
        #[arg(long, default_value_t = 50_000)]
        events: u64,
        /// Watch events written while the pipeline follows live, before the backlog.
        #[arg(long, default_value_t = 20_000)]
        live_events: u64,
        /// Runs; every figure printed is the median over them.
        #[arg(long, default_value_t = 1)]
        runs: u32,
        /// Drop managedFields in the queue's transform before objects reach the cache.
        #[arg(long)]
        drop_managed_fields: bool,
        /// Keep managedFields as plain JSON instead of LZ4-packed (the memory for decode
        /// speed trade of `kinformer_meta::Packed`, measured both ways).
        #[arg(long)]
        uncompressed_managed_fields: bool,
        /// Items per list page.
        #[arg(long, default_value_t = 500)]
        page_size: u32,
        /// Run the fake API server in a child process, so RSS figures are the client's alone.
        #[arg(long)]
        server_process: bool,
        /// The pipeline to measure.
        #[arg(long, value_enum, default_value_t = pipeline::Kind::Informer)]
        pipeline: pipeline::Kind,
        /// Seconds any one phase may take before the run fails.
        #[arg(long, default_value_t = 900)]
        phase_timeout: u64,
        /// Also print each run's line on stderr.
        #[arg(long)]
        verbose: bool,
    },
    /// The server side of `sync --server-process` (driven over stdin/stdout).
    #[command(hide = true)]
    Serve {
        /// Pods to load.
        #[arg(long)]
        pods: u64,
        /// Changes of the live phase.
        #[arg(long)]
        live_events: u64,
        /// Changes of the backlog.
        #[arg(long)]
        events: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sync {
            pods,
            events,
            live_events,
            runs,
            drop_managed_fields,
            uncompressed_managed_fields,
            page_size,
            pipeline,
            server_process,
            phase_timeout,
            verbose,
        } => {
            // Process-wide, before anything is decoded: the floor and the pipeline both see it.
            kinformer_meta::packed::set_compression(!uncompressed_managed_fields);
            let options = sync::SyncOptions {
                pods,
                events,
                live_events,
                drop_managed_fields,
                page_size: page_size.max(1),
                pipeline,
                server_process,
                phase_timeout: Duration::from_secs(phase_timeout),
            };
            let mut results = Vec::new();
            for run in 0..runs.max(1) {
                match sync::run(&options) {
                    Ok(measurement) => {
                        if verbose {
                            eprintln!(
                                "run {run}: {}",
                                report::median_line(std::slice::from_ref(&measurement))
                            );
                        }
                        results.push(measurement);
                    }
                    Err(error) => {
                        eprintln!("kinformer-bench: run {run} failed: {}", error_chain(&error));
                        return ExitCode::FAILURE;
                    }
                }
            }
            println!("{}", report::median_line(&results));
            ExitCode::SUCCESS
        }
        Command::Serve {
            pods,
            live_events,
            events,
        } => match backend::serve(backend::ServerPlan {
            pods,
            live_events,
            events,
        }) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("kinformer-bench serve: {}", error_chain(&error));
                ExitCode::FAILURE
            }
        },
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
