//! The JSON line: medians of several runs, field by field, in the order of [`Measurement`].

use serde_json::Value;

use crate::sync::Measurement;

/// One JSON object, keys in [`Measurement`]'s field order, whose numeric fields are the
/// medians over `runs` (the upper median for an even count) and whose other fields come from
/// the first run; `runs` records the count.
pub fn median_line(runs: &[Measurement]) -> String {
    let rows: Vec<Vec<(&'static str, Value)>> = runs.iter().map(Measurement::fields).collect();
    let Some(first) = rows.first() else {
        return "{}".to_owned();
    };
    let mut parts = Vec::with_capacity(first.len() + 1);
    for (position, (key, value)) in first.iter().enumerate() {
        let numbers: Vec<f64> = rows
            .iter()
            .filter_map(|row| row.get(position).and_then(|(_, v)| v.as_f64()))
            .collect();
        let merged = match value {
            Value::Number(number) if numbers.len() == rows.len() => {
                let median = median(numbers);
                if number.is_f64() {
                    Value::from((median * 1000.0).round() / 1000.0)
                } else {
                    Value::from(median.round() as u64)
                }
            }
            other => other.clone(),
        };
        parts.push(format!("{}:{}", Value::from(*key), merged));
    }
    parts.push(format!("\"runs\":{}", rows.len()));
    format!("{{{}}}", parts.join(","))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(list_ms: f64, max_rss_kb: u64) -> Measurement {
        Measurement {
            pods: 10,
            events: 20,
            list_ms,
            max_rss_kb,
            pipeline: "p".into(),
            ..Measurement::default()
        }
    }

    #[test]
    fn the_line_carries_the_issue_keys_in_order_and_medians_of_the_runs() {
        let line = median_line(&[run(30.0, 5), run(10.0, 9), run(20.0, 7)]);
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["list_ms"], 20.0);
        assert_eq!(value["max_rss_kb"], 7);
        assert_eq!(value["pods"], 10);
        assert_eq!(value["pipeline"], "p");
        assert_eq!(value["runs"], 3);
        let expected = [
            "pods",
            "events",
            "list_ms",
            "watch_ms",
            "events_per_s",
            "max_rss_kb",
            "cache_bytes_per_object",
            "json_bytes_per_object",
            "relist_peak_rss_kb",
            "floor_list_ms",
            "floor_watch_ms",
            "list_ratio",
            "watch_ratio",
            "pipeline",
        ];
        let mut at = 0;
        for key in expected {
            let found = line[at..].find(&format!("\"{key}\":")).map(|i| i + at);
            assert!(found.is_some(), "{key} missing or out of order in {line}");
            at = found.unwrap_or(at);
        }
        assert!(
            line.starts_with("{\"pods\":10,\"events\":20,\"list_ms\":20.0,"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn no_runs_give_an_empty_object() {
        assert_eq!(median_line(&[]), "{}");
    }
}
