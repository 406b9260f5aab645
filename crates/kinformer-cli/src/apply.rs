//! `kinformer apply -f FILE|DIR|-`: multi-document YAML (or JSON) manifests through the dynamic
//! client; `--server-side` sends server-side apply patches. Otherwise it is kubectl's
//! client-side apply: an object is created with its manifest stored in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, or, when it exists, patched
//! with a three-way JSON merge patch (`merge_patch`) from that annotation, the manifest and
//! the live object, so fields others set are kept and fields dropped from the manifest are
//! deleted. Every file is read and checked before anything is sent.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use kinformer::client::{DynamicClient, Patch, PatchParams, PostParams};
use kinformer::dynamic::{from_yaml_documents, DynamicObject};

use crate::error::{causes, one_line, Error, Result};
use crate::global::GlobalArgs;
use crate::{merge_patch, output};

/// The field manager named in server-side apply and writes.
const FIELD_MANAGER: &str = "kinformer";

/// Arguments of `apply`.
#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// A manifest file, a directory of `.yaml`/`.yml`/`.json` files, or `-` for stdin
    /// (repeatable).
    #[arg(short = 'f', long = "filename", value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Use server-side apply (PATCH with application/apply-patch+yaml).
    #[arg(long)]
    pub server_side: bool,
    /// With --server-side, take ownership of fields other managers own.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Connection flags.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// One object read from a manifest, with where it came from.
#[derive(Debug)]
pub struct Manifest {
    /// The file (`-` for stdin).
    pub path: PathBuf,
    /// 1-based number among the file's non-empty documents.
    pub document: usize,
    /// The object.
    pub object: DynamicObject,
}

/// Runs `apply`.
pub async fn run(args: ApplyArgs) -> Result<()> {
    let mut manifests = Vec::new();
    for path in &args.files {
        manifests.extend(read_manifests(path)?);
    }
    let session = args.global.connect()?;
    let mapper = session.mapper().await?;
    let dynamic = DynamicClient::new(session.client.clone());
    let mut stdout = std::io::stdout().lock();
    for manifest in manifests {
        let Manifest {
            path,
            document,
            mut object,
        } = manifest;
        let gvk = object.gvk().map_err(|e| Error::ManifestIncomplete {
            path: path.clone(),
            document,
            problem: e.to_string(),
        })?;
        let resource = mapper
            .resource_for_kind(&gvk)
            .map_err(|_| Error::UnknownResource {
                name: gvk.to_string(),
            })?;
        let name = object.metadata.name().to_owned();
        let mut target = dynamic.resource(&resource);
        if resource.is_namespaced() {
            let namespace = match object.metadata.namespace() {
                Some(namespace) if !namespace.is_empty() => namespace.to_owned(),
                _ => session.namespace.clone(),
            };
            object.metadata.namespace = Some(namespace.clone());
            target = target.namespace(&namespace);
        }
        let shown = output::qualified_name(&resource.kind, &resource.group, &name);
        let failed = |verb: &str, source| Error::RequestFailed {
            action: format!(
                "{verb} {shown} from {} (document {document})",
                path.display()
            ),
            source: Box::new(source),
        };
        let outcome = if args.server_side {
            let params = PatchParams {
                field_manager: Some(FIELD_MANAGER.into()),
                force: args.force_conflicts,
                ..PatchParams::default()
            };
            target
                .patch(&name, &Patch::Apply(&object), &params)
                .await
                .map_err(|e| failed("applying", e))?;
            "serverside-applied"
        } else {
            let manifest =
                serde_json::to_value(&object).map_err(|e| Error::ManifestIncomplete {
                    path: path.clone(),
                    document,
                    problem: format!("cannot be encoded as JSON: {e}"),
                })?;
            let modified = merge_patch::with_last_applied(&manifest);
            match target.get(&name).await {
                Ok(current) => {
                    let current =
                        serde_json::to_value(&current).map_err(|e| Error::ManifestIncomplete {
                            path: path.clone(),
                            document,
                            problem: format!("the live object cannot be encoded as JSON: {e}"),
                        })?;
                    let original = merge_patch::last_applied(&current);
                    let patch = merge_patch::three_way(original.as_ref(), &modified, &current);
                    if patch.as_object().is_some_and(|p| p.is_empty()) {
                        "unchanged"
                    } else {
                        let params = PatchParams {
                            field_manager: Some(FIELD_MANAGER.into()),
                            ..PatchParams::default()
                        };
                        target
                            .patch(&name, &Patch::Merge(&patch), &params)
                            .await
                            .map_err(|e| failed("patching", e))?;
                        "configured"
                    }
                }
                Err(kinformer::client::Error::Api(status)) if status.code == 404 => {
                    let object: DynamicObject = serde_json::from_value(modified).map_err(|e| {
                        Error::ManifestIncomplete {
                            path: path.clone(),
                            document,
                            problem: format!("cannot be annotated: {e}"),
                        }
                    })?;
                    let params = PostParams {
                        field_manager: Some(FIELD_MANAGER.into()),
                        ..PostParams::default()
                    };
                    target
                        .create(&object, &params)
                        .await
                        .map_err(|e| failed("creating", e))?;
                    "created"
                }
                Err(e) => return Err(failed("reading", e)),
            }
        };
        writeln!(stdout, "{shown} {outcome}")?;
    }
    stdout.flush()?;
    Ok(())
}

/// The objects of a file, a directory (its manifest files in name order, not recursive) or
/// stdin (`-`). Empty documents are skipped; a document without a name is an error.
pub fn read_manifests(path: &Path) -> Result<Vec<Manifest>> {
    let read_failed = |source| Error::ReadFailed {
        path: path.to_path_buf(),
        source,
    };
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(read_failed)?;
        return parse(path, &text);
    }
    let metadata = std::fs::metadata(path).map_err(read_failed)?;
    if metadata.is_dir() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path).map_err(read_failed)? {
            let file = entry.map_err(read_failed)?.path();
            let manifest = file
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
            if manifest && file.is_file() {
                files.push(file);
            }
        }
        files.sort();
        let mut manifests = Vec::new();
        for file in files {
            manifests.extend(read_manifests(&file)?);
        }
        return Ok(manifests);
    }
    let text = std::fs::read_to_string(path).map_err(read_failed)?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Vec<Manifest>> {
    let objects = from_yaml_documents(text).map_err(|source| {
        let detail = std::iter::once(one_line(&source))
            .chain(causes(&source))
            .collect::<Vec<_>>()
            .join(": ");
        Error::ManifestInvalid {
            path: path.to_path_buf(),
            detail,
            source: Box::new(source),
        }
    })?;
    let mut manifests = Vec::new();
    for (index, object) in objects.into_iter().enumerate() {
        let document = index + 1;
        let incomplete = |problem: &str| Error::ManifestIncomplete {
            path: path.to_path_buf(),
            document,
            problem: problem.to_owned(),
        };
        let types = object
            .types
            .as_ref()
            .filter(|t| !t.api_version.is_empty() && !t.kind.is_empty())
            .ok_or_else(|| incomplete("apiVersion and kind are required"))?;
        if types.kind.ends_with("List") && object.data.get("items").is_some() {
            return Err(incomplete(
                "List documents are not supported; write one object per document",
            ));
        }
        if object.metadata.name().is_empty() {
            return Err(incomplete("metadata.name is required"));
        }
        manifests.push(Manifest {
            path: path.to_path_buf(),
            document,
            object,
        });
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_numbered_and_empty_ones_skipped() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let manifests = parse(Path::new("m.yaml"), text).unwrap();
        let names: Vec<_> = manifests
            .iter()
            .map(|m| m.object.metadata.name().to_owned())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_document_without_a_kind_names_file_and_document() {
        let text =
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nmetadata: {name: b}\n";
        let error = parse(Path::new("m.yaml"), text).unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::ManifestInvalid { .. }));
        assert!(
            message.starts_with("m.yaml is not a valid manifest: document 2"),
            "{message}"
        );
    }

    #[test]
    fn a_document_without_a_name_is_incomplete() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n";
        let error = parse(Path::new("m.yaml"), text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "m.yaml: document 2: metadata.name is required"
        );
    }

    #[test]
    fn malformed_yaml_is_a_manifest_error_naming_the_file() {
        let error = parse(Path::new("bad.yaml"), "kind: [unclosed\n").unwrap_err();
        assert!(matches!(error, Error::ManifestInvalid { .. }));
        assert!(error
            .to_string()
            .starts_with("bad.yaml is not a valid manifest"));
    }

    #[test]
    fn a_directory_is_read_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("b.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: second}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("a.json"),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"first"}}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a manifest").unwrap();
        let names: Vec<_> = read_manifests(dir.path())
            .unwrap()
            .into_iter()
            .map(|m| m.object.metadata.name().to_owned())
            .collect();
        assert_eq!(names, ["first", "second"]);
    }
}
