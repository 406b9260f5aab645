//! Printing: kubectl-style tables (columns padded by three spaces), ages as kubectl shows
//! them (`45s`, `3m20s`, `5h`, `12d`), `kind.group/name` names, and JSON/YAML documents.

use std::io::Write;

use kinformer::dynamic::DynamicObject;
use kinformer::meta::Time;
use serde_json::Value;

use crate::error::{Error, Result};

/// A table: a header row and data rows, printed with aligned columns.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text: each column as wide as its widest cell plus three spaces, the last
    /// column unpadded.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (index, width) in widths.iter().enumerate() {
                let cell = row.get(index).map(String::as_str).unwrap_or("");
                line.push_str(cell);
                if index + 1 < columns {
                    let pad = width - cell.chars().count() + 3;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// kubectl's human-readable age of a duration in seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    let minutes = seconds / 60;
    let hours = seconds / 3600;
    let days = hours / 24;
    let years = days / 365;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        match seconds % 60 {
            0 => format!("{minutes}m"),
            rest => format!("{minutes}m{rest}s"),
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        match minutes % 60 {
            0 => format!("{hours}h"),
            rest => format!("{hours}h{rest}m"),
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        match hours % 24 {
            0 => format!("{days}d"),
            rest => format!("{days}d{rest}h"),
        }
    } else if days < 365 * 2 {
        format!("{days}d")
    } else if years < 8 {
        match days % 365 {
            0 => format!("{years}y"),
            rest => format!("{years}y{rest}d"),
        }
    } else {
        format!("{years}y")
    }
}

/// The AGE cell of an object created at `created` (`<unknown>` without a timestamp).
pub fn age(created: Option<&Time>, now: &Time) -> String {
    match created {
        Some(created) => human_duration(now.unix_seconds() - created.unix_seconds()),
        None => "<unknown>".into(),
    }
}

/// kubectl's `-o name` form: `pod/web`, `deployment.apps/web`.
pub fn qualified_name(kind: &str, group: &str, name: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    if group.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}.{group}/{name}")
    }
}

/// An object as JSON.
pub fn to_json(object: &DynamicObject) -> Result<Value> {
    object.to_json_value().map_err(|e| Error::EncodeFailed {
        what: object.metadata.name().to_owned(),
        format: "json",
        message: e.to_string(),
    })
}

/// One object, or a `List` of several, as JSON or YAML.
pub fn document(objects: &[DynamicObject], single: bool) -> Result<Value> {
    if single {
        if let Some(object) = objects.first() {
            return to_json(object);
        }
    }
    let items = objects.iter().map(to_json).collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": items,
        "metadata": {"resourceVersion": ""},
    }))
}

/// Writes a JSON document, pretty-printed, with a final newline.
pub fn write_json(out: &mut impl Write, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::EncodeFailed {
        what: "the output".into(),
        format: "json",
        message: e.to_string(),
    })?;
    writeln!(out, "{text}")?;
    Ok(())
}

/// Writes a YAML document.
pub fn write_yaml(out: &mut impl Write, value: &Value) -> Result<()> {
    let text = serde_yaml::to_string(value).map_err(|e| Error::EncodeFailed {
        what: "the output".into(),
        format: "yaml",
        message: e.to_string(),
    })?;
    out.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_duration_follows_kubectl_buckets() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 5 * 60), "3h5m");
        assert_eq!(human_duration(20 * 3600), "20h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(40 * 86400), "40d");
        assert_eq!(human_duration(3 * 365 * 86400), "3y");
        assert_eq!(human_duration(-30), "<invalid>");
    }

    #[test]
    fn table_pads_columns_by_three_spaces_and_trims_the_last() {
        let mut table = Table::new(["NAME", "AGE"]);
        table.row(vec!["web-1".into(), "5s".into()]);
        table.row(vec!["a".into(), "10m".into()]);
        assert_eq!(table.render(), "NAME    AGE\nweb-1   5s\na       10m\n");
    }

    #[test]
    fn qualified_name_adds_the_group_when_there_is_one() {
        assert_eq!(qualified_name("Pod", "", "web"), "pod/web");
        assert_eq!(
            qualified_name("Deployment", "apps", "web"),
            "deployment.apps/web"
        );
    }
}
