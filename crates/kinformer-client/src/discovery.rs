//! discovery: being written.
