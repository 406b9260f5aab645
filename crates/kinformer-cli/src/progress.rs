//! A one-line progress indicator on stderr for large initial lists (objects received and
//! pages), shown only when stderr is a terminal so pipes and logs stay clean.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Redraws `listing RESOURCE: N objects, P pages (T s)` in place, at most ten times a second.
#[derive(Debug)]
pub struct Progress {
    resource: String,
    enabled: bool,
    drawn: bool,
    last: Option<Instant>,
    started: Instant,
}

impl Progress {
    /// An indicator for `resource`, active only when stderr is a terminal.
    pub fn new(resource: &str) -> Self {
        Progress::with_terminal(resource, std::io::stderr().is_terminal())
    }

    /// An indicator that draws when `enabled` (tests pass false or true explicitly).
    pub fn with_terminal(resource: &str, enabled: bool) -> Self {
        Progress {
            resource: resource.to_owned(),
            enabled,
            drawn: false,
            last: None,
            started: Instant::now(),
        }
    }

    /// The line shown for a count of objects and pages.
    pub fn line(&self, objects: usize, pages: u64) -> String {
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("{n} {one}")
            } else {
                format!("{n} {many}")
            }
        };
        format!(
            "listing {}: {}, {}",
            self.resource,
            plural(objects as u64, "object", "objects"),
            plural(pages, "page", "pages")
        )
    }

    /// Reports progress (rate-limited).
    pub fn update(&mut self, objects: usize, pages: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(now);
        let mut stderr = std::io::stderr().lock();
        // \r and erase-line: redraw in place.
        let elapsed = now.duration_since(self.started).as_secs_f64();
        let _ = write!(
            stderr,
            "\r\x1b[2K{} ({elapsed:.1}s)",
            self.line(objects, pages)
        );
        let _ = stderr.flush();
        self.drawn = true;
    }

    /// Erases the line, if one was drawn.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_counts_objects_and_pages_with_plurals() {
        let progress = Progress::with_terminal("pods", false);
        assert_eq!(progress.line(1, 1), "listing pods: 1 object, 1 page");
        assert_eq!(
            progress.line(1500, 3),
            "listing pods: 1500 objects, 3 pages"
        );
    }

    #[test]
    fn a_disabled_indicator_never_draws() {
        let mut progress = Progress::with_terminal("pods", false);
        progress.update(10, 1);
        assert!(!progress.drawn);
    }
}
