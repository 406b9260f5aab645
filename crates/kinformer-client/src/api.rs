//! api: being written.
