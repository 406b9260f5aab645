//! The kubeconfig file format, loading (`$KUBECONFIG`, `~/.kube/config`, explicit paths) and
//! merging with client-go's rules.
//!
//! Merge rules: files are read in order; a named cluster, user or context comes whole from the
//! first file that defines it (later definitions of the same name are ignored, not merged
//! field by field); `current-context` comes from the first file that sets it. Relative paths in
//! a file resolve against that file's directory. Unknown fields are ignored.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::auth::{ExecEnvVar, Redacted};
use crate::error::{Error, Result};

/// A parsed kubeconfig: possibly the merge of several files.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    /// Named clusters.
    #[serde(default, deserialize_with = "nullable")]
    pub clusters: Vec<NamedCluster>,
    /// Named users (`users` in the file).
    #[serde(default, rename = "users", deserialize_with = "nullable")]
    pub auth_infos: Vec<NamedAuthInfo>,
    /// Named contexts.
    #[serde(default, deserialize_with = "nullable")]
    pub contexts: Vec<NamedContext>,
    /// The context used when none is named.
    #[serde(default)]
    pub current_context: Option<String>,
}

/// A cluster entry and the file it came from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NamedCluster {
    /// The entry's name.
    #[serde(default)]
    pub name: String,
    /// The cluster settings.
    #[serde(default)]
    pub cluster: Option<Cluster>,
    /// The file that defined it (`None` for YAML given as a string).
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// How to reach one API server.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    /// The API server URL.
    pub server: Option<String>,
    /// A PEM CA bundle file.
    pub certificate_authority: Option<String>,
    /// A base64 PEM CA bundle.
    pub certificate_authority_data: Option<String>,
    /// Skip server certificate verification (dangerous).
    #[serde(default, deserialize_with = "nullable")]
    pub insecure_skip_tls_verify: bool,
    /// The name to verify the server certificate against instead of the URL's host.
    pub tls_server_name: Option<String>,
    /// An `http://` proxy to tunnel through with CONNECT.
    pub proxy_url: Option<String>,
    /// Do not ask for gzip responses.
    #[serde(default, deserialize_with = "nullable")]
    pub disable_compression: bool,
}

/// A user entry and the file it came from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NamedAuthInfo {
    /// The entry's name.
    #[serde(default)]
    pub name: String,
    /// The credentials.
    #[serde(default)]
    pub user: Option<AuthInfo>,
    /// The file that defined it.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// The credentials of one user.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AuthInfo {
    /// A PEM client certificate file.
    pub client_certificate: Option<String>,
    /// A base64 PEM client certificate.
    pub client_certificate_data: Option<String>,
    /// A PEM client key file.
    pub client_key: Option<String>,
    /// A base64 PEM client key.
    pub client_key_data: Option<Redacted<String>>,
    /// A bearer token.
    pub token: Option<Redacted<String>>,
    /// A file holding a bearer token.
    #[serde(rename = "tokenFile")]
    pub token_file: Option<String>,
    /// Basic auth user name.
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<Redacted<String>>,
    /// Impersonate this user.
    #[serde(rename = "as")]
    pub impersonate: Option<String>,
    /// Impersonate this UID.
    #[serde(rename = "as-uid")]
    pub impersonate_uid: Option<String>,
    /// Impersonate these groups.
    #[serde(rename = "as-groups", default, deserialize_with = "nullable")]
    pub impersonate_groups: Vec<String>,
    /// Impersonate with these extra attributes.
    #[serde(rename = "as-user-extra", default, deserialize_with = "nullable")]
    pub impersonate_user_extra: BTreeMap<String, Vec<String>>,
    /// An exec credential plugin.
    pub exec: Option<ExecSection>,
}

/// The `exec` section of a user.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecSection {
    /// The command.
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default, deserialize_with = "nullable")]
    pub args: Vec<String>,
    /// Extra environment.
    #[serde(default, deserialize_with = "nullable")]
    pub env: Vec<ExecEnvVar>,
    /// `client.authentication.k8s.io/v1` or `v1beta1`.
    pub api_version: Option<String>,
    /// Shown when the plugin is missing or fails.
    pub install_hint: Option<String>,
    /// Pass cluster details in `KUBERNETES_EXEC_INFO`.
    #[serde(default, deserialize_with = "nullable")]
    pub provide_cluster_info: bool,
    /// `Never`, `IfAvailable` or `Always`.
    pub interactive_mode: Option<String>,
}

/// A context entry and the file it came from.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NamedContext {
    /// The entry's name.
    #[serde(default)]
    pub name: String,
    /// The context.
    #[serde(default)]
    pub context: Option<Context>,
    /// The file that defined it.
    #[serde(skip)]
    pub origin: Option<PathBuf>,
}

/// A (cluster, user, namespace) triple.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Context {
    /// The cluster's name.
    #[serde(default)]
    pub cluster: String,
    /// The user's name.
    #[serde(default)]
    pub user: String,
    /// The default namespace.
    pub namespace: Option<String>,
}

/// Treats an explicit YAML `null` like an absent field.
fn nullable<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// How a file is named in errors.
pub(crate) fn display_origin(origin: &Option<PathBuf>) -> String {
    origin
        .as_ref()
        .map_or_else(|| "<inline>".to_string(), |p| p.display().to_string())
}

impl Kubeconfig {
    /// Parses kubeconfig YAML given as a string (relative paths stay relative to the current
    /// directory; errors name the file `<inline>`).
    pub fn from_yaml(text: &str) -> Result<Kubeconfig> {
        parse(text, None)
    }

    /// Reads one kubeconfig file, which must exist; relative paths resolve against its folder.
    pub fn read_from(path: impl AsRef<Path>) -> Result<Kubeconfig> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::KubeconfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = parse(&text, Some(path))?;
        config.resolve_paths(path);
        Ok(config)
    }

    /// Reads and merges several files in order; files that do not exist are skipped and a
    /// path given twice is read once. `Ok(None)` when none of them exists.
    pub fn read_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Option<Kubeconfig>> {
        let mut seen = HashSet::new();
        let mut merged: Option<Kubeconfig> = None;
        for path in paths {
            let path = path.as_ref();
            if path.as_os_str().is_empty() || !seen.insert(path.to_path_buf()) {
                continue;
            }
            if !path.exists() {
                tracing::debug!(path = %path.display(), "kubeconfig file does not exist; skipped");
                continue;
            }
            let config = Kubeconfig::read_from(path)?;
            merged = Some(match merged {
                Some(first) => first.merge(config),
                None => config,
            });
        }
        Ok(merged)
    }

    /// The files named by a `$KUBECONFIG` value (OS list separator, empty items dropped).
    pub fn paths_from_env_value(value: &OsStr) -> Vec<PathBuf> {
        std::env::split_paths(value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    }

    /// `~/.kube/config` for the current user, when a home directory is known.
    pub fn default_path() -> Option<PathBuf> {
        let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
        Some(PathBuf::from(home).join(".kube").join("config"))
    }

    /// The default loading rules: the files in `$KUBECONFIG` when it is set, else
    /// `~/.kube/config`. `Ok(None)` when no file exists.
    pub fn read() -> Result<Option<Kubeconfig>> {
        match std::env::var_os("KUBECONFIG") {
            Some(value) if !value.is_empty() => {
                Kubeconfig::read_paths(&Kubeconfig::paths_from_env_value(&value))
            }
            _ => match Kubeconfig::default_path() {
                Some(path) => Kubeconfig::read_paths(&[path]),
                None => Ok(None),
            },
        }
    }

    /// Merges `later` into `self` with client-go's rules: entries already present (by name)
    /// are kept whole, and `current-context` is kept when already set.
    pub fn merge(mut self, later: Kubeconfig) -> Kubeconfig {
        fn add<T>(into: &mut Vec<T>, from: Vec<T>, name: impl Fn(&T) -> &str) {
            for entry in from {
                if !into.iter().any(|e| name(e) == name(&entry)) {
                    into.push(entry);
                }
            }
        }
        add(&mut self.clusters, later.clusters, |c| &c.name);
        add(&mut self.auth_infos, later.auth_infos, |u| &u.name);
        add(&mut self.contexts, later.contexts, |c| &c.name);
        if self.current_context.as_deref().is_none_or(str::is_empty) {
            self.current_context = later.current_context;
        }
        self
    }

    /// True when the kubeconfig names nothing at all.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
            && self.auth_infos.is_empty()
            && self.contexts.is_empty()
            && self.current_context.as_deref().is_none_or(str::is_empty)
    }

    /// Records `file` as every entry's origin and resolves relative paths against its folder.
    fn resolve_paths(&mut self, file: &Path) {
        let dir = file.parent().unwrap_or(Path::new(""));
        let resolve = |value: &mut Option<String>| {
            if let Some(v) = value {
                if !v.is_empty() && Path::new(v).is_relative() {
                    *v = dir.join(&*v).to_string_lossy().into_owned();
                }
            }
        };
        for cluster in &mut self.clusters {
            cluster.origin = Some(file.to_path_buf());
            if let Some(c) = &mut cluster.cluster {
                resolve(&mut c.certificate_authority);
            }
        }
        for user in &mut self.auth_infos {
            user.origin = Some(file.to_path_buf());
            if let Some(u) = &mut user.user {
                resolve(&mut u.client_certificate);
                resolve(&mut u.client_key);
                resolve(&mut u.token_file);
                if let Some(exec) = &mut u.exec {
                    // Like client-go: a bare command name is looked up on $PATH, a command with
                    // a slash is a path relative to the kubeconfig.
                    if exec.command.as_deref().is_some_and(|c| c.contains('/')) {
                        resolve(&mut exec.command);
                    }
                }
            }
        }
        for context in &mut self.contexts {
            context.origin = Some(file.to_path_buf());
        }
    }
}

fn parse(text: &str, file: Option<&Path>) -> Result<Kubeconfig> {
    if text.trim().is_empty() {
        return Ok(Kubeconfig::default());
    }
    serde_yaml::from_str::<Option<Kubeconfig>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            Error::KubeconfigSyntax {
                file: display_origin(&file.map(Path::to_path_buf)),
                line,
                column,
                message: syntax_message(&e),
            }
        })
}

/// serde_yaml's message with quoted values replaced by `<value>`: a type error would
/// otherwise quote a token or password.
fn syntax_message(error: &serde_yaml::Error) -> String {
    let text = error.to_string();
    let text = text.split(" at line ").next().unwrap_or(&text);
    let mut out = String::with_capacity(text.len());
    let mut in_quotes = false;
    for c in text.chars() {
        match (c, in_quotes) {
            ('"', false) => {
                in_quotes = true;
                out.push_str("<value>");
            }
            ('"', true) => in_quotes = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<T>(entries: &[T], name: impl Fn(&T) -> &str) -> Vec<String> {
        entries.iter().map(|e| name(e).to_string()).collect()
    }

    #[test]
    fn unknown_fields_and_nulls_are_ignored() {
        let kc = Kubeconfig::from_yaml(
            "apiVersion: v1\nkind: Config\npreferences: {}\nclusters: null\nusers:\n- name: u\n  user:\n    token: t\n    auth-provider: {name: x}\ncontexts:\n- name: c\n  context: {cluster: k, user: u, extensions: []}\nfuture-field: 1\n",
        )
        .unwrap();
        assert!(kc.clusters.is_empty());
        assert_eq!(
            kc.auth_infos[0]
                .user
                .as_ref()
                .unwrap()
                .token
                .as_ref()
                .unwrap()
                .expose(),
            "t"
        );
        assert_eq!(kc.contexts[0].context.as_ref().unwrap().cluster, "k");
    }

    #[test]
    fn an_empty_file_is_an_empty_kubeconfig() {
        assert!(Kubeconfig::from_yaml("").unwrap().is_empty());
        assert!(Kubeconfig::from_yaml("# just a comment\n")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err =
            Kubeconfig::from_yaml("clusters:\n- name: a\n  cluster: {server: [}\n").unwrap_err();
        match err {
            Error::KubeconfigSyntax {
                file, line, column, ..
            } => {
                assert_eq!(file, "<inline>");
                assert_eq!(line, 3);
                assert!(column > 0);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_type_error_does_not_quote_the_value() {
        let err =
            Kubeconfig::from_yaml("users:\n- name: u\n  user:\n    as-groups: supersecretvalue\n")
                .unwrap_err();
        assert!(!err.to_string().contains("supersecretvalue"), "{err}");
    }

    /// client-go's merge table: first file wins per name, whole entries, current-context from
    /// the first file that sets it.
    #[test]
    fn merge_follows_client_go_first_file_wins_rules() {
        let first = Kubeconfig::from_yaml(
            "clusters:\n- name: shared\n  cluster: {server: 'https://first'}\nusers:\n- name: u1\n  user: {token: a}\ncontexts:\n- name: c1\n  context: {cluster: shared, user: u1}\n",
        )
        .unwrap();
        let second = Kubeconfig::from_yaml(
            "current-context: c2\nclusters:\n- name: shared\n  cluster: {server: 'https://second', insecure-skip-tls-verify: true}\n- name: only2\n  cluster: {server: 'https://only2'}\ncontexts:\n- name: c1\n  context: {cluster: only2, user: u1}\n- name: c2\n  context: {cluster: only2}\n",
        )
        .unwrap();
        let third = Kubeconfig::from_yaml("current-context: c1\n").unwrap();
        let merged = first.merge(second).merge(third);

        assert_eq!(names(&merged.clusters, |c| &c.name), ["shared", "only2"]);
        let shared = merged.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(shared.server.as_deref(), Some("https://first"));
        // Whole entry from the first file: the second file's insecure flag is not merged in.
        assert!(!shared.insecure_skip_tls_verify);
        assert_eq!(names(&merged.contexts, |c| &c.name), ["c1", "c2"]);
        assert_eq!(
            merged.contexts[0].context.as_ref().unwrap().cluster,
            "shared"
        );
        assert_eq!(merged.current_context.as_deref(), Some("c2"));
    }

    #[test]
    fn exec_commands_with_a_slash_resolve_against_the_file_but_bare_names_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "users:\n- name: a\n  user: {exec: {command: ./bin/plugin}}\n- name: b\n  user: {exec: {command: gcloud}}\n",
        )
        .unwrap();
        let kc = Kubeconfig::read_from(&path).unwrap();
        let command = |i: usize| {
            let user = kc.auth_infos[i].user.as_ref().unwrap();
            user.exec.as_ref().unwrap().command.clone().unwrap()
        };
        assert_eq!(PathBuf::from(command(0)), dir.path().join("./bin/plugin"));
        assert_eq!(command(1), "gcloud");
    }

    #[test]
    fn kubeconfig_env_value_splits_on_the_os_separator_and_drops_empty_items() {
        let joined = std::env::join_paths(["/a/one", "", "/b/two"]).unwrap();
        assert_eq!(
            Kubeconfig::paths_from_env_value(&joined),
            [PathBuf::from("/a/one"), PathBuf::from("/b/two")]
        );
    }
}
