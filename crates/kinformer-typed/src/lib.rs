//! kinformer-typed: see the crate description; modules arrive with their issue.
