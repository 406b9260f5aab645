//! request: being written.
