//! The client's error type: each variant names the step that failed.

use kinformer_meta::Status;

/// What went wrong talking to the API server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with a failure Status (404, 409, 410, 422, ...).
    #[error("api error: {0}")]
    Api(Box<Status>),
}

impl Error {
    /// The server's Status, when the server answered with one.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Error::Api(status) => Some(status),
        }
    }

    /// True for a 404 NotFound.
    pub fn is_not_found(&self) -> bool {
        self.status().is_some_and(Status::is_not_found)
    }

    /// True for a 409 Conflict.
    pub fn is_conflict(&self) -> bool {
        self.status().is_some_and(Status::is_conflict)
    }

    /// True for a 409 AlreadyExists.
    pub fn is_already_exists(&self) -> bool {
        self.status().is_some_and(Status::is_already_exists)
    }

    /// True for a 410 Gone / Expired.
    pub fn is_gone(&self) -> bool {
        self.status().is_some_and(Status::is_gone)
    }

    /// True for a 429 TooManyRequests.
    pub fn is_too_many_requests(&self) -> bool {
        self.status().is_some_and(Status::is_too_many_requests)
    }

    /// True when the server said the requested resourceVersion is ahead of it.
    pub fn is_resource_version_too_large(&self) -> bool {
        self.status().is_some_and(Status::is_resource_version_too_large)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
