//! Fixtures: coming.
