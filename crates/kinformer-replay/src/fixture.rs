//! Cluster fixtures (format 1 of `docs/fixtures.md`): objects to load at start, then a
//! timeline of scripted changes and faults that the server plays, each step a delay after
//! the previous one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::faults::{Fault, FaultRule};
use crate::handle::Handle;
use crate::server::ServerConfig;

/// A cluster state plus a timeline.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// A free-form description.
    #[serde(default)]
    pub description: Option<String>,
    /// CustomResourceDefinitions to register (and store) before the objects load.
    #[serde(default)]
    pub crds: Vec<Value>,
    /// Objects loaded at start, in order (namespaces first is wise).
    #[serde(default)]
    pub objects: Vec<Value>,
    /// Changes and faults played after start.
    #[serde(default)]
    pub timeline: Vec<Step>,
}

/// One timeline step: wait `after`, then do the action.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Delay after the previous step, such as `500ms`, `2s` or `1m` (default `0s`).
    #[serde(default, deserialize_with = "duration")]
    pub after: Duration,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// Create this object.
    Create(Value),
    /// Replace this object (status included; resourceVersion optional).
    Update(Value),
    /// Merge-patch an object named by `apiVersion`, `kind`, `namespace`, `name`.
    Patch {
        /// The target's apiVersion.
        #[serde(rename = "apiVersion")]
        api_version: String,
        /// The target's kind.
        kind: String,
        /// The target's namespace.
        #[serde(default)]
        namespace: Option<String>,
        /// The target's name.
        name: String,
        /// The RFC 7386 merge patch.
        merge: Value,
    },
    /// Delete the object named by `apiVersion`, `kind`, `namespace`, `name`.
    Delete {
        /// The target's apiVersion.
        #[serde(rename = "apiVersion")]
        api_version: String,
        /// The target's kind.
        kind: String,
        /// The target's namespace.
        #[serde(default)]
        namespace: Option<String>,
        /// The target's name.
        name: String,
    },
    /// Arm a fault.
    Fault(FaultSpec),
    /// Disarm every fault.
    ClearFaults(bool),
    /// Compact the whole history.
    Compact(bool),
}

/// A fault as a fixture writes it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultSpec {
    /// `Status`, `CloseAfterEvents`, `CloseAfterBytes`, `GoneAfterEvents`, `Stall` or
    /// `DropInitialEventsEnd`.
    #[serde(rename = "type")]
    pub fault_type: String,
    /// The HTTP code for `Status`, N for the counting faults.
    #[serde(default)]
    pub count: Option<u64>,
    /// Retry-After seconds for `Status`.
    #[serde(default)]
    pub retry_after_seconds: Option<u32>,
    /// Only this verb.
    #[serde(default)]
    pub verb: Option<String>,
    /// Only paths containing this.
    #[serde(default)]
    pub path: Option<String>,
    /// How many requests it hits (default 1; 0 means always).
    #[serde(default)]
    pub times: Option<usize>,
}

fn duration<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "invalid duration {text:?}, expected e.g. 500ms, 2s, 1m"
        ))
    })
}

/// Parses `250ms`, `2s`, `1.5s`, `1m`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

impl FaultSpec {
    /// The rule this spec arms.
    pub fn rule(&self) -> std::result::Result<FaultRule, String> {
        let count = || {
            self.count
                .ok_or_else(|| format!("fault {} needs count", self.fault_type))
        };
        let fault = match self.fault_type.as_str() {
            "Status" => Fault::Status {
                code: u16::try_from(count()?)
                    .map_err(|_| "status code out of range".to_string())?,
                retry_after_seconds: self.retry_after_seconds,
            },
            "CloseAfterEvents" => Fault::CloseAfterEvents(count()? as usize),
            "CloseAfterBytes" => Fault::CloseAfterBytes(count()? as usize),
            "GoneAfterEvents" => Fault::GoneAfterEvents(count()? as usize),
            "Stall" => Fault::Stall,
            "DropInitialEventsEnd" => Fault::DropInitialEventsEnd,
            other => return Err(format!("unknown fault type {other:?}")),
        };
        let mut rule = FaultRule::new(fault);
        if let Some(verb) = &self.verb {
            rule = rule.verb(verb);
        }
        if let Some(path) = &self.path {
            rule = rule.path(path);
        }
        rule = match self.times {
            Some(0) => rule.always(),
            Some(n) => rule.times(n),
            None => rule,
        };
        Ok(rule)
    }
}

impl Fixture {
    /// Parses a fixture from YAML (or JSON) text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let fixture: Fixture = serde_yaml::from_str(text).map_err(|e| Error::FixtureInvalid {
            path: origin.to_path_buf(),
            message: e.to_string(),
        })?;
        for step in &fixture.timeline {
            if let Action::Fault(spec) = &step.action {
                spec.rule().map_err(|message| Error::FixtureInvalid {
                    path: origin.to_path_buf(),
                    message,
                })?;
            }
        }
        Ok(fixture)
    }

    /// Reads and parses a fixture file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::FileFailed {
            path: PathBuf::from(path),
            source,
        })?;
        Fixture::parse(&text, path)
    }

    /// The configuration with this fixture's CRDs registered and its objects (CRDs first) loaded.
    pub fn configure(&self, mut config: ServerConfig) -> ServerConfig {
        for crd in &self.crds {
            config = config.crd(crd);
        }
        config.objects(
            self.crds
                .iter()
                .cloned()
                .chain(self.objects.iter().cloned()),
        )
    }

    /// Plays the timeline against a running server; sleeps go through `tokio::time`.
    pub async fn play(&self, handle: &Handle) -> Result<()> {
        for step in &self.timeline {
            if !step.after.is_zero() {
                tokio::time::sleep(step.after).await;
            }
            apply(handle, &step.action)?;
        }
        Ok(())
    }
}

fn apply(handle: &Handle, action: &Action) -> Result<()> {
    match action {
        Action::Create(object) => {
            handle.create(object.clone())?;
        }
        Action::Update(object) => {
            handle.update(object.clone())?;
        }
        Action::Patch {
            api_version,
            kind,
            namespace,
            name,
            merge,
        } => {
            let Some(mut object) = handle.get(api_version, kind, namespace.as_deref(), name) else {
                return Err(Error::Rejected {
                    status: Box::new(kinformer_meta::Status::failure(
                        404,
                        "NotFound",
                        format!("{kind} {name:?} not found"),
                    )),
                });
            };
            crate::patch::merge_patch(&mut object, merge);
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.remove("resourceVersion");
            }
            handle.update(object)?;
        }
        Action::Delete {
            api_version,
            kind,
            namespace,
            name,
        } => {
            handle.delete(api_version, kind, namespace.as_deref(), name)?;
        }
        Action::Fault(spec) => {
            if let Ok(rule) = spec.rule() {
                handle.inject(rule);
            }
        }
        Action::ClearFaults(_) => handle.clear_faults(),
        Action::Compact(_) => handle.compact(),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_milliseconds_seconds_and_minutes() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("3h"), None);
    }

    #[test]
    fn a_fixture_parses_objects_and_every_kind_of_step() {
        let text = r#"
objects:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
timeline:
  - after: 1s
    create: {apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: shop}}
  - patch: {apiVersion: v1, kind: ConfigMap, namespace: shop, name: c, merge: {data: {a: "1"}}}
  - delete: {apiVersion: v1, kind: ConfigMap, namespace: shop, name: c}
  - fault: {type: Status, count: 429, retryAfterSeconds: 2, verb: list, times: 3}
  - clearFaults: true
  - compact: true
"#;
        let fixture = Fixture::parse(text, Path::new("inline")).unwrap();
        assert_eq!(fixture.objects.len(), 1);
        assert_eq!(fixture.timeline.len(), 6);
        assert_eq!(fixture.timeline[0].after, Duration::from_secs(1));
        assert!(matches!(fixture.timeline[3].action, Action::Fault(_)));
    }

    #[test]
    fn unknown_fields_and_fault_types_are_named_errors() {
        let err = Fixture::parse("objectz: []", Path::new("f.yaml")).unwrap_err();
        assert!(matches!(err, Error::FixtureInvalid { .. }));
        let err = Fixture::parse(
            "timeline:\n  - fault: {type: Explode}\n",
            Path::new("f.yaml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("f.yaml"));
        let err = Fixture::parse(
            "timeline:\n  - after: soon\n    compact: true\n",
            Path::new("f.yaml"),
        )
        .unwrap_err();
        assert!(matches!(err, Error::FixtureInvalid { .. }));
    }
}
