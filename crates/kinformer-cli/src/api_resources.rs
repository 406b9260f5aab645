//! `kinformer api-resources`: the resources the server serves (preferred versions), in
//! kubectl's columns NAME SHORTNAMES APIVERSION NAMESPACED KIND.

use std::io::Write;

use kinformer::client::discovery::DiscoveredResource;
use kinformer::client::DiscoveryClient;

use crate::error::{Error, Result};
use crate::global::GlobalArgs;
use crate::output::Table;

/// Output formats of `api-resources`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ApiResourcesOutput {
    /// Adds VERBS and CATEGORIES.
    Wide,
    /// `plural.group`, one per line.
    Name,
}

/// Arguments of `api-resources`.
#[derive(Debug, clap::Args)]
pub struct ApiResourcesArgs {
    /// Only resources of this API group (`""` for core).
    #[arg(long, value_name = "GROUP")]
    pub api_group: Option<String>,
    /// Only namespaced (`true`) or only cluster-scoped (`false`) resources.
    #[arg(long, value_name = "BOOL")]
    pub namespaced: Option<bool>,
    /// The output format (default: the table).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<ApiResourcesOutput>,
    /// Connection flags.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Runs `api-resources`.
pub async fn run(args: ApiResourcesArgs) -> Result<()> {
    let session = args.global.connect()?;
    let discovery = DiscoveryClient::new(session.client.clone());
    let (mut resources, failures) = discovery
        .server_preferred_resources()
        .await
        .map_err(|e| Error::DiscoveryFailed(Box::new(e)))?;
    for failure in &failures {
        eprintln!(
            "warning: discovery of {} failed: {}",
            failure.group_version,
            crate::error::one_line(&*failure.error)
        );
    }
    resources.retain(|r| {
        args.api_group.as_ref().is_none_or(|g| &r.group == g)
            && args.namespaced.is_none_or(|n| r.namespaced == n)
    });
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(render(&mut resources, args.output).as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The listing, sorted as kubectl sorts it (by group, core first, then by name).
pub fn render(resources: &mut [DiscoveredResource], output: Option<ApiResourcesOutput>) -> String {
    resources.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    if output == Some(ApiResourcesOutput::Name) {
        return resources
            .iter()
            .map(|r| {
                if r.group.is_empty() {
                    format!("{}\n", r.name)
                } else {
                    format!("{}.{}\n", r.name, r.group)
                }
            })
            .collect();
    }
    let wide = output == Some(ApiResourcesOutput::Wide);
    let mut header = vec!["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"];
    if wide {
        header.extend(["VERBS", "CATEGORIES"]);
    }
    let mut table = Table::new(header);
    for resource in resources.iter() {
        let mut row = vec![
            resource.name.clone(),
            resource.short_names.join(","),
            resource.api_version(),
            resource.namespaced.to_string(),
            resource.kind.clone(),
        ];
        if wide {
            row.push(format!("[{}]", resource.verbs.join(" ")));
            row.push(resource.categories.join(","));
        }
        table.row(row);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(name: &str, group: &str, kind: &str, short: &[&str]) -> DiscoveredResource {
        DiscoveredResource {
            name: name.into(),
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespaced: true,
            short_names: short.iter().map(|s| s.to_string()).collect(),
            verbs: vec!["get".into(), "list".into()],
            ..DiscoveredResource::default()
        }
    }

    #[test]
    fn table_sorts_core_first_and_prints_kubectl_columns() {
        let mut resources = vec![
            resource("deployments", "apps", "Deployment", &["deploy"]),
            resource("pods", "", "Pod", &["po"]),
        ];
        let text = render(&mut resources, None);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NAME          SHORTNAMES   APIVERSION   NAMESPACED   KIND"
        );
        assert!(lines[1].starts_with("pods          po           v1"));
        assert!(lines[2].starts_with("deployments   deploy       apps/v1"));
    }

    #[test]
    fn name_output_qualifies_grouped_resources() {
        let mut resources = vec![
            resource("deployments", "apps", "Deployment", &[]),
            resource("pods", "", "Pod", &[]),
        ];
        assert_eq!(
            render(&mut resources, Some(ApiResourcesOutput::Name)),
            "pods\ndeployments.apps\n"
        );
    }
}
