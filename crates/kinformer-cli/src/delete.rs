//! `kinformer delete RESOURCE NAME...`: deletes objects by name through the dynamic client.

use std::io::Write;

use kinformer::client::{DeleteParams, DeleteResponse, DynamicClient};

use crate::error::{Error, Result};
use crate::global::GlobalArgs;

/// Arguments of `delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// The resource: kind, plural, short name or resource.group.
    pub resource: String,
    /// The names of the objects to delete.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Treat an object that does not exist as deleted.
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Connection flags.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Runs `delete`.
pub async fn run(args: DeleteArgs) -> Result<()> {
    let session = args.global.connect()?;
    let resource = session.resolve(&args.resource).await?;
    let dynamic = DynamicClient::new(session.client.clone());
    let mut target = dynamic.resource(&resource.api_resource());
    // Deleting needs one namespace; -A does not apply.
    if resource.namespaced {
        target = target.namespace(&session.namespace);
    }
    let mut stdout = std::io::stdout().lock();
    for name in &args.names {
        match target.delete(name, &DeleteParams::default()).await {
            Ok(DeleteResponse::Deleted(_)) => {
                writeln!(stdout, "{} {name:?} deleted", kind(&resource))?
            }
            Ok(DeleteResponse::Pending(_)) => {
                writeln!(stdout, "{} {name:?} marked for deletion", kind(&resource))?
            }
            Err(kinformer::client::Error::Api(status))
                if status.code == 404 && args.ignore_not_found => {}
            Err(source) => {
                return Err(Error::RequestFailed {
                    action: format!(
                        "deleting {} {name:?}{}",
                        resource.name,
                        if resource.namespaced {
                            format!(" in namespace {}", session.namespace)
                        } else {
                            String::new()
                        }
                    ),
                    source: Box::new(source),
                })
            }
        }
    }
    stdout.flush()?;
    Ok(())
}

/// `deployment.apps` or `pod`, as kubectl names the kind in messages.
fn kind(resource: &kinformer::client::discovery::DiscoveredResource) -> String {
    let kind = resource.kind.to_ascii_lowercase();
    if resource.group.is_empty() {
        kind
    } else {
        format!("{kind}.{}", resource.group)
    }
}
