//! Label selectors (`app=web,tier in (a,b),!canary`): parse, match, print canonically.
//!
//! The grammar and the canonical printing follow client-go's `labels` package: requirements
//! are sorted by key, set values are printed sorted, and each operator keeps its spelling
//! (`=` stays `=`, `==` stays `==`). Unlike client-go, errors carry the byte position of the
//! problem, and an empty value set (`a in ()`) is rejected instead of meaning `a in ("")`.

use std::fmt;

use crate::error::{Error, Result};
use crate::label_selector::LabelSelector;
use crate::string_map::StringMap;

mod parser;

use parser::Parser;

/// The longest label value, and the longest name part of a label key.
const MAX_NAME_LENGTH: usize = 63;
/// The longest DNS subdomain, the limit of a label key's prefix.
const MAX_PREFIX_LENGTH: usize = 253;

/// How a [`Requirement`] relates a label to its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// `key=value`: the label is present with that value.
    Equals,
    /// `key==value`: the same as [`Operator::Equals`], spelled with two signs.
    DoubleEquals,
    /// `key!=value`: the label is absent or has another value.
    NotEquals,
    /// `key in (a,b)`: the label is present with one of the values.
    In,
    /// `key notin (a,b)`: the label is absent or has none of the values.
    NotIn,
    /// `key`: the label is present.
    Exists,
    /// `!key`: the label is absent.
    DoesNotExist,
    /// `key>3`: the label is present and its integer value is greater.
    GreaterThan,
    /// `key<3`: the label is present and its integer value is smaller.
    LessThan,
}

impl Operator {
    /// The operator as spelled in a selector string (`in`, `notin`, `exists`, `!`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// One condition of a selector: a key, an operator and the values it compares with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// A validated requirement: the key must be a qualified name, the values valid label
    /// values, and their number fit the operator (one for `=`, `==`, `!=`, `gt`, `lt`; at
    /// least one for `in`/`notin`; none for `exists`/`!`). Values are kept sorted, once each.
    pub fn new(key: impl Into<String>, operator: Operator, values: Vec<String>) -> Result<Self> {
        let key = key.into();
        let requirement = build_requirement(key.clone(), operator, values).map_err(|problem| {
            Error::InvalidSelector {
                selector: key,
                position: problem.offset,
                problem: problem.message,
            }
        })?;
        Ok(requirement)
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, sorted; empty for `exists` and `!`.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// True when the labels that `get` looks up satisfy this requirement.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        let value = get(&self.key);
        match self.operator {
            Operator::Equals | Operator::DoubleEquals | Operator::In => {
                value.is_some_and(|value| self.has_value(value))
            }
            Operator::NotEquals | Operator::NotIn => {
                value.is_none_or(|value| !self.has_value(value))
            }
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(actual), Some(bound)) = (
                    value.and_then(|value| value.parse::<i64>().ok()),
                    self.values
                        .first()
                        .and_then(|value| value.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    actual > bound
                } else {
                    actual < bound
                }
            }
        }
    }

    fn has_value(&self, value: &str) -> bool {
        self.values
            .binary_search_by(|candidate| candidate.as_str().cmp(value))
            .is_ok()
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = match self.operator {
            Operator::DoesNotExist => return write!(f, "!{}", self.key),
            Operator::Exists => return f.write_str(&self.key),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
        };
        write!(f, "{}{}", self.key, separator)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        f.write_str(&self.values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: the conjunction of its requirements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The selector that matches every object (the empty selector).
    pub fn everything() -> Self {
        Selector::default()
    }

    /// Parses the selector syntax of the Kubernetes API; the empty string matches everything.
    ///
    /// ```
    /// use kinformer_meta::{labels::Selector, StringMap};
    /// let selector = Selector::parse("tier in (web, api), !canary").unwrap();
    /// assert!(selector.matches(&StringMap::from([("tier", "web")])));
    /// assert_eq!(selector.to_string(), "!canary,tier in (api,web)");
    /// ```
    pub fn parse(selector: &str) -> Result<Self> {
        let mut requirements =
            Parser::new(selector)
                .parse()
                .map_err(|problem| Error::InvalidSelector {
                    selector: selector.to_owned(),
                    position: problem.offset,
                    problem: problem.message,
                })?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector { requirements })
    }

    /// A selector requiring every label of `labels` to be equal (`a=1,b=2`), validated.
    pub fn from_labels(labels: &StringMap) -> Result<Self> {
        let requirements = labels
            .iter()
            .map(|(key, value)| Requirement::new(key, Operator::Equals, vec![value.to_owned()]))
            .collect::<Result<Vec<_>>>()?;
        Ok(Selector { requirements })
    }

    /// Adds a requirement, keeping the requirements sorted by key.
    pub fn with_requirement(mut self, requirement: Requirement) -> Self {
        let index = self
            .requirements
            .partition_point(|existing| existing.key <= requirement.key);
        self.requirements.insert(index, requirement);
        self
    }

    /// True when the selector has no requirements and so matches everything.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The value `key` must equal when the selector demands one exact value for it
    /// (`key=v`, `key==v` or `key in (v)`), as client-go's `RequiresExactMatch`.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        self.requirements
            .iter()
            .filter(|requirement| requirement.key == key)
            .find(|requirement| {
                matches!(
                    requirement.operator,
                    Operator::Equals | Operator::DoubleEquals | Operator::In
                ) && requirement.values.len() == 1
            })
            .map(|requirement| requirement.values[0].as_str())
    }

    /// True when `labels` satisfy every requirement.
    pub fn matches(&self, labels: &StringMap) -> bool {
        self.matches_with(|key| labels.get(key))
    }

    /// True when the labels that `get` looks up satisfy every requirement.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements
            .iter()
            .all(|requirement| requirement.matches_with(&get))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, requirement) in self.requirements.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
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

impl TryFrom<&LabelSelector> for Selector {
    type Error = Error;

    /// Converts the object form (`matchLabels` and `matchExpressions`), as client-go's
    /// `LabelSelectorAsSelector`; an empty label selector matches everything.
    fn try_from(selector: &LabelSelector) -> Result<Self> {
        let mut requirements = Vec::new();
        for (key, value) in selector.match_labels.iter() {
            requirements.push(
                build_requirement(key.to_owned(), Operator::Equals, vec![value.to_owned()])
                    .map_err(|problem| Error::InvalidSelector {
                        selector: format!("matchLabels {key}={value}"),
                        position: problem.offset,
                        problem: problem.message,
                    })?,
            );
        }
        for (index, expression) in selector.match_expressions.iter().enumerate() {
            let describe = || {
                format!(
                    "matchExpressions[{index}] {} {} {:?}",
                    expression.key, expression.operator, expression.values
                )
            };
            let operator = match expression.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(Error::InvalidSelector {
                        selector: describe(),
                        position: 0,
                        problem: format!("{other:?} is not a valid label selector operator"),
                    })
                }
            };
            requirements.push(
                build_requirement(expression.key.clone(), operator, expression.values.clone())
                    .map_err(|problem| Error::InvalidSelector {
                        selector: describe(),
                        position: problem.offset,
                        problem: problem.message,
                    })?,
            );
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector { requirements })
    }
}

/// A problem found while parsing: where (byte offset) and what.
struct Problem {
    offset: usize,
    message: String,
}

impl Problem {
    fn at(offset: usize, message: impl Into<String>) -> Self {
        Problem {
            offset,
            message: message.into(),
        }
    }

    fn shifted(mut self, by: usize) -> Self {
        self.offset += by;
        self
    }
}

fn build_requirement(
    key: String,
    operator: Operator,
    mut values: Vec<String>,
) -> std::result::Result<Requirement, Problem> {
    validate_key(&key)?;
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => {
            return Err(Problem::at(
                0,
                "for 'in', 'notin' operators, values set can't be empty",
            ))
        }
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if values.len() != 1 => {
            return Err(Problem::at(
                0,
                "exact-match compatibility requires one single value",
            ))
        }
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
            return Err(Problem::at(
                0,
                "values set must be empty for exists and does not exist",
            ))
        }
        Operator::GreaterThan | Operator::LessThan => {
            if values.len() != 1 {
                return Err(Problem::at(
                    0,
                    "for 'gt', 'lt' operators, exactly one value is required",
                ));
            }
            if values[0].parse::<i64>().is_err() {
                return Err(Problem::at(
                    0,
                    format!(
                        "for 'gt', 'lt' operators, the value must be an integer, not {:?}",
                        values[0]
                    ),
                ));
            }
        }
        _ => {}
    }
    if !matches!(operator, Operator::GreaterThan | Operator::LessThan) {
        for value in &values {
            validate_value(value)?;
        }
    }
    values.sort();
    values.dedup();
    Ok(Requirement {
        key,
        operator,
        values,
    })
}

/// Checks a label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric. Offsets are within `key`.
fn validate_key(key: &str) -> std::result::Result<(), Problem> {
    let (prefix, name, name_offset) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name, prefix.len() + 1),
        None => (None, key, 0),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            return Err(Problem::at(0, "label key prefix part must be non-empty"));
        }
        if prefix.len() > MAX_PREFIX_LENGTH {
            return Err(Problem::at(
                0,
                format!(
                    "label key prefix part must be no more than {MAX_PREFIX_LENGTH} characters"
                ),
            ));
        }
        if let Some(offset) = dns_subdomain_violation(prefix) {
            return Err(Problem::at(
                offset,
                "label key prefix part must be a lowercase RFC 1123 subdomain: lowercase \
                 alphanumerics, '-' and '.', each label starting and ending alphanumeric",
            ));
        }
        if let Some(slash) = name.find('/') {
            return Err(Problem::at(
                name_offset + slash,
                "label key must be a name with an optional prefix and one '/'",
            ));
        }
    }
    if name.is_empty() {
        return Err(Problem::at(
            name_offset,
            "label key name part must be non-empty",
        ));
    }
    if name.len() > MAX_NAME_LENGTH {
        return Err(Problem::at(
            name_offset,
            format!("label key name part must be no more than {MAX_NAME_LENGTH} characters"),
        ));
    }
    if let Some(offset) = name_violation(name) {
        return Err(Problem::at(
            name_offset + offset,
            "label key name part must consist of alphanumeric characters, '-', '_' or '.', \
             and must start and end with an alphanumeric character",
        ));
    }
    Ok(())
}

/// Checks a label value: empty, or at most 63 characters shaped like a key's name part.
fn validate_value(value: &str) -> std::result::Result<(), Problem> {
    if value.len() > MAX_NAME_LENGTH {
        return Err(Problem::at(
            0,
            format!("label value must be no more than {MAX_NAME_LENGTH} characters"),
        ));
    }
    if value.is_empty() {
        return Ok(());
    }
    if let Some(offset) = name_violation(value) {
        return Err(Problem::at(
            offset,
            "label value must be empty or consist of alphanumeric characters, '-', '_' or \
             '.', and must start and end with an alphanumeric character",
        ));
    }
    Ok(())
}

/// The offset of the first character breaking `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn name_violation(name: &str) -> Option<usize> {
    let bytes = name.as_bytes();
    if let Some(offset) = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    {
        return Some(offset);
    }
    if !bytes.first()?.is_ascii_alphanumeric() {
        return Some(0);
    }
    if !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Some(bytes.len() - 1);
    }
    None
}

/// The offset of the first character breaking a lowercase RFC 1123 subdomain.
fn dns_subdomain_violation(subdomain: &str) -> Option<usize> {
    let mut offset = 0;
    for label in subdomain.split('.') {
        let bytes = label.as_bytes();
        if bytes.is_empty() {
            return Some(offset);
        }
        if let Some(bad) = bytes
            .iter()
            .position(|&b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        {
            return Some(offset + bad);
        }
        if bytes[0] == b'-' {
            return Some(offset);
        }
        if bytes[bytes.len() - 1] == b'-' {
            return Some(offset + bytes.len() - 1);
        }
        offset += label.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests;
