//! config: being written (part 1 owns it).

/// Connection settings (being written).
#[derive(Clone, Debug, Default)]
pub struct Config {}
