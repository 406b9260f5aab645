//! Field selectors (`metadata.name=x,metadata.namespace!=y`): parse, match, print.
//!
//! The syntax follows client-go's `fields` package: terms separated by `,`, each
//! `field=value`, `field==value` or `field!=value`; inside a value, `\,`, `\=` and `\\`
//! stand for the literal characters. `==` is read as `=` and printed as `=`. A field the
//! object lacks reads as the empty string, as in client-go.

use std::borrow::Cow;
use std::fmt;

use crate::error::{Error, Result};

/// How a [`FieldRequirement`] compares a field with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

/// One term of a field selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    /// The dotted field path, such as `metadata.name`.
    pub field: String,
    /// The comparison.
    pub operator: FieldOperator,
    /// The value, unescaped.
    pub value: String,
}

impl FieldRequirement {
    /// True when the field's value (missing reads as `""`) satisfies this term.
    pub fn matches(&self, actual: Option<&str>) -> bool {
        let equal = actual.unwrap_or("") == self.value;
        match self.operator {
            FieldOperator::Equals => equal,
            FieldOperator::NotEquals => !equal,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operator = match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        };
        write!(f, "{}{}{}", self.field, operator, escape_value(&self.value))
    }
}

/// A field selector: the conjunction of its terms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<FieldRequirement>,
}

impl Selector {
    /// The selector that matches every object.
    pub fn everything() -> Self {
        Selector::default()
    }

    /// Parses `field=value,field!=value`; the empty string matches everything.
    ///
    /// ```
    /// use kinformer_meta::fields::Selector;
    /// let selector = Selector::parse("metadata.name==web,status.phase!=Failed").unwrap();
    /// assert_eq!(selector.to_string(), "metadata.name=web,status.phase!=Failed");
    /// ```
    pub fn parse(selector: &str) -> Result<Self> {
        let invalid = |position: usize, problem: String| Error::InvalidSelector {
            selector: selector.to_owned(),
            position,
            problem,
        };
        let mut requirements = Vec::new();
        for (start, term) in split_terms(selector) {
            if term.trim().is_empty() {
                continue;
            }
            let Some((operator_at, operator, operator_len)) = find_operator(term) else {
                return Err(invalid(
                    start,
                    format!("can't understand {term:?}: expected field=value, field==value or field!=value"),
                ));
            };
            let field = term[..operator_at].trim();
            if field.is_empty() {
                return Err(invalid(start, "field name must be non-empty".to_owned()));
            }
            let value_start = operator_at + operator_len;
            let value = unescape_value(&term[value_start..])
                .map_err(|(offset, problem)| invalid(start + value_start + offset, problem))?;
            requirements.push(FieldRequirement {
                field: field.to_owned(),
                operator,
                value,
            });
        }
        Ok(Selector { requirements })
    }

    /// A selector requiring every `(field, value)` pair to be equal, sorted by field.
    pub fn from_pairs<F: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (F, V)>,
    ) -> Self {
        let mut requirements: Vec<FieldRequirement> = pairs
            .into_iter()
            .map(|(field, value)| FieldRequirement {
                field: field.into(),
                operator: FieldOperator::Equals,
                value: value.into(),
            })
            .collect();
        requirements.sort_by(|a, b| a.field.cmp(&b.field));
        Selector { requirements }
    }

    /// True when there are no terms.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The terms, in the order written.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// The value `field` must equal, when a term `field=value` demands it.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|term| term.field == field && term.operator == FieldOperator::Equals)
            .map(|term| term.value.as_str())
    }

    /// True when the fields that `get` looks up satisfy every term.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<Cow<'a, str>>) -> bool {
        self.requirements
            .iter()
            .all(|term| term.matches(get(&term.field).as_deref()))
    }

    /// True when `object`, read through dotted paths (`metadata.name`), satisfies every
    /// term. Strings compare as they are, numbers and booleans as their JSON text; objects,
    /// arrays, null and missing fields read as `""`.
    pub fn matches_json(&self, object: &serde_json::Value) -> bool {
        self.matches_with(|path| json_field(object, path))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, term) in self.requirements.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Selector {
    type Err = Error;
    fn from_str(selector: &str) -> Result<Self> {
        Selector::parse(selector)
    }
}

/// Escapes `\`, `,` and `=` in a value so that it can be written into a selector.
pub fn escape_value(value: &str) -> Cow<'_, str> {
    if !value.contains(['\\', ',', '=']) {
        return Cow::Borrowed(value);
    }
    let mut escaped = String::with_capacity(value.len() + 4);
    for character in value.chars() {
        if matches!(character, '\\' | ',' | '=') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    Cow::Owned(escaped)
}

/// The scalar at a dotted path of a JSON object, as text.
fn json_field<'a>(object: &'a serde_json::Value, path: &str) -> Option<Cow<'a, str>> {
    let mut current = object;
    for segment in path.split('.') {
        current = current.as_object()?.get(segment)?;
    }
    match current {
        serde_json::Value::String(text) => Some(Cow::Borrowed(text)),
        serde_json::Value::Number(number) => Some(Cow::Owned(number.to_string())),
        serde_json::Value::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
        _ => None,
    }
}

/// Splits on commas that are not escaped, with each term's byte offset.
fn split_terms(selector: &str) -> Vec<(usize, &str)> {
    let mut terms = Vec::new();
    if selector.is_empty() {
        return terms;
    }
    let bytes = selector.as_bytes();
    let mut start = 0;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b',' => {
                terms.push((start, &selector[start..index]));
                index += 1;
                start = index;
            }
            _ => index += 1,
        }
    }
    terms.push((start, &selector[start..]));
    terms
}

/// The first unescaped operator of a term: its offset, meaning and length.
fn find_operator(term: &str) -> Option<(usize, FieldOperator, usize)> {
    let bytes = term.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        match (bytes[index], bytes.get(index + 1)) {
            (b'\\', _) => {
                index += 2;
                continue;
            }
            (b'!', Some(b'=')) => return Some((index, FieldOperator::NotEquals, 2)),
            (b'=', Some(b'=')) => return Some((index, FieldOperator::Equals, 2)),
            (b'=', _) => return Some((index, FieldOperator::Equals, 1)),
            _ => {}
        }
        index += 1;
    }
    None
}

/// Undoes [`escape_value`]; an unknown escape or a bare `,`/`=` is an error at its offset.
fn unescape_value(value: &str) -> std::result::Result<String, (usize, String)> {
    let mut unescaped = String::with_capacity(value.len());
    let mut characters = value.char_indices();
    while let Some((offset, character)) = characters.next() {
        match character {
            '\\' => match characters.next() {
                Some((_, escaped @ ('\\' | ',' | '='))) => unescaped.push(escaped),
                Some((_, other)) => {
                    return Err((offset, format!("invalid escape sequence \\{other}")))
                }
                None => return Err((offset, "value ends in an unfinished escape".to_owned())),
            },
            ',' | '=' => {
                return Err((offset, format!("unescaped {character:?} in value")));
            }
            other => unescaped.push(other),
        }
    }
    Ok(unescaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_field_selectors_parse_and_print_canonically() {
        let table: &[(&str, &str, usize)] = &[
            ("", "", 0),
            ("metadata.name=x", "metadata.name=x", 1),
            ("metadata.name==x", "metadata.name=x", 1),
            ("metadata.namespace!=y", "metadata.namespace!=y", 1),
            ("a=1,b!=2", "a=1,b!=2", 2),
            ("a=1,,b=2", "a=1,b=2", 2),
            ("a=", "a=", 1),
            (r"a=x\,y\=z\\", r"a=x\,y\=z\\", 1),
            (" spec.nodeName = node-1", "spec.nodeName= node-1", 1),
        ];
        for (input, canonical, count) in table {
            let selector = Selector::parse(input).unwrap();
            assert_eq!(selector.to_string(), *canonical, "printing {input:?}");
            assert_eq!(selector.requirements().len(), *count);
            assert_eq!(Selector::parse(&selector.to_string()).unwrap(), selector);
        }
        let escaped = Selector::parse(r"a=x\,y\=z\\").unwrap();
        assert_eq!(escaped.requirements()[0].value, r"x,y=z\");
    }

    #[test]
    fn invalid_field_selectors_name_position_and_problem() {
        let table: &[(&str, usize, &str)] = &[
            ("metadata.name", 0, "can't understand"),
            ("a=1,b", 4, "can't understand"),
            ("=x", 0, "field name must be non-empty"),
            ("a=b=c", 3, "unescaped '='"),
            (r"a=b\x", 3, "invalid escape"),
            (r"a=b\", 3, "unfinished escape"),
            ("a=1,b!=x=y", 8, "unescaped '='"),
        ];
        for (input, position, fragment) in table {
            match Selector::parse(input) {
                Err(Error::InvalidSelector {
                    position: found,
                    problem,
                    ..
                }) => {
                    assert_eq!(found, *position, "position for {input:?}: {problem}");
                    assert!(problem.contains(fragment), "{input:?}: {problem}");
                }
                other => panic!("{input:?} should be invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn selectors_match_dotted_paths_of_json_objects() {
        let pod = serde_json::json!({
            "metadata": {"name": "web-1", "namespace": "prod"},
            "spec": {"nodeName": "node-a", "replicas": 3, "paused": false},
            "status": {"phase": "Running"}
        });
        let table: &[(&str, bool)] = &[
            ("", true),
            ("metadata.name=web-1", true),
            ("metadata.name=web-2", false),
            ("metadata.namespace!=prod", false),
            ("metadata.namespace!=dev,status.phase=Running", true),
            ("spec.replicas=3", true),
            ("spec.paused=false", true),
            ("spec.missing=", true),
            ("spec.missing!=", false),
            ("spec=x", false),
            ("metadata.name.deeper=x", false),
        ];
        for (input, expected) in table {
            let selector = Selector::parse(input).unwrap();
            assert_eq!(selector.matches_json(&pod), *expected, "{input:?}");
        }
    }

    #[test]
    fn lookups_and_exact_matches_work_without_json() {
        let selector = Selector::from_pairs([("metadata.namespace", "b"), ("metadata.name", "a")]);
        assert_eq!(selector.to_string(), "metadata.name=a,metadata.namespace=b");
        assert_eq!(selector.requires_exact_match("metadata.name"), Some("a"));
        assert!(selector.matches_with(|field| match field {
            "metadata.name" => Some(Cow::Borrowed("a")),
            "metadata.namespace" => Some(Cow::Owned("b".to_owned())),
            _ => None,
        }));
        assert!(!selector.matches_with(|_| None));
        assert!(Selector::everything().is_everything());
        assert_eq!(escape_value("plain"), "plain");
    }
}
