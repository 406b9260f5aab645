//! mapper: being written.
