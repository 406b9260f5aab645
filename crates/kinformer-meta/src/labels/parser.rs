//! The label selector lexer and recursive-descent parser, with client-go's token set and
//! byte offsets for error positions.

use super::{validate_key, validate_value, Operator, Problem, Requirement};

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
pub(super) struct Parser<'a> {
    input: &'a str,
    position: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str) -> Self {
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

    pub(super) fn parse(&mut self) -> std::result::Result<Vec<Requirement>, Problem> {
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
