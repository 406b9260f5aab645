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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    End,
    Identifier(&'a str),
    In,
    NotIn,
    OpenParen,
    CloseParen,
    Comma,
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    GreaterThan,
    LessThan,
}

impl Token<'_> {
    fn describe(self) -> String {
        match self {
            Token::End => "end of string".to_owned(),
            Token::Identifier(text) => format!("'{text}'"),
            Token::In => "'in'".to_owned(),
            Token::NotIn => "'notin'".to_owned(),
            Token::OpenParen => "'('".to_owned(),
            Token::CloseParen => "')'".to_owned(),
            Token::Comma => "','".to_owned(),
            Token::Bang => "'!'".to_owned(),
            Token::Equals => "'='".to_owned(),
            Token::DoubleEquals => "'=='".to_owned(),
            Token::NotEquals => "'!='".to_owned(),
            Token::GreaterThan => "'>'".to_owned(),
            Token::LessThan => "'<'".to_owned(),
        }
    }

    /// In a value position the words `in` and `notin` are plain identifiers.
    fn as_value(self) -> Self {
        match self {
            Token::In => Token::Identifier("in"),
            Token::NotIn => Token::Identifier("notin"),
            other => other,
        }
    }
}

fn is_special(byte: u8) -> bool {
    matches!(byte, b'=' | b'!' | b'(' | b')' | b',' | b'<' | b'>')
}

fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

/// A recursive-descent parser over client-go's token set, remembering token offsets.
struct Parser<'a> {
    input: &'a str,
    position: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser { input, position: 0 }
    }

    /// The next token and its offset, without consuming it.
    fn peek(&self) -> (Token<'a>, usize) {
        self.scan().0
    }

    fn next(&mut self) -> (Token<'a>, usize) {
        let (token, end) = self.scan();
        self.position = end;
        token
    }

    fn scan(&self) -> ((Token<'a>, usize), usize) {
        let bytes = self.input.as_bytes();
        let mut start = self.position;
        while start < bytes.len() && is_whitespace(bytes[start]) {
            start += 1;
        }
        if start == bytes.len() {
            return ((Token::End, start), start);
        }
        let two = bytes.get(start..start + 2);
        let (token, length) = match (bytes[start], two) {
            (_, Some(b"==")) => (Token::DoubleEquals, 2),
            (_, Some(b"!=")) => (Token::NotEquals, 2),
            (b'=', _) => (Token::Equals, 1),
            (b'!', _) => (Token::Bang, 1),
            (b'(', _) => (Token::OpenParen, 1),
            (b')', _) => (Token::CloseParen, 1),
            (b',', _) => (Token::Comma, 1),
            (b'>', _) => (Token::GreaterThan, 1),
            (b'<', _) => (Token::LessThan, 1),
            _ => {
                let end = bytes[start..]
                    .iter()
                    .position(|&b| is_whitespace(b) || is_special(b))
                    .map_or(bytes.len(), |length| start + length);
                let word = &self.input[start..end];
                let token = match word {
                    "in" => Token::In,
                    "notin" => Token::NotIn,
                    _ => Token::Identifier(word),
                };
                return ((token, start), end);
            }
        };
        ((token, start), start + length)
    }

    fn parse(&mut self) -> std::result::Result<Vec<Requirement>, Problem> {
        let mut requirements = Vec::new();
        match self.peek() {
            (Token::End, _) => return Ok(requirements),
            (Token::Identifier(_) | Token::Bang, _) => {}
            (token, offset) => {
                return Err(Problem::at(
                    offset,
                    format!(
                        "found {}, expected: !, identifier, or 'end of string'",
                        token.describe()
                    ),
                ))
            }
        }
        loop {
            requirements.push(self.parse_requirement()?);
            match self.next() {
                (Token::End, _) => return Ok(requirements),
                (Token::Comma, _) => match self.peek() {
                    (Token::Identifier(_) | Token::Bang, _) => {}
                    (token, offset) => {
                        return Err(Problem::at(
                            offset,
                            format!("found {}, expected: identifier after ','", token.describe()),
                        ))
                    }
                },
                (token, offset) => {
                    return Err(Problem::at(
                        offset,
                        format!(
                            "found {}, expected: ',' or 'end of string'",
                            token.describe()
                        ),
                    ))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> std::result::Result<Requirement, Problem> {
        let mut negated = false;
        let (mut token, mut offset) = self.next();
        if token == Token::Bang {
            negated = true;
            (token, offset) = self.next();
        }
        let Token::Identifier(key) = token else {
            return Err(Problem::at(
                offset,
                format!("found {}, expected: identifier", token.describe()),
            ));
        };
        validate_key(key).map_err(|problem| problem.shifted(offset))?;
        if negated {
            return Ok(Requirement {
                key: key.to_owned(),
                operator: Operator::DoesNotExist,
                values: Vec::new(),
            });
        }
        let (token, operator_offset) = self.peek();
        let operator = match token {
            Token::End | Token::Comma => {
                return Ok(Requirement {
                    key: key.to_owned(),
                    operator: Operator::Exists,
                    values: Vec::new(),
                })
            }
            Token::In => Operator::In,
            Token::NotIn => Operator::NotIn,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::NotEquals => Operator::NotEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            other => {
                return Err(Problem::at(
                    operator_offset,
                    format!(
                        "found {}, expected: in, notin, =, ==, !=, gt, lt",
                        other.describe()
                    ),
                ))
            }
        };
        self.next();
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_value_set()?,
            _ => vec![self.parse_exact_value()?],
        };
        if matches!(operator, Operator::GreaterThan | Operator::LessThan) {
            let (value, value_offset) = &values[0];
            if value.parse::<i64>().is_err() {
                return Err(Problem::at(
                    *value_offset,
                    format!(
                        "for 'gt', 'lt' operators, the value must be an integer, not {value:?}"
                    ),
                ));
            }
        } else {
            for (value, value_offset) in &values {
                validate_value(value).map_err(|problem| problem.shifted(*value_offset))?;
            }
        }
        let mut values: Vec<String> = values
            .into_iter()
            .map(|(value, _)| value.to_owned())
            .collect();
        values.sort();
        values.dedup();
        Ok(Requirement {
            key: key.to_owned(),
            operator,
            values,
        })
    }

    /// The value after `=`, `==`, `!=`, `>` or `<`; nothing before `,` or the end means "".
    fn parse_exact_value(&mut self) -> std::result::Result<(&'a str, usize), Problem> {
        match self.peek() {
            (Token::End | Token::Comma, offset) => Ok(("", offset)),
            _ => {
                let (token, offset) = self.next();
                match token.as_value() {
                    Token::Identifier(value) => Ok((value, offset)),
                    other => Err(Problem::at(
                        offset,
                        format!("found {}, expected: identifier", other.describe()),
                    )),
                }
            }
        }
    }

    /// `( v1, v2 )`; an empty slot between commas is the empty value.
    fn parse_value_set(&mut self) -> std::result::Result<Vec<(&'a str, usize)>, Problem> {
        let (token, offset) = self.next();
        if token != Token::OpenParen {
            return Err(Problem::at(
                offset,
                format!("found {}, expected: '('", token.describe()),
            ));
        }
        if let (Token::CloseParen, offset) = self.peek() {
            return Err(Problem::at(
                offset,
                "for 'in', 'notin' operators, values set can't be empty",
            ));
        }
        let mut values = Vec::new();
        let mut expecting_value = true;
        loop {
            let (token, offset) = self.next();
            match token.as_value() {
                Token::Identifier(value) if expecting_value => {
                    values.push((value, offset));
                    expecting_value = false;
                }
                Token::Comma => {
                    if expecting_value {
                        values.push(("", offset));
                    }
                    expecting_value = true;
                }
                Token::CloseParen => {
                    if expecting_value {
                        values.push(("", offset));
                    }
                    return Ok(values);
                }
                Token::End => {
                    return Err(Problem::at(
                        offset,
                        "found end of string, expected: ')' (unbalanced parenthesis)",
                    ))
                }
                other => {
                    let expected = if expecting_value {
                        "',', ')' or identifier"
                    } else {
                        "',' or ')'"
                    };
                    return Err(Problem::at(
                        offset,
                        format!("found {}, expected: {expected}", other.describe()),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Selector, canonical form, labels that match, labels that do not.
    type Row<'a> = (
        &'a str,
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [(&'a str, &'a str)],
    );

    fn labels(pairs: &[(&str, &str)]) -> StringMap {
        pairs.iter().copied().collect()
    }

    #[test]
    fn valid_selectors_parse_match_and_print_canonically() {
        let table: &[Row] = &[
            ("", "", &[("a", "b")], &[]),
            ("  ", "", &[], &[]),
            ("a=b", "a=b", &[("a", "b")], &[("a", "c")]),
            ("a==b", "a==b", &[("a", "b")], &[]),
            ("a!=b", "a!=b", &[], &[("a", "b")]),
            ("a!=b", "a!=b", &[("a", "c")], &[("a", "b")]),
            ("a", "a", &[("a", "")], &[("b", "x")]),
            ("!a", "!a", &[("b", "x")], &[("a", "")]),
            ("a in (y,x)", "a in (x,y)", &[("a", "y")], &[("a", "z")]),
            ("a in (x,x,y)", "a in (x,y)", &[("a", "x")], &[]),
            ("a notin (x)", "a notin (x)", &[("b", "x")], &[("a", "x")]),
            ("a notin (x)", "a notin (x)", &[("a", "y")], &[("a", "x")]),
            (
                " b = 2 , a in ( x , y ) ",
                "a in (x,y),b=2",
                &[("a", "x"), ("b", "2")],
                &[("a", "x"), ("b", "3")],
            ),
            (
                "z,!y,x!=1",
                "x!=1,!y,z",
                &[("z", "1")],
                &[("z", "1"), ("y", "1")],
            ),
            ("a=", "a=", &[("a", "")], &[("a", "x")]),
            ("a in (x,)", "a in (,x)", &[("a", "")], &[("a", "y")]),
            ("a=in", "a=in", &[("a", "in")], &[]),
            ("a in (in,notin)", "a in (in,notin)", &[("a", "notin")], &[]),
            (
                "example.com/tier=web",
                "example.com/tier=web",
                &[("example.com/tier", "web")],
                &[("tier", "web")],
            ),
            ("a>1", "a>1", &[("a", "2")], &[("a", "1")]),
            ("a<1", "a<1", &[("a", "-3")], &[("a", "x")]),
            ("a\t=\nb", "a=b", &[("a", "b")], &[]),
        ];
        for (input, canonical, matching, not_matching) in table {
            let selector = Selector::parse(input)
                .unwrap_or_else(|error| panic!("{input:?} should parse: {error}"));
            assert_eq!(selector.to_string(), *canonical, "printing {input:?}");
            assert!(
                selector.matches(&labels(matching)),
                "{input:?} should match {matching:?}"
            );
            if !canonical.is_empty() {
                assert!(
                    !selector.matches(&labels(not_matching)),
                    "{input:?} should not match {not_matching:?}"
                );
            }
            let reparsed = Selector::parse(&selector.to_string()).unwrap();
            assert_eq!(
                reparsed, selector,
                "canonical form of {input:?} reparses equal"
            );
        }
    }

    #[test]
    fn invalid_selectors_name_position_and_problem() {
        let long_value = "v".repeat(64);
        let long_name = "n".repeat(64);
        let long_prefix = format!("{}/a", "p".repeat(254));
        let too_long_value = format!("a={long_value}");
        let too_long_key = format!("{long_name}=x");
        let too_long_prefix = format!("{long_prefix}=x");
        // (selector, position, a fragment of the problem)
        let table: &[(&str, usize, &str)] = &[
            ("a in ()", 6, "values set can't be empty"),
            ("a notin ( )", 10, "values set can't be empty"),
            ("a in (x", 7, "unbalanced"),
            ("a in (x,y", 9, "unbalanced"),
            ("a in x", 5, "expected: '('"),
            ("a in (x y)", 8, "expected: ',' or ')'"),
            ("a in ((x)", 6, "expected: ',', ')' or identifier"),
            ("a=b)", 3, "expected: ',' or 'end of string'"),
            ("(a)", 0, "expected: !, identifier"),
            ("a=b,", 4, "identifier after ','"),
            ("a=b,,c", 4, "identifier after ','"),
            ("a b", 2, "expected: in, notin"),
            ("!", 1, "expected: identifier"),
            ("!a=b", 2, "expected: ',' or 'end of string'"),
            ("a=b=c", 3, "expected: ',' or 'end of string'"),
            ("a=(b)", 2, "expected: identifier"),
            ("a$=b", 1, "key name part"),
            ("-a=b", 0, "key name part"),
            ("a-=b", 1, "key name part"),
            ("a=b$c", 3, "label value"),
            ("a=-b", 2, "label value"),
            ("a in (x,y%)", 9, "label value"),
            ("x=é", 2, "label value"),
            (&too_long_value, 2, "no more than 63"),
            (&too_long_key, 0, "no more than 63"),
            (&too_long_prefix, 0, "no more than 253"),
            ("Example.com/a=b", 0, "prefix part"),
            ("example..com/a=b", 8, "prefix part"),
            ("/a=b", 0, "prefix part must be non-empty"),
            ("x, example.com/=b", 15, "name part must be non-empty"),
            ("a/b/c=d", 3, "one '/'"),
            ("a>x", 2, "must be an integer"),
            ("a in (x),b notin", 16, "expected: '('"),
        ];
        for (input, position, fragment) in table {
            match Selector::parse(input) {
                Err(Error::InvalidSelector {
                    selector,
                    position: found,
                    problem,
                }) => {
                    assert_eq!(&selector, input);
                    assert_eq!(found, *position, "position for {input:?}: {problem}");
                    assert!(
                        problem.contains(fragment),
                        "problem for {input:?} was {problem:?}"
                    );
                }
                other => panic!("{input:?} should be invalid, got {other:?}"),
            }
        }
    }

    #[test]
    fn label_selector_object_converts_to_an_equivalent_selector() {
        let object: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["b", "a"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "Exists"},
                {"key": "env", "operator": "NotIn", "values": ["dev"]}
            ]
        }))
        .unwrap();
        let selector = Selector::try_from(&object).unwrap();
        assert_eq!(
            selector.to_string(),
            "app=web,!canary,env notin (dev),tier in (a,b),zone"
        );
        assert!(selector.matches(&labels(&[("app", "web"), ("tier", "a"), ("zone", "1")])));
        assert!(!selector.matches(&labels(&[("app", "web"), ("tier", "c"), ("zone", "1")])));
        assert!(Selector::try_from(&LabelSelector::default())
            .unwrap()
            .is_everything());
    }

    #[test]
    fn label_selector_with_unknown_operator_or_bad_values_is_rejected() {
        let bad_operator: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]
        }))
        .unwrap();
        let error = Selector::try_from(&bad_operator).unwrap_err();
        assert!(error
            .to_string()
            .contains("not a valid label selector operator"));

        let empty_in: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchExpressions": [{"key": "a", "operator": "In", "values": []}]
        }))
        .unwrap();
        assert!(Selector::try_from(&empty_in).is_err());

        let exists_with_values: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]
        }))
        .unwrap();
        assert!(Selector::try_from(&exists_with_values).is_err());

        let bad_label = LabelSelector {
            match_labels: StringMap::from([("a", "b c")]),
            match_expressions: Vec::new(),
        };
        assert!(Selector::try_from(&bad_label).is_err());
    }

    #[test]
    fn exact_match_is_reported_only_for_single_value_equality() {
        let selector = Selector::parse("a=1,b in (2),c in (3,4),d!=5").unwrap();
        assert_eq!(selector.requires_exact_match("a"), Some("1"));
        assert_eq!(selector.requires_exact_match("b"), Some("2"));
        assert_eq!(selector.requires_exact_match("c"), None);
        assert_eq!(selector.requires_exact_match("d"), None);
        assert_eq!(selector.requires_exact_match("e"), None);
    }

    #[test]
    fn built_selectors_stay_sorted_and_match_through_a_lookup_function() {
        let selector = Selector::from_labels(&labels(&[("b", "2"), ("a", "1")]))
            .unwrap()
            .with_requirement(Requirement::new("aa", Operator::NotIn, vec!["x".into()]).unwrap());
        assert_eq!(selector.to_string(), "a=1,aa notin (x),b=2");
        assert!(selector.matches_with(|key| match key {
            "a" => Some("1"),
            "b" => Some("2"),
            _ => None,
        }));
        assert!(Requirement::new("a", Operator::Equals, vec![]).is_err());
        assert!(Requirement::new("bad key", Operator::Exists, vec![]).is_err());
    }
}
