//! Criterion benchmark of the watch decoder (being written).
fn main() {}
