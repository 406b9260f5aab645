//! `kinformer get RESOURCE [NAME] [-l SELECTOR] [-o name|json|yaml|wide]`: one object or a
//! list, through the dynamic client and the REST mapper, printed as kubectl prints it.

use std::io::Write;

use kinformer::client::discovery::DiscoveredResource;
use kinformer::client::DynamicClient;
use kinformer::dynamic::DynamicObject;
use kinformer::meta::labels::Selector;
use kinformer::meta::{ListOptions, Time};

use crate::error::{Error, Result};
use crate::global::GlobalArgs;
use crate::output::{self, Table};
use crate::progress::Progress;

/// Objects per list page.
const PAGE_SIZE: u32 = 500;

/// Output formats of `get`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GetOutput {
    /// `kind.group/name`, one per line.
    Name,
    /// The object (or a `List`) as JSON.
    Json,
    /// The object (or a `List`) as YAML.
    Yaml,
    /// The table with extra columns.
    Wide,
}

/// Arguments of `get`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The resource: kind, plural, short name or resource.group (`po`, `deployments.apps`).
    pub resource: String,
    /// One object's name (all objects when left out).
    pub name: Option<String>,
    /// A label selector (`app=web,tier!=db`).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// The output format (default: a table).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<GetOutput>,
    /// Connection flags.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Runs `get`.
pub async fn run(args: GetArgs) -> Result<()> {
    if let Some(selector) = &args.selector {
        validate_selector(selector)?;
    }
    let session = args.global.connect()?;
    let resource = session.resolve(&args.resource).await?;
    if args.name.is_some() && session.all_namespaces && resource.namespaced {
        return Err(Error::UsageInvalid(format!(
            "a {} cannot be retrieved by name across all namespaces; use -n NAMESPACE",
            if resource.singular_name.is_empty() {
                resource.kind.to_ascii_lowercase()
            } else {
                resource.singular_name.clone()
            }
        )));
    }
    let namespace = session.scope(&resource).map(str::to_owned);
    let dynamic = DynamicClient::new(session.client.clone());
    let mut target = dynamic.resource(&resource.api_resource());
    if let Some(namespace) = &namespace {
        target = target.namespace(namespace);
    }
    let objects = match &args.name {
        Some(name) => {
            let object = target
                .get(name)
                .await
                .map_err(|source| Error::RequestFailed {
                    action: format!("getting {} {name:?}{}", resource.name, place(&namespace)),
                    source: Box::new(source),
                })?;
            vec![object]
        }
        None => {
            let mut options = ListOptions {
                label_selector: args.selector.clone(),
                limit: Some(PAGE_SIZE),
                ..ListOptions::default()
            };
            let mut progress = Progress::new(&resource.name);
            let mut objects = Vec::new();
            let mut pages = 0;
            loop {
                let page = target
                    .list(&options)
                    .await
                    .map_err(|source| Error::RequestFailed {
                        action: format!("listing {}{}", resource.name, place(&namespace)),
                        source: Box::new(source),
                    })?;
                pages += 1;
                objects.extend(page.items);
                progress.update(objects.len(), pages);
                match page.metadata.continue_token.filter(|t| !t.is_empty()) {
                    Some(token) => options.continue_token = Some(token),
                    None => break,
                }
            }
            progress.finish();
            objects
        }
    };
    let mut stdout = std::io::stdout().lock();
    print(
        &mut stdout,
        &args,
        &resource,
        namespace.as_deref(),
        &objects,
    )?;
    stdout.flush()?;
    Ok(())
}

/// Checks a label selector before any request is made.
pub fn validate_selector(selector: &str) -> Result<()> {
    Selector::parse(selector)
        .map(|_| ())
        .map_err(|source| Error::InvalidSelector {
            selector: selector.to_owned(),
            source: Box::new(source),
        })
}

fn place(namespace: &Option<String>) -> String {
    match namespace {
        Some(namespace) => format!(" in namespace {namespace}"),
        None => String::new(),
    }
}

fn print(
    out: &mut impl Write,
    args: &GetArgs,
    resource: &DiscoveredResource,
    namespace: Option<&str>,
    objects: &[DynamicObject],
) -> Result<()> {
    match args.output {
        Some(GetOutput::Name) => {
            for object in objects {
                let name =
                    output::qualified_name(&resource.kind, &resource.group, object.metadata.name());
                writeln!(out, "{name}")?;
            }
        }
        Some(GetOutput::Json) => {
            output::write_json(out, &output::document(objects, args.name.is_some())?)?
        }
        Some(GetOutput::Yaml) => {
            output::write_yaml(out, &output::document(objects, args.name.is_some())?)?
        }
        None | Some(GetOutput::Wide) => {
            if objects.is_empty() {
                // kubectl says this on stderr, so scripts reading stdout see nothing.
                match namespace {
                    Some(namespace) => {
                        eprintln!("No resources found in {namespace} namespace.")
                    }
                    None => eprintln!("No resources found"),
                }
                return Ok(());
            }
            let wide = args.output == Some(GetOutput::Wide);
            let with_namespace = resource.namespaced && namespace.is_none();
            let table = table(resource, objects, with_namespace, wide, &Time::now());
            out.write_all(table.render().as_bytes())?;
        }
    }
    Ok(())
}

/// The default table: NAMESPACE (across namespaces), NAME, a few columns for well-known
/// kinds, AGE; `wide` adds more.
pub fn table(
    resource: &DiscoveredResource,
    objects: &[DynamicObject],
    with_namespace: bool,
    wide: bool,
    now: &Time,
) -> Table {
    let kind = Kind::of(resource);
    let mut header = Vec::new();
    if with_namespace {
        header.push("NAMESPACE");
    }
    header.push("NAME");
    header.extend(kind.columns(wide).0);
    header.push("AGE");
    header.extend(kind.columns(wide).1);
    let mut table = Table::new(header);
    for object in objects {
        let mut row = Vec::new();
        if with_namespace {
            row.push(object.metadata.namespace().unwrap_or("").to_owned());
        }
        row.push(object.metadata.name().to_owned());
        let (before, after) = kind.cells(object, wide);
        row.extend(before);
        row.push(output::age(
            object.metadata.creation_timestamp.as_ref(),
            now,
        ));
        row.extend(after);
        table.row(row);
    }
    table
}

/// The kinds with their own columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Pod,
    Deployment,
    ConfigMap,
    Other,
}

impl Kind {
    fn of(resource: &DiscoveredResource) -> Kind {
        match (resource.group.as_str(), resource.kind.as_str()) {
            ("", "Pod") => Kind::Pod,
            ("apps", "Deployment") => Kind::Deployment,
            ("", "ConfigMap") => Kind::ConfigMap,
            _ => Kind::Other,
        }
    }

    /// Column titles before AGE and after it.
    fn columns(self, wide: bool) -> (Vec<&'static str>, Vec<&'static str>) {
        let (before, after): (&[&str], &[&str]) = match self {
            Kind::Pod => (&["READY", "STATUS", "RESTARTS"], &["IP", "NODE"]),
            Kind::Deployment => (
                &["READY", "UP-TO-DATE", "AVAILABLE"],
                &["CONTAINERS", "IMAGES", "SELECTOR"],
            ),
            Kind::ConfigMap => (&["DATA"], &[]),
            Kind::Other => (&[], &["LABELS"]),
        };
        (
            before.to_vec(),
            if wide { after.to_vec() } else { Vec::new() },
        )
    }

    /// Cells before AGE and after it.
    fn cells(self, object: &DynamicObject, wide: bool) -> (Vec<String>, Vec<String>) {
        let text = |path: &str| object.get_str(path).unwrap_or("<none>").to_owned();
        let count = |path: &str| object.get_i64(path).unwrap_or(0);
        let (before, after) = match self {
            Kind::Pod => {
                let statuses = object.get_array("status.containerStatuses");
                let total = object
                    .get_array("spec.containers")
                    .map_or(0, |containers| containers.len());
                let ready = statuses.map_or(0, |s| {
                    s.iter()
                        .filter(|c| c.get("ready").and_then(|r| r.as_bool()) == Some(true))
                        .count()
                });
                let restarts: i64 = statuses.map_or(0, |s| {
                    s.iter()
                        .filter_map(|c| c.get("restartCount").and_then(|r| r.as_i64()))
                        .sum()
                });
                let status = if object.metadata.deletion_timestamp.is_some() {
                    "Terminating".to_owned()
                } else {
                    object
                        .get_str("status.reason")
                        .or_else(|| object.get_str("status.phase"))
                        .unwrap_or("Unknown")
                        .to_owned()
                };
                (
                    vec![format!("{ready}/{total}"), status, restarts.to_string()],
                    vec![text("status.podIP"), text("spec.nodeName")],
                )
            }
            Kind::Deployment => {
                let containers = object
                    .get_array("spec.template.spec.containers")
                    .cloned()
                    .unwrap_or_default();
                let field = |key: &str| {
                    containers
                        .iter()
                        .filter_map(|c| c.get(key).and_then(|v| v.as_str()))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let selector = object
                    .get_object("spec.selector.matchLabels")
                    .map(|labels| {
                        labels
                            .iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                (
                    vec![
                        format!(
                            "{}/{}",
                            count("status.readyReplicas"),
                            object.get_i64("spec.replicas").unwrap_or(1)
                        ),
                        count("status.updatedReplicas").to_string(),
                        count("status.availableReplicas").to_string(),
                    ],
                    vec![field("name"), field("image"), selector],
                )
            }
            Kind::ConfigMap => {
                let keys = ["data", "binaryData"]
                    .iter()
                    .filter_map(|path| object.get_object(path))
                    .map(|map| map.len())
                    .sum::<usize>();
                (vec![keys.to_string()], Vec::new())
            }
            Kind::Other => {
                let labels = object
                    .metadata
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(",");
                let labels = if labels.is_empty() {
                    "<none>".to_owned()
                } else {
                    labels
                };
                (Vec::new(), vec![labels])
            }
        };
        (before, if wide { after } else { Vec::new() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pods() -> DiscoveredResource {
        DiscoveredResource {
            name: "pods".into(),
            kind: "Pod".into(),
            version: "v1".into(),
            namespaced: true,
            ..DiscoveredResource::default()
        }
    }

    fn pod(json: serde_json::Value) -> DynamicObject {
        DynamicObject::from_json_value(json).unwrap()
    }

    #[test]
    fn pod_table_shows_ready_status_restarts_and_age() {
        let object = pod(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2},
                {"name": "b", "ready": false, "restartCount": 1}]}
        }));
        let now = Time::parse("2026-01-01T00:03:20Z").unwrap();
        let text = table(&pods(), &[object], true, false, &now).render();
        assert_eq!(
            text,
            "NAMESPACE   NAME    READY   STATUS    RESTARTS   AGE\n\
             shop        web-1   1/2     Running   3          3m20s\n"
        );
    }

    #[test]
    fn wide_pod_table_adds_ip_and_node() {
        let object = pod(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1"},
            "spec": {"nodeName": "worker-1"},
            "status": {"podIP": "10.0.0.7", "phase": "Pending"}
        }));
        let now = Time::parse("2026-01-01T00:00:00Z").unwrap();
        let text = table(&pods(), &[object], false, true, &now).render();
        assert!(text.starts_with("NAME    READY   STATUS    RESTARTS   AGE         IP"));
        assert!(text.contains("10.0.0.7   worker-1"), "{text}");
    }

    #[test]
    fn a_bad_selector_is_refused_before_connecting() {
        assert!(matches!(
            validate_selector("app in (web"),
            Err(Error::InvalidSelector { .. })
        ));
        assert!(validate_selector("app=web,tier!=db").is_ok());
    }
}
