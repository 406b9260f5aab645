//! `IntOrString`: a value that is either an integer or a string (ports, `maxSurge: 25%`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// An integer or a string, as the API's `intstr.IntOrString`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IntOrString {
    /// An integer value.
    Int(i32),
    /// A string value (a named port, a percentage).
    String(String),
}

impl IntOrString {
    /// The integer, or the string parsed as an integer (`"8080"`), when it is one.
    pub fn as_i32(&self) -> Option<i32> {
        match self {
            IntOrString::Int(n) => Some(*n),
            IntOrString::String(s) => s.parse().ok(),
        }
    }

    /// The whole percentage of a string such as `"25%"`; `None` for integers.
    pub fn percent(&self) -> Option<Result<i32>> {
        match self {
            IntOrString::Int(_) => None,
            IntOrString::String(s) => Some(parse_percent(s)),
        }
    }

    /// The value this stands for against `total`, as client-go's
    /// `GetScaledValueFromIntOrPercent`: an integer is itself; `"25%"` is 25% of `total`,
    /// rounded up when `round_up` (what `maxSurge` does) and down otherwise
    /// (`maxUnavailable`). A string that is not a whole percentage is an error.
    ///
    /// ```
    /// use kinformer_meta::IntOrString;
    /// let surge = IntOrString::String("25%".into());
    /// assert_eq!(surge.scaled_value(10, true).unwrap(), 3);
    /// assert_eq!(surge.scaled_value(10, false).unwrap(), 2);
    /// ```
    pub fn scaled_value(&self, total: i32, round_up: bool) -> Result<i32> {
        let percent = match self {
            IntOrString::Int(n) => return Ok(*n),
            IntOrString::String(s) => parse_percent(s)?,
        };
        let product = i64::from(percent) * i64::from(total);
        let scaled = if round_up {
            product.div_ceil_signed(100)
        } else {
            product.div_euclid(100)
        };
        i32::try_from(scaled).map_err(|_| Error::InvalidQuantity {
            value: self.to_string(),
            problem: "scaled value does not fit a 32-bit integer",
        })
    }
}

/// Ceiling division for signed integers (stable `div_ceil` is unsigned-only).
trait DivCeilSigned {
    fn div_ceil_signed(self, divisor: Self) -> Self;
}

impl DivCeilSigned for i64 {
    fn div_ceil_signed(self, divisor: i64) -> i64 {
        let quotient = self.div_euclid(divisor);
        if self.rem_euclid(divisor) == 0 {
            quotient
        } else {
            quotient + 1
        }
    }
}

fn parse_percent(text: &str) -> Result<i32> {
    let invalid = |problem| Error::InvalidQuantity {
        value: text.to_owned(),
        problem,
    };
    let number = text
        .strip_suffix('%')
        .ok_or_else(|| invalid("string is not a percentage"))?;
    number
        .parse::<i32>()
        .map_err(|_| invalid("percentage is not a whole number"))
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(n) => serializer.serialize_i32(*n),
            IntOrString::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Int(i32),
            Text(String),
        }
        Ok(match Repr::deserialize(deserializer)? {
            Repr::Int(n) => IntOrString::Int(n),
            Repr::Text(s) => IntOrString::String(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_scale_against_a_total_rounding_as_asked() {
        let table: &[(IntOrString, i32, bool, i32)] = &[
            (IntOrString::Int(3), 10, true, 3),
            (IntOrString::Int(-1), 10, false, -1),
            (IntOrString::String("25%".into()), 10, true, 3),
            (IntOrString::String("25%".into()), 10, false, 2),
            (IntOrString::String("50%".into()), 10, true, 5),
            (IntOrString::String("0%".into()), 10, true, 0),
            (IntOrString::String("100%".into()), 7, false, 7),
            (IntOrString::String("1%".into()), 1, true, 1),
            (IntOrString::String("1%".into()), 1, false, 0),
            (IntOrString::String("200%".into()), 3, false, 6),
            (IntOrString::String("-25%".into()), 10, true, -2),
            (IntOrString::String("-25%".into()), 10, false, -3),
        ];
        for (value, total, round_up, expected) in table {
            assert_eq!(
                value.scaled_value(*total, *round_up).unwrap(),
                *expected,
                "{value} of {total}, round_up={round_up}"
            );
        }
    }

    #[test]
    fn strings_that_are_not_whole_percentages_are_errors() {
        for text in ["25", "abc", "%", "2.5%", "25 %", "99999999999%"] {
            let value = IntOrString::String(text.into());
            assert!(
                matches!(
                    value.scaled_value(10, true),
                    Err(Error::InvalidQuantity { .. })
                ),
                "{text:?} should be rejected"
            );
        }
        let huge = IntOrString::String("2000000000%".into());
        assert!(huge.scaled_value(1000, false).is_err());
    }

    #[test]
    fn integers_and_numeric_strings_read_as_numbers() {
        assert_eq!(IntOrString::Int(80).as_i32(), Some(80));
        assert_eq!(IntOrString::String("8080".into()).as_i32(), Some(8080));
        assert_eq!(IntOrString::String("http".into()).as_i32(), None);
        assert_eq!(IntOrString::Int(5).percent(), None);
        assert_eq!(
            IntOrString::String("30%".into())
                .percent()
                .unwrap()
                .unwrap(),
            30
        );
        let decoded: Vec<IntOrString> = serde_json::from_str(r#"[8080, "25%"]"#).unwrap();
        assert_eq!(serde_json::to_string(&decoded).unwrap(), r#"[8080,"25%"]"#);
    }
}
