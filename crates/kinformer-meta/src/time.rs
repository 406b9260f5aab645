//! Kubernetes timestamps: `Time` (RFC 3339, whole seconds on the wire) and `MicroTime`
//! (RFC 3339 with six fractional digits), both stored as UTC seconds and nanoseconds.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A UTC instant that encodes as RFC 3339 with whole seconds (`2026-11-26T16:29:11Z`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    seconds: i64,
    /// Nanoseconds past the second, plus one: never zero, so `Option<Time>` (two of them in
    /// every `ObjectMeta`) costs no more than a `Time`. Adding one keeps the order.
    nanos_plus_one: NonZeroU32,
}

/// A UTC instant that encodes as RFC 3339 with microseconds (`2026-11-26T16:29:11.123456Z`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub Time);

impl Time {
    /// The instant `seconds` and `nanos` after the Unix epoch.
    pub fn from_unix(seconds: i64, nanos: u32) -> Self {
        Time::new(
            seconds + i64::from(nanos / 1_000_000_000),
            nanos % 1_000_000_000,
        )
    }

    /// The current time from the system clock.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Time::from_unix(since.as_secs() as i64, since.subsec_nanos())
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// Nanoseconds past the whole second.
    pub fn subsec_nanos(&self) -> u32 {
        self.nanos_plus_one.get() - 1
    }

    /// `nanos` must be below one second.
    fn new(seconds: i64, nanos: u32) -> Self {
        Time {
            seconds,
            nanos_plus_one: NonZeroU32::MIN.saturating_add(nanos.min(999_999_999)),
        }
    }

    /// Parses RFC 3339 (`Z` or a numeric offset, any number of fractional digits).
    pub fn parse(value: &str) -> Result<Self> {
        parse_rfc3339(value).map_err(|problem| Error::InvalidTime {
            value: value.into(),
            problem,
        })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, micros: bool) -> fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        write!(f, "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}")?;
        if micros {
            write!(f, ".{:06}", self.subsec_nanos() / 1000)?;
        }
        f.write_str("Z")
    }
}

impl Default for Time {
    /// The Unix epoch.
    fn default() -> Self {
        Time::new(0, 0)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Time")
            .field("seconds", &self.seconds)
            .field("nanos", &self.subsec_nanos())
            .finish()
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f, true)
    }
}

impl FromStr for Time {
    type Err = Error;
    fn from_str(value: &str) -> Result<Self> {
        Time::parse(value)
    }
}

impl FromStr for MicroTime {
    type Err = Error;
    fn from_str(value: &str) -> Result<Self> {
        Time::parse(value).map(MicroTime)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for MicroTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Time::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Time::deserialize(deserializer).map(MicroTime)
    }
}

fn parse_rfc3339(value: &str) -> std::result::Result<Time, &'static str> {
    let bytes = value.as_bytes();
    if bytes.len() < 20 {
        return Err("too short for YYYY-MM-DDTHH:MM:SSZ");
    }
    let digits = |range: std::ops::Range<usize>| -> std::result::Result<i64, &'static str> {
        let part = &bytes[range];
        if part.iter().all(u8::is_ascii_digit) {
            Ok(part
                .iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
        } else {
            Err("expected a digit")
        }
    };
    if bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' || bytes[16] != b':' {
        return Err("expected YYYY-MM-DDTHH:MM:SS");
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') {
        return Err("expected 'T' between date and time");
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) {
        return Err("month out of range");
    }
    if day < 1 || day > days_in_month(year, month as u32) {
        return Err("day out of range");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time of day out of range");
    }
    let mut rest = &bytes[19..];
    let mut nanos = 0u32;
    if rest.first() == Some(&b'.') {
        let fraction: Vec<u8> = rest[1..]
            .iter()
            .copied()
            .take_while(u8::is_ascii_digit)
            .collect();
        if fraction.is_empty() {
            return Err("expected digits after '.'");
        }
        for (i, digit) in fraction.iter().take(9).enumerate() {
            nanos += u32::from(digit - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &rest[1 + fraction.len()..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let field = |a: u8, b: u8| -> std::result::Result<i64, &'static str> {
                if a.is_ascii_digit() && b.is_ascii_digit() {
                    Ok(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
                } else {
                    Err("malformed UTC offset")
                }
            };
            let minutes = field(*h1, *h2)? * 60 + field(*m1, *m2)?;
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return Err("expected 'Z' or a +HH:MM offset at the end"),
    };
    let days = days_from_civil(year, month as u32, day as u32);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok(Time::new(seconds, nanos))
}

fn days_in_month(year: i64, month: u32) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_time_costs_no_more_than_a_time_and_keeps_its_order() {
        assert_eq!(size_of::<Option<Time>>(), size_of::<Time>());
        let early = Time::from_unix(10, 999_999_999);
        let late = Time::from_unix(11, 0);
        assert!(early < late && Time::default() < early);
        assert_eq!(early.subsec_nanos(), 999_999_999);
        assert_eq!(
            Time::from_unix(1, 1_500_000_000),
            Time::from_unix(2, 500_000_000)
        );
        assert_eq!(format!("{:?}", late), "Time { seconds: 11, nanos: 0 }");
    }

    #[test]
    fn parses_and_prints_whole_second_times() {
        let time = Time::parse("2026-11-26T16:29:11Z").unwrap();
        assert_eq!(time.unix_seconds(), 1_795_710_551);
        assert_eq!(time.to_string(), "2026-11-26T16:29:11Z");
    }

    #[test]
    fn micro_time_keeps_six_fractional_digits() {
        let time: MicroTime = "2026-11-26T16:29:11.123456789Z".parse().unwrap();
        assert_eq!(time.0.subsec_nanos(), 123_456_789);
        assert_eq!(time.to_string(), "2026-11-26T16:29:11.123456Z");
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let time = Time::parse("2008-01-01T03:01:01+02:00").unwrap();
        assert_eq!(time.to_string(), "2008-01-01T01:01:01Z");
        assert_eq!(
            Time::parse("1969-12-31T23:59:59Z").unwrap().unix_seconds(),
            -1
        );
    }

    #[test]
    fn leap_days_and_round_trips_over_centuries() {
        for text in [
            "2000-02-29T00:00:00Z",
            "1900-03-01T12:00:00Z",
            "2400-12-31T23:59:59Z",
        ] {
            assert_eq!(Time::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn malformed_times_are_errors_naming_the_problem() {
        for (text, problem) in [
            ("2026-13-01T00:00:00Z", "month out of range"),
            ("2023-02-29T00:00:00Z", "day out of range"),
            ("2026-11-26T24:00:00Z", "time of day out of range"),
            ("2026-11-26T16:29:11", "too short for YYYY-MM-DDTHH:MM:SSZ"),
            (
                "2026-11-26T16:29:11+0200",
                "expected 'Z' or a +HH:MM offset at the end",
            ),
            ("2026-11-26X16:29:11Z", "expected 'T' between date and time"),
            ("2026-11-26T16:29:11.Z", "expected digits after '.'"),
        ] {
            match Time::parse(text) {
                Err(Error::InvalidTime { problem: got, .. }) => assert_eq!(got, problem, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
