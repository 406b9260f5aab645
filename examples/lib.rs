//! Runnable examples of kinformer, one per snippet of the seed article; see `examples/*.rs`
//! and run one with `cargo run -p kinformer-examples --example NAME`.
