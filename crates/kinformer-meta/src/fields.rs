//! Field selectors (`metadata.name=x,metadata.namespace!=y`): parse, match, print.
//!
//! Being written now; the API is fixed: `Selector::parse`, `Selector::everything`,
//! `Selector::requirements()`, `Selector::matches_with(|field| Option<Cow<str>>)`, `Display`.
