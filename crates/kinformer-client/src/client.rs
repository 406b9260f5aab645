//! `Client`: being written (part 1 owns it).

/// A handle to one API server (being written).
#[derive(Clone, Debug)]
pub struct Client {}
