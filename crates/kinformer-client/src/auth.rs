//! auth: being written.
