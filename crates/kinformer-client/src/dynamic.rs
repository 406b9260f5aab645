//! dynamic: being written.
