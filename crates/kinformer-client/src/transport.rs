//! transport: being written.
