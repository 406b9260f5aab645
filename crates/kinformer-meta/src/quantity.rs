//! `Quantity`: a resource amount such as `500m`, `1Gi` or `2e3`, kept as the string the API
//! uses, with parsing to a number and canonical formatting.
//!
//! The rules are those of apimachinery's `resource.Quantity`: a signed decimal number and a
//! suffix (binary `Ki`..`Ei`, decimal `n`, `u`, `m`, `k`..`E`, or an exponent `e3`/`E-3`);
//! values are exact (never floating point), rounded up away from zero to nano units, and
//! printed in the suffix family they were written in, with the largest suffix that keeps
//! the number whole (`1000m` -> `1`, `1024Mi` -> `1Gi`, `0.5` -> `500m`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A Kubernetes resource quantity (`100m`, `1Gi`, `2e3`), kept as its string form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(pub String);

impl Quantity {
    /// Parses quantity text into its exact value.
    ///
    /// ```
    /// use kinformer_meta::Quantity;
    /// let memory = Quantity::parse("1.5Gi").unwrap();
    /// assert_eq!(memory.to_string(), "1536Mi");
    /// assert_eq!(Quantity::parse("250m").unwrap().as_millis(), Some(250));
    /// ```
    pub fn parse(text: &str) -> Result<ParsedQuantity> {
        ParsedQuantity::parse(text)
    }

    /// This quantity's exact value.
    pub fn to_parsed(&self) -> Result<ParsedQuantity> {
        ParsedQuantity::parse(&self.0)
    }

    /// The canonical spelling of this quantity (`1000m` becomes `1`).
    pub fn canonical(&self) -> Result<Quantity> {
        Ok(Quantity(self.to_parsed()?.to_string()))
    }

    /// The value in thousandths, rounded up away from zero (`250m` -> 250, `1` -> 1000).
    pub fn as_millis(&self) -> Result<i64> {
        self.to_parsed()?
            .as_millis()
            .ok_or_else(|| self.invalid("value does not fit 64-bit milli-units"))
    }

    /// The value in whole units, rounded up away from zero (`1500m` -> 2).
    pub fn as_i64(&self) -> Result<i64> {
        self.to_parsed()?
            .value()
            .ok_or_else(|| self.invalid("value does not fit a 64-bit integer"))
    }

    /// The value as a float, possibly losing precision.
    pub fn as_f64(&self) -> Result<f64> {
        Ok(self.to_parsed()?.as_f64())
    }

    fn invalid(&self, problem: &'static str) -> Error {
        Error::InvalidQuantity {
            value: self.0.clone(),
            problem,
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Quantity {
    fn from(value: &str) -> Self {
        Quantity(value.to_owned())
    }
}

impl From<ParsedQuantity> for Quantity {
    fn from(value: ParsedQuantity) -> Self {
        Quantity(value.to_string())
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Manifests written by hand often say `cpu: 1`; accept numbers as their text.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Int(i64),
            Float(f64),
        }
        Ok(Quantity(match Repr::deserialize(deserializer)? {
            Repr::Text(text) => text,
            Repr::Int(n) => n.to_string(),
            Repr::Float(x) => x.to_string(),
        }))
    }
}

/// The suffix family a quantity is written in, kept when it is printed again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// Powers of ten with SI letters: `500m`, `2k`, `1G`.
    DecimalSI,
    /// Powers of 1024: `512Ki`, `1Gi`.
    BinarySI,
    /// Powers of ten as exponents: `2e3`, `1e-3`.
    DecimalExponent,
}

/// The exact value of a quantity: `mantissa * 10^exponent`, and the suffix family it uses.
#[derive(Clone, Copy, Debug)]
pub struct ParsedQuantity {
    /// Signed mantissa without trailing zeros (zero only for the value zero).
    mantissa: i128,
    /// Power of ten; at least -9 after parsing (nano precision).
    exponent: i32,
    format: QuantityFormat,
}

/// The smallest unit a quantity keeps: 10^-9.
const NANO_EXPONENT: i32 = -9;
/// The largest exponent a decimal SI suffix can show (`E`, 10^18).
const MAX_SI_EXPONENT: i32 = 18;
/// The most significant digits kept exactly.
const MAX_DIGITS: usize = 38;

impl ParsedQuantity {
    /// Parses quantity text (`+1.5Gi`, `-250m`, `.5`, `2e3`, `1E-3`).
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = |problem| Error::InvalidQuantity {
            value: text.to_owned(),
            problem,
        };
        if text.is_empty() {
            return Err(invalid("quantity must not be empty"));
        }
        let (negative, rest) = match text.as_bytes()[0] {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = &rest[..whole_len];
        let mut rest = &rest[whole_len..];
        let mut fraction = "";
        if let Some(after_point) = rest.strip_prefix('.') {
            let fraction_len = after_point.bytes().take_while(u8::is_ascii_digit).count();
            fraction = &after_point[..fraction_len];
            rest = &after_point[fraction_len..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid("number part has no digits"));
        }
        let (base_exponent, binary_power, format) = interpret_suffix(rest).ok_or_else(|| {
            invalid(
                "unknown suffix: expected n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei \
                     or an exponent such as e3",
            )
        })?;

        // Gather the significant digits; the decimal point becomes part of the exponent.
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        let trimmed = digits.trim_end_matches('0');
        let trailing_zeros = digits.len() - trimmed.len();
        if trimmed.len() > MAX_DIGITS {
            return Err(invalid("number has more than 38 significant digits"));
        }
        let mut mantissa: i128 = if trimmed.is_empty() {
            0
        } else {
            trimmed
                .parse()
                .map_err(|_| invalid("number part is malformed"))?
        };
        let exponent = i64::from(base_exponent) - fraction.len() as i64 + trailing_zeros as i64;
        let exponent = i32::try_from(exponent).map_err(|_| invalid("exponent is out of range"))?;
        if binary_power > 0 {
            mantissa = mantissa
                .checked_mul(1i128 << binary_power)
                .ok_or_else(|| invalid("number has too many significant digits"))?;
        }
        if negative {
            mantissa = -mantissa;
        }
        let mut parsed = ParsedQuantity::normalized(mantissa, exponent, format);

        // Anything finer than a nano unit rounds up (away from zero) to one.
        if parsed.exponent < NANO_EXPONENT && parsed.mantissa != 0 {
            let shift = (NANO_EXPONENT - parsed.exponent) as u32;
            let magnitude = parsed.mantissa.unsigned_abs();
            let rounded = match 10u128.checked_pow(shift) {
                Some(divisor) => magnitude.div_ceil(divisor),
                None => 1,
            };
            let rounded = rounded as i128 * parsed.mantissa.signum();
            parsed = ParsedQuantity::normalized(rounded, NANO_EXPONENT, format);
        }
        if parsed.format == QuantityFormat::BinarySI {
            // Binary quantities are capped at the largest 64-bit integer, as Kubernetes does.
            let max = ParsedQuantity::normalized(i64::MAX as i128, 0, QuantityFormat::BinarySI);
            if parsed.abs_cmp(&max) == Ordering::Greater {
                parsed = ParsedQuantity::normalized(
                    i64::MAX as i128 * parsed.mantissa.signum(),
                    0,
                    QuantityFormat::BinarySI,
                );
            }
            let one = ParsedQuantity::normalized(1, 0, QuantityFormat::BinarySI);
            if parsed.mantissa != 0 && parsed.abs_cmp(&one) == Ordering::Less {
                parsed.format = QuantityFormat::DecimalSI;
            }
        }
        Ok(parsed)
    }

    /// The quantity `value * 10^scale` (`from_scaled(250, -3, DecimalSI)` is `250m`).
    pub fn from_scaled(value: i64, scale: i32, format: QuantityFormat) -> Self {
        ParsedQuantity::normalized(i128::from(value), scale, format)
    }

    /// The suffix family the quantity prints in.
    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    /// The same value printed in another suffix family.
    pub fn with_format(mut self, format: QuantityFormat) -> Self {
        self.format = format;
        self
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// -1, 0 or 1 by the sign of the value.
    pub fn signum(&self) -> i32 {
        self.mantissa.signum() as i32
    }

    /// `ceil(value / 10^scale)` away from zero, or `None` when it does not fit an `i64`.
    pub fn scaled_value(&self, scale: i32) -> Option<i64> {
        let magnitude = self.mantissa.unsigned_abs();
        let shift = i64::from(self.exponent) - i64::from(scale);
        let scaled: u128 = if shift >= 0 {
            if magnitude == 0 {
                0
            } else {
                magnitude.checked_mul(10u128.checked_pow(u32::try_from(shift).ok()?)?)?
            }
        } else {
            match u32::try_from(-shift)
                .ok()
                .and_then(|s| 10u128.checked_pow(s))
            {
                Some(divisor) => magnitude.div_ceil(divisor),
                None => u128::from(magnitude != 0),
            }
        };
        let scaled = i64::try_from(scaled).ok()?;
        Some(if self.mantissa < 0 { -scaled } else { scaled })
    }

    /// The value in whole units, rounded up away from zero.
    pub fn value(&self) -> Option<i64> {
        self.scaled_value(0)
    }

    /// The value in thousandths, rounded up away from zero.
    pub fn as_millis(&self) -> Option<i64> {
        self.scaled_value(-3)
    }

    /// The value as a float (correctly rounded; infinite when out of range).
    pub fn as_f64(&self) -> f64 {
        format!("{}e{}", self.mantissa, self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }

    fn normalized(mut mantissa: i128, mut exponent: i32, format: QuantityFormat) -> Self {
        if mantissa == 0 {
            exponent = 0;
        }
        while mantissa != 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        ParsedQuantity {
            mantissa,
            exponent,
            format,
        }
    }

    /// Compares magnitudes without overflow: first by the position of the leading digit,
    /// then digit by digit.
    fn abs_cmp(&self, other: &Self) -> Ordering {
        match (self.mantissa == 0, other.mantissa == 0) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let left = self.mantissa.unsigned_abs().to_string();
        let right = other.mantissa.unsigned_abs().to_string();
        let left_top = left.len() as i64 + i64::from(self.exponent);
        let right_top = right.len() as i64 + i64::from(other.exponent);
        left_top.cmp(&right_top).then_with(|| {
            let width = left.len().max(right.len());
            format!("{left:0<width$}").cmp(&format!("{right:0<width$}"))
        })
    }

    fn is_whole_and_at_least_1024(&self) -> Option<u128> {
        if self.exponent < 0 {
            return None;
        }
        let value = self
            .mantissa
            .unsigned_abs()
            .checked_mul(10u128.checked_pow(self.exponent as u32)?)?;
        (value >= 1024).then_some(value)
    }
}

impl fmt::Display for ParsedQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mantissa == 0 {
            return f.write_str("0");
        }
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if self.format == QuantityFormat::BinarySI {
            // Whole values of at least 1024 print in powers of 1024; others as decimal SI.
            if let Some(mut value) = self.is_whole_and_at_least_1024() {
                let mut power = 0;
                while power < 6 && value % 1024 == 0 {
                    value /= 1024;
                    power += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
                return write!(f, "{sign}{value}{suffix}");
            }
        }
        // The largest multiple-of-three exponent that keeps the number whole.
        let mut shown = self.exponent.div_euclid(3) * 3;
        if self.format != QuantityFormat::DecimalExponent {
            shown = shown.clamp(NANO_EXPONENT, MAX_SI_EXPONENT);
        }
        let zeros = (self.exponent - shown).max(0) as usize;
        write!(
            f,
            "{sign}{}{}",
            self.mantissa.unsigned_abs(),
            "0".repeat(zeros)
        )?;
        if self.format == QuantityFormat::DecimalExponent {
            if shown != 0 {
                write!(f, "e{shown}")?;
            }
            return Ok(());
        }
        let suffix = match shown {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => "",
        };
        f.write_str(suffix)
    }
}

impl PartialEq for ParsedQuantity {
    /// Equal values are equal whatever their suffix family (`1Ki` == `1024`).
    fn eq(&self, other: &Self) -> bool {
        self.mantissa == other.mantissa && self.exponent == other.exponent
    }
}

impl Eq for ParsedQuantity {}

impl PartialOrd for ParsedQuantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ParsedQuantity {
    fn cmp(&self, other: &Self) -> Ordering {
        match self.signum().cmp(&other.signum()) {
            Ordering::Equal if self.mantissa < 0 => other.abs_cmp(self),
            Ordering::Equal => self.abs_cmp(other),
            unequal => unequal,
        }
    }
}

impl FromStr for ParsedQuantity {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        ParsedQuantity::parse(text)
    }
}

/// The power of ten, power of two and family a suffix stands for.
fn interpret_suffix(suffix: &str) -> Option<(i32, u32, QuantityFormat)> {
    use QuantityFormat::*;
    Some(match suffix {
        "" => (0, 0, DecimalSI),
        "n" => (-9, 0, DecimalSI),
        "u" => (-6, 0, DecimalSI),
        "m" => (-3, 0, DecimalSI),
        "k" => (3, 0, DecimalSI),
        "M" => (6, 0, DecimalSI),
        "G" => (9, 0, DecimalSI),
        "T" => (12, 0, DecimalSI),
        "P" => (15, 0, DecimalSI),
        "E" => (18, 0, DecimalSI),
        "Ki" => (0, 10, BinarySI),
        "Mi" => (0, 20, BinarySI),
        "Gi" => (0, 30, BinarySI),
        "Ti" => (0, 40, BinarySI),
        "Pi" => (0, 50, BinarySI),
        "Ei" => (0, 60, BinarySI),
        _ => {
            let exponent = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Keep exponents far from i32's edges so later arithmetic cannot overflow.
            let exponent: i32 = exponent.parse().ok()?;
            if exponent.unsigned_abs() > 1_000_000 {
                return None;
            }
            (exponent, 0, DecimalExponent)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_print_canonically_in_their_suffix_family() {
        let table: &[(&str, &str)] = &[
            ("0", "0"),
            ("0Gi", "0"),
            ("-0.0", "0"),
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("0.5", "500m"),
            (".5", "500m"),
            ("5.", "5"),
            ("+2", "2"),
            ("1.5", "1500m"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("1Ki", "1Ki"),
            ("1024", "1024"),
            ("2048Ki", "2Mi"),
            ("0.5Ki", "512"),
            ("0.1Ki", "102400m"),
            ("1023Ki", "1023Ki"),
            ("1025", "1025"),
            ("1.1Ki", "1126400m"),
            ("0.5Mi", "512Ki"),
            ("100000000000Ei", "9223372036854775807"),
            ("1k", "1k"),
            ("1000", "1k"),
            ("1000k", "1M"),
            ("1500k", "1500k"),
            ("12345", "12345"),
            ("100M", "100M"),
            ("1000E", "1000E"),
            ("1u", "1u"),
            ("1000n", "1u"),
            ("0.000000001", "1n"),
            ("0.0000000001", "1n"),
            ("-0.0000000001", "-1n"),
            ("1.0000000001", "1000000001n"),
            ("-500m", "-500m"),
            ("-1.5Gi", "-1536Mi"),
            ("2e3", "2e3"),
            ("2000e0", "2e3"),
            ("1500e0", "1500"),
            ("1E-3", "1e-3"),
            ("1e+3", "1e3"),
            ("15e2", "1500"),
            ("1e-10", "1e-9"),
            ("1e21", "1e21"),
            ("0.1e1", "1"),
            ("007", "7"),
        ];
        for (input, canonical) in table {
            let parsed = Quantity::parse(input)
                .unwrap_or_else(|error| panic!("{input:?} should parse: {error}"));
            assert_eq!(
                parsed.to_string(),
                *canonical,
                "canonical form of {input:?}"
            );
            let again = Quantity::parse(canonical).unwrap();
            assert_eq!(again, parsed, "{canonical:?} reparses to the same value");
            assert_eq!(again.to_string(), *canonical, "{canonical:?} is stable");
        }
    }

    #[test]
    fn malformed_quantities_are_rejected_with_the_problem() {
        let table: &[(&str, &str)] = &[
            ("", "must not be empty"),
            ("-", "no digits"),
            (".", "no digits"),
            ("m", "no digits"),
            ("1K", "unknown suffix"),
            ("1kb", "unknown suffix"),
            ("1 Gi", "unknown suffix"),
            ("1e", "unknown suffix"),
            ("1e1.5", "unknown suffix"),
            ("1e+", "unknown suffix"),
            ("1..5", "unknown suffix"),
            ("1e99999999999", "unknown suffix"),
            ("--1", "no digits"),
            (
                "123456789012345678901234567890123456789",
                "38 significant digits",
            ),
        ];
        for (input, fragment) in table {
            match Quantity::parse(input) {
                Err(Error::InvalidQuantity { value, problem }) => {
                    assert_eq!(&value, input);
                    assert!(problem.contains(fragment), "{input:?}: {problem}");
                }
                other => panic!("{input:?} should be rejected, got {other:?}"),
            }
        }
    }

    #[test]
    fn numeric_accessors_round_up_away_from_zero() {
        let table: &[(&str, Option<i64>, Option<i64>, f64)] = &[
            ("250m", Some(250), Some(1), 0.25),
            ("1", Some(1000), Some(1), 1.0),
            ("1500m", Some(1500), Some(2), 1.5),
            ("1n", Some(1), Some(1), 1e-9),
            ("-1n", Some(-1), Some(-1), -1e-9),
            ("-1500m", Some(-1500), Some(-2), -1.5),
            (
                "1Gi",
                Some(1_073_741_824_000),
                Some(1_073_741_824),
                1_073_741_824.0,
            ),
            ("2e3", Some(2_000_000), Some(2000), 2000.0),
            ("1e30", None, None, 1e30),
            ("0", Some(0), Some(0), 0.0),
        ];
        for (input, millis, value, float) in table {
            let parsed = Quantity::parse(input).unwrap();
            assert_eq!(parsed.as_millis(), *millis, "millis of {input:?}");
            assert_eq!(parsed.value(), *value, "value of {input:?}");
            assert_eq!(parsed.as_f64(), *float, "float of {input:?}");
        }
        assert_eq!(Quantity::from("1.5").as_millis().unwrap(), 1500);
        assert!(Quantity::from("1e30").as_millis().is_err());
        assert!(Quantity::from("x").as_f64().is_err());
    }

    #[test]
    fn quantities_compare_by_value_across_formats() {
        let ordered = [
            "-1Gi", "-1", "-1m", "0", "1n", "999m", "1", "1Ki", "1025", "1e4",
        ];
        let parsed: Vec<ParsedQuantity> = ordered
            .iter()
            .map(|text| Quantity::parse(text).unwrap())
            .collect();
        for pair in parsed.windows(2) {
            assert!(pair[0] < pair[1], "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(
            Quantity::parse("1Ki").unwrap(),
            Quantity::parse("1024").unwrap()
        );
    }

    #[test]
    fn string_quantities_canonicalize_and_convert() {
        assert_eq!(
            Quantity::from("1000m").canonical().unwrap(),
            Quantity::from("1")
        );
        assert_eq!(Quantity::from("2048Mi").canonical().unwrap().0, "2Gi");
        let millis = ParsedQuantity::from_scaled(250, -3, QuantityFormat::DecimalSI);
        assert_eq!(Quantity::from(millis).0, "250m");
        let binary = ParsedQuantity::from_scaled(4096, 0, QuantityFormat::DecimalSI)
            .with_format(QuantityFormat::BinarySI);
        assert_eq!(binary.to_string(), "4Ki");
        assert_eq!(binary.format(), QuantityFormat::BinarySI);
        assert_eq!("3k".parse::<ParsedQuantity>().unwrap().value(), Some(3000));
    }

    #[test]
    fn numbers_in_manifests_decode_as_quantity_text() {
        let quantities: Vec<Quantity> = serde_json::from_str(r#"[1, 0.5, "2Gi"]"#).unwrap();
        let canonical: Vec<String> = quantities
            .iter()
            .map(|quantity| quantity.canonical().unwrap().0)
            .collect();
        assert_eq!(canonical, ["1", "500m", "2Gi"]);
    }
}
