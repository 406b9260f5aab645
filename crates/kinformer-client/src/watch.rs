//! watch: being written.
