//! Errors of the workqueue crate: bad limiter settings, and the item handed back by an add
//! after shutdown.

use std::fmt;

/// Everything that can go wrong in this crate apart from adding to a stopped queue.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A token bucket was built with a rate that is not a positive, finite number.
    #[error("token bucket rate must be a positive finite number of tokens per second, got {qps}")]
    InvalidQps {
        /// The rejected rate, in tokens per second.
        qps: f64,
    },
    /// A token bucket was built with room for no tokens, so it could never grant one.
    #[error("token bucket burst must be at least 1")]
    ZeroBurst,
    /// A periodic metrics update was asked to run with a period of zero.
    #[error("unfinished work update period must be greater than zero")]
    ZeroUpdatePeriod,
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An add refused because the queue is shutting down; it hands the item back.
///
/// Like tokio's `SendError`, it carries the value so the caller keeps ownership. Its `Debug`
/// output does not show the item, so keys never leak into logs through it.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("queue is shutting down")]
pub struct AddError<T>(pub T);

impl<T> AddError<T> {
    /// Returns the item that was not added.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for AddError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddError(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_error_hands_the_item_back_and_hides_it_from_debug() {
        let error = AddError("secret-key".to_string());
        assert_eq!(format!("{error:?}"), "AddError(..)");
        assert_eq!(error.to_string(), "queue is shutting down");
        assert_eq!(error.into_inner(), "secret-key");
    }

    #[test]
    fn error_messages_name_the_bad_setting() {
        assert_eq!(
            Error::InvalidQps { qps: -1.0 }.to_string(),
            "token bucket rate must be a positive finite number of tokens per second, got -1"
        );
        assert_eq!(
            Error::ZeroBurst.to_string(),
            "token bucket burst must be at least 1"
        );
    }
}
