//! Label selectors (`app=web,tier in (a,b),!canary`): parse, match, print canonically.
//!
//! Being written now; the API is fixed: `Selector::parse`, `Selector::everything`,
//! `Selector::matches(&StringMap)`, `Selector::matches_with(|key| Option<&str>)`, `Display`.
