//! Where the fake API server runs: in this process (the default; its memory is charged to the
//! server domain of the counting allocator but shares the RSS), or in a child process
//! (`--server-process`: the same binary's hidden `serve` command, driven over stdin/stdout),
//! which leaves this process's RSS to the client alone.
//!
//! Either way the server gets the same generated pods and applies the same planned changes
//! (`generator::plan_events` with the same seed, live part first, then the backlog).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kinformer_replay::{FakeApiServer, Fault, FaultRule, Handle, RunningServer, ServerConfig};
use tokio::runtime::Runtime;

use crate::alloc::{self, Domain};
use crate::error::{Error, Result};
use crate::generator::{self, Change};

/// The seed of the event plan.
pub const PLAN_SEED: u64 = 0x5eed;

/// What the server is loaded with and will apply.
#[derive(Clone, Copy, Debug)]
pub struct ServerPlan {
    /// Pods at start.
    pub pods: u64,
    /// Changes written live.
    pub live_events: u64,
    /// Changes written as the backlog.
    pub events: u64,
}

impl ServerPlan {
    fn changes(&self) -> (Vec<Change>, Vec<Change>) {
        let mut plan = generator::plan_events(self.pods, self.live_events + self.events, PLAN_SEED);
        let backlog = plan.split_off(self.live_events as usize);
        (plan, backlog)
    }

    fn history(&self) -> usize {
        // Only the backlog's events are replayed; more history would hold gigabytes of Values.
        (self.events + 1024) as usize
    }
}

/// A started server.
pub enum Backend {
    /// In this process.
    InProcess {
        /// The server's runtime (one worker, server domain).
        runtime: Runtime,
        /// The server.
        server: RunningServer,
        /// The planned changes not yet applied: (live, backlog).
        plan: (Vec<Change>, Vec<Change>),
    },
    /// In a child process.
    Child {
        /// The child.
        child: Child,
        /// Its stdin (commands).
        stdin: ChildStdin,
        /// Its stdout (replies).
        stdout: BufReader<ChildStdout>,
    },
}

/// A write phase in progress.
pub enum Writing {
    /// A thread of this process.
    Thread(JoinHandle<Result<Duration>>),
    /// The child, which answers `done <ms>` when finished.
    Child,
}

impl Backend {
    /// Starts the server with the plan's pods. Returns it, its URL and its heap in KiB (the
    /// server-domain growth, or what the child reports).
    pub fn start(plan: ServerPlan, child_process: bool) -> Result<(Backend, String, u64)> {
        if child_process {
            return start_child(plan);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("bench-server")
            .on_thread_start(|| alloc::set_thread_domain(Domain::Server))
            .enable_all()
            .build()
            .map_err(|source| Error::Runtime {
                which: "server",
                source,
            })?;
        let before = alloc::current(Domain::Server);
        let server = alloc::with_domain(Domain::Server, || load(&runtime, plan))?;
        let heap_kb = kib(alloc::current(Domain::Server) - before);
        let url = server.url();
        let changes = alloc::with_domain(Domain::Server, || plan.changes());
        Ok((
            Backend::InProcess {
                runtime,
                server,
                plan: changes,
            },
            url,
            heap_kb,
        ))
    }

    /// The server's current resourceVersion.
    pub fn resource_version(&mut self) -> Result<u64> {
        match self {
            Backend::InProcess { server, .. } => Ok(server.resource_version()),
            Backend::Child { .. } => {
                let reply = self.ask("rv")?;
                parse_number(&reply, 1, "rv")
            }
        }
    }

    /// Starts writing the live changes (`live == true`) or the backlog. In this process, the
    /// writer thread is released from `start_line` when one is given.
    pub fn begin_writing(
        &mut self,
        live: bool,
        start_line: Option<Arc<Barrier>>,
    ) -> Result<Writing> {
        match self {
            Backend::InProcess { server, plan, .. } => {
                let changes = if live {
                    std::mem::take(&mut plan.0)
                } else {
                    std::mem::take(&mut plan.1)
                };
                Ok(Writing::Thread(spawn_writer(
                    server.handle(),
                    changes,
                    start_line,
                )))
            }
            Backend::Child { .. } => {
                if let Some(start_line) = start_line {
                    // Nobody else waits in child mode; pass the line for the caller's sake.
                    std::thread::spawn(move || start_line.wait());
                }
                self.send(if live { "live" } else { "backlog" })?;
                Ok(Writing::Child)
            }
        }
    }

    /// Waits for a write phase to finish; returns how long the writer took, in ms.
    pub fn finish_writing(&mut self, writing: Writing) -> Result<f64> {
        match writing {
            Writing::Thread(thread) => match thread.join() {
                Ok(result) => Ok(ms(result?)),
                Err(_) => Err(Error::Incomplete {
                    step: "writer thread",
                    expected: 1,
                    got: 0,
                }),
            },
            Writing::Child => {
                let reply = self.read_reply()?;
                parse_float(&reply, 1, "done")
            }
        }
    }

    /// Arms a 410 Gone for the next watch and restarts the server, cutting every connection.
    pub fn force_relist(&mut self) -> Result<()> {
        match self {
            Backend::InProcess {
                runtime, server, ..
            } => {
                arm_gone(server);
                alloc::with_domain(Domain::Server, || runtime.block_on(server.restart(true)))
                    .map_err(|source| Error::Server {
                        step: "restart",
                        source,
                    })
            }
            Backend::Child { .. } => self.ask("relist").map(drop),
        }
    }

    /// Stops the server.
    pub fn shutdown(self) {
        match self {
            Backend::InProcess {
                runtime, server, ..
            } => {
                alloc::with_domain(Domain::Server, || runtime.block_on(server.shutdown()));
                runtime.shutdown_timeout(Duration::from_secs(5));
            }
            Backend::Child {
                mut child,
                mut stdin,
                ..
            } => {
                let _ = writeln!(stdin, "quit");
                drop(stdin);
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = child.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    fn send(&mut self, command: &str) -> Result<()> {
        let Backend::Child { stdin, .. } = self else {
            return Ok(());
        };
        writeln!(stdin, "{command}")
            .and_then(|()| stdin.flush())
            .map_err(|source| Error::ChildIo {
                step: "sending a command",
                source,
            })
    }

    fn read_reply(&mut self) -> Result<String> {
        let Backend::Child { stdout, .. } = self else {
            return Ok(String::new());
        };
        read_line(stdout)
    }

    fn ask(&mut self, command: &str) -> Result<String> {
        self.send(command)?;
        self.read_reply()
    }
}

fn start_child(plan: ServerPlan) -> Result<(Backend, String, u64)> {
    let exe = std::env::current_exe().map_err(|source| Error::ChildIo {
        step: "finding the bench binary",
        source,
    })?;
    let mut child = Command::new(exe)
        .args([
            "serve",
            "--pods",
            &plan.pods.to_string(),
            "--live-events",
            &plan.live_events.to_string(),
            "--events",
            &plan.events.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|source| Error::ChildIo {
            step: "starting the server process",
            source,
        })?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        return Err(Error::Incomplete {
            step: "server process pipes",
            expected: 2,
            got: 0,
        });
    };
    let mut stdout = BufReader::new(stdout);
    let ready = read_line(&mut stdout)?;
    // `ready <url> <heap_kb>`
    let mut words = ready.split_whitespace();
    let (Some("ready"), Some(url), Some(heap)) = (words.next(), words.next(), words.next()) else {
        let _ = child.kill();
        return Err(Error::Protocol { reply: ready });
    };
    let url = url.to_owned();
    let heap_kb = heap.parse().unwrap_or(0);
    Ok((
        Backend::Child {
            child,
            stdin,
            stdout,
        },
        url,
        heap_kb,
    ))
}

/// The child's side: load, print `ready <url> <heap_kb>`, then answer commands from stdin
/// (`rv`, `live`, `backlog`, `relist`, `quit`) one line each.
pub fn serve(plan: ServerPlan) -> Result<()> {
    alloc::set_thread_domain(Domain::Server);
    let Backend::InProcess {
        runtime,
        mut server,
        plan: (live, backlog),
    } = Backend::start(plan, false)?.0
    else {
        return Ok(());
    };
    let heap_kb = kib(alloc::current(Domain::Server));
    let mut out = std::io::stdout().lock();
    let reply = |out: &mut std::io::StdoutLock<'_>, text: String| {
        writeln!(out, "{text}")
            .and_then(|()| out.flush())
            .map_err(|source| Error::ChildIo {
                step: "replying",
                source,
            })
    };
    reply(&mut out, format!("ready {} {heap_kb}", server.url()))?;
    let mut live = Some(live);
    let mut backlog = Some(backlog);
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|source| Error::ChildIo {
            step: "reading a command",
            source,
        })?;
        match line.trim() {
            "rv" => reply(&mut out, format!("rv {}", server.resource_version()))?,
            "live" | "backlog" => {
                let changes = if line.trim() == "live" {
                    live.take()
                } else {
                    backlog.take()
                };
                let took = write_changes(&server.handle(), changes.unwrap_or_default())?;
                reply(&mut out, format!("done {}", ms(took)))?;
            }
            "relist" => {
                arm_gone(&server);
                runtime
                    .block_on(server.restart(true))
                    .map_err(|source| Error::Server {
                        step: "restart",
                        source,
                    })?;
                reply(&mut out, "ok".to_owned())?;
            }
            "quit" => break,
            other => reply(&mut out, format!("error unknown command {other:?}"))?,
        }
    }
    runtime.block_on(server.shutdown());
    Ok(())
}

fn arm_gone(server: &RunningServer) {
    // The next watch is answered 410 Gone, as for a resourceVersion the server compacted away.
    server.inject(
        FaultRule::new(Fault::Status {
            code: 410,
            retry_after_seconds: None,
        })
        .verb("watch"),
    );
}

fn load(runtime: &Runtime, plan: ServerPlan) -> Result<RunningServer> {
    runtime.block_on(async {
        let server = FakeApiServer::start(ServerConfig::default().history_limit(plan.history()))
            .await
            .map_err(|source| Error::Server {
                step: "start",
                source,
            })?;
        for index in 0..plan.pods {
            server
                .create(generator::pod(index, 0))
                .map_err(|source| Error::Server {
                    step: "load",
                    source,
                })?;
        }
        Ok(server)
    })
}

/// Applies changes through the handle on a server-domain thread, generating each object as
/// it goes (holding a whole plan of `serde_json::Value` pods would take gigabytes).
fn spawn_writer(
    handle: Handle,
    changes: Vec<Change>,
    start_line: Option<Arc<Barrier>>,
) -> JoinHandle<Result<Duration>> {
    std::thread::spawn(move || {
        alloc::set_thread_domain(Domain::Server);
        if let Some(start_line) = start_line {
            start_line.wait();
        }
        write_changes(&handle, changes)
    })
}

fn write_changes(handle: &Handle, changes: Vec<Change>) -> Result<Duration> {
    let started = Instant::now();
    for change in changes {
        let outcome = match change {
            Change::Add { index } => handle.create(generator::pod(index, 0)).map(drop),
            Change::Modify { index, revision } => {
                handle.update(generator::pod(index, revision)).map(drop)
            }
            Change::Delete { index } => handle
                .delete(
                    "v1",
                    "Pod",
                    Some(&generator::namespace_of(index)),
                    &generator::name_of(index),
                )
                .map(drop),
        };
        outcome.map_err(|source| Error::Server {
            step: "apply event",
            source,
        })?;
    }
    Ok(started.elapsed())
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> Result<String> {
    let mut line = String::new();
    let read = stdout
        .read_line(&mut line)
        .map_err(|source| Error::ChildIo {
            step: "reading a reply",
            source,
        })?;
    if read == 0 {
        return Err(Error::Protocol {
            reply: "the server process exited".to_owned(),
        });
    }
    Ok(line.trim().to_owned())
}

fn parse_number(reply: &str, position: usize, expected: &str) -> Result<u64> {
    let mut words = reply.split_whitespace();
    match (words.next(), words.nth(position - 1).map(str::parse::<u64>)) {
        (Some(word), Some(Ok(number))) if word == expected => Ok(number),
        _ => Err(Error::Protocol {
            reply: reply.to_owned(),
        }),
    }
}

fn parse_float(reply: &str, position: usize, expected: &str) -> Result<f64> {
    let mut words = reply.split_whitespace();
    match (words.next(), words.nth(position - 1).map(str::parse::<f64>)) {
        (Some(word), Some(Ok(number))) if word == expected => Ok(number),
        _ => Err(Error::Protocol {
            reply: reply.to_owned(),
        }),
    }
}

/// Milliseconds with microsecond precision.
pub fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// Bytes to KiB, negative counts as 0.
pub fn kib(bytes: isize) -> u64 {
    u64::try_from(bytes.max(0) / 1024).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_only_with_the_expected_word() {
        assert_eq!(parse_number("rv 1234", 1, "rv").unwrap(), 1234);
        assert_eq!(parse_float("done 12.5", 1, "done").unwrap(), 12.5);
        assert!(parse_number("error unknown command", 1, "rv").is_err());
        assert!(parse_float("done soon", 1, "done").is_err());
        assert!(parse_number("", 1, "rv").is_err());
    }

    #[test]
    fn the_plan_splits_live_changes_before_the_backlog() {
        let plan = ServerPlan {
            pods: 100,
            live_events: 30,
            events: 70,
        };
        let (live, backlog) = plan.changes();
        assert_eq!((live.len(), backlog.len()), (30, 70));
        let whole = generator::plan_events(100, 100, PLAN_SEED);
        assert_eq!(&whole[..30], &live[..]);
        assert_eq!(&whole[30..], &backlog[..]);
    }
}
