//! A bearer token read from a file (service-account tokens rotate): re-read at most once a
//! minute, and at once after a 401.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Redacted;
use crate::error::{Error, Result};

/// How long a token read from a file is used before the file is read again.
pub const TOKEN_FILE_REFRESH: Duration = Duration::from_secs(60);

/// A token file and the token last read from it.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    cached: Mutex<Option<(Redacted<String>, Instant)>>,
}

impl TokenFile {
    /// A token file, not read yet.
    pub fn new(path: PathBuf) -> Self {
        TokenFile {
            path,
            cached: Mutex::new(None),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current token: the cached one when read less than a minute ago, else the file's.
    pub fn token(&self) -> Result<Redacted<String>> {
        let now = Instant::now();
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((token, read_at)) = &*cached {
            if now.duration_since(*read_at) < TOKEN_FILE_REFRESH {
                return Ok(token.clone());
            }
        }
        match self.read() {
            Ok(token) => {
                *cached = Some((token.clone(), now));
                Ok(token)
            }
            // A briefly missing file during rotation: keep using the old token.
            Err(error) => match &*cached {
                Some((token, _)) => {
                    tracing::warn!(path = %self.path.display(), %error, "token file unreadable; keeping the previous token");
                    Ok(token.clone())
                }
                None => Err(error),
            },
        }
    }

    /// Re-reads the file now; true when the token changed.
    pub fn reload_changed(&self) -> bool {
        let Ok(fresh) = self.read() else {
            return false;
        };
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        let changed = cached.as_ref().is_none_or(|(old, _)| old != &fresh);
        *cached = Some((fresh, Instant::now()));
        changed
    }

    fn read(&self) -> Result<Redacted<String>> {
        let text = std::fs::read_to_string(&self.path).map_err(|source| Error::TokenFile {
            path: self.path.clone(),
            source,
        })?;
        Ok(Redacted::new(text.trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn rotated_token_is_picked_up_after_a_minute_not_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "first\n").unwrap();
        let file = TokenFile::new(path.clone());
        assert_eq!(file.token().unwrap().expose(), "first");

        std::fs::write(&path, "second").unwrap();
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(file.token().unwrap().expose(), "first");

        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(file.token().unwrap().expose(), "second");
    }

    #[tokio::test(start_paused = true)]
    async fn reload_after_401_reports_whether_the_token_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "a").unwrap();
        let file = TokenFile::new(path.clone());
        file.token().unwrap();
        assert!(!file.reload_changed());
        std::fs::write(&path, "b").unwrap();
        assert!(file.reload_changed());
        assert_eq!(file.token().unwrap().expose(), "b");
    }

    #[tokio::test(start_paused = true)]
    async fn a_vanished_file_keeps_the_previous_token_but_a_never_read_one_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let file = TokenFile::new(path.clone());
        assert!(matches!(file.token(), Err(Error::TokenFile { .. })));
        std::fs::write(&path, "a").unwrap();
        assert_eq!(file.token().unwrap().expose(), "a");
        std::fs::remove_file(&path).unwrap();
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(file.token().unwrap().expose(), "a");
    }
}
