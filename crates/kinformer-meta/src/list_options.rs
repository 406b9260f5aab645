//! `ListOptions` (the query of a list or watch, as `metav1.ListOptions`) and `ObjectList<T>`
//! (one page of a list response).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::object_meta::{null_as_default, ListMeta};

/// How the server interprets `resource_version` on a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResourceVersionMatch {
    /// Any version not older than the given one (the default for a non-zero version).
    NotOlderThan,
    /// Exactly the given version (needs the server's history to still hold it).
    Exact,
}

impl ResourceVersionMatch {
    /// The query parameter value.
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceVersionMatch::NotOlderThan => "NotOlderThan",
            ResourceVersionMatch::Exact => "Exact",
        }
    }
}

/// Query options of a list or watch, named as Kubernetes names them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `labelSelector`: only objects whose labels match.
    pub label_selector: Option<String>,
    /// `fieldSelector`: only objects whose fields match.
    pub field_selector: Option<String>,
    /// `limit`: page size of a list.
    pub limit: Option<u32>,
    /// `continue`: the token of the next page.
    pub continue_token: Option<String>,
    /// `resourceVersion`: where a list is served from or a watch starts.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`: how `resource_version` applies to a list.
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// `timeoutSeconds`: when the server ends a watch (or gives up a list).
    pub timeout_seconds: Option<u32>,
    /// `allowWatchBookmarks`: ask for BOOKMARK events.
    pub allow_watch_bookmarks: bool,
    /// `sendInitialEvents`: stream the current state as ADDED events first (watch-list).
    pub send_initial_events: Option<bool>,
}

impl ListOptions {
    /// Sets the label selector.
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.label_selector = Some(selector.into());
        self
    }

    /// Sets the field selector.
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.field_selector = Some(selector.into());
        self
    }

    /// Sets the page size.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the continue token.
    pub fn continue_token(mut self, token: impl Into<String>) -> Self {
        self.continue_token = Some(token.into());
        self
    }

    /// Sets the resourceVersion.
    pub fn resource_version(mut self, version: impl Into<String>) -> Self {
        self.resource_version = Some(version.into());
        self
    }

    /// Sets resourceVersionMatch.
    pub fn resource_version_match(mut self, matching: ResourceVersionMatch) -> Self {
        self.resource_version_match = Some(matching);
        self
    }

    /// Sets the server-side timeout.
    pub fn timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = Some(seconds);
        self
    }

    /// Asks for bookmarks on a watch.
    pub fn allow_watch_bookmarks(mut self, allow: bool) -> Self {
        self.allow_watch_bookmarks = allow;
        self
    }

    /// Asks for the initial state as events (watch-list).
    pub fn send_initial_events(mut self, send: bool) -> Self {
        self.send_initial_events = Some(send);
        self
    }

    /// The query parameters in the order kubectl sends them; `watch` adds `watch=1`.
    pub fn query_pairs(&self, watch: bool) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(token) = &self.continue_token {
            pairs.push(("continue", token.clone()));
        }
        if let Some(selector) = self.label_selector.as_ref().filter(|s| !s.is_empty()) {
            pairs.push(("labelSelector", selector.clone()));
        }
        if let Some(selector) = self.field_selector.as_ref().filter(|s| !s.is_empty()) {
            pairs.push(("fieldSelector", selector.clone()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if let Some(version) = &self.resource_version {
            pairs.push(("resourceVersion", version.clone()));
        }
        if let Some(matching) = self.resource_version_match {
            pairs.push(("resourceVersionMatch", matching.as_str().to_owned()));
        }
        if let Some(seconds) = self.timeout_seconds {
            pairs.push(("timeoutSeconds", seconds.to_string()));
        }
        if watch {
            pairs.push(("watch", "1".to_owned()));
            if self.allow_watch_bookmarks {
                pairs.push(("allowWatchBookmarks", "true".to_owned()));
            }
        }
        if let Some(send) = self.send_initial_events {
            pairs.push(("sendInitialEvents", send.to_string()));
        }
        pairs
    }
}

/// One page of a list response: `{"metadata":{...},"items":[...]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned", serialize = "T: Serialize"))]
pub struct ObjectList<T> {
    /// The list's resourceVersion and pagination state.
    #[serde(default)]
    pub metadata: ListMeta,
    /// The objects of this page (a real server leaves out their kind and apiVersion).
    #[serde(default, deserialize_with = "null_as_default")]
    pub items: Vec<T>,
}

impl<T> ObjectList<T> {
    /// The list's resourceVersion, when the server sent one.
    pub fn resource_version(&self) -> Option<&str> {
        self.metadata
            .resource_version
            .as_deref()
            .filter(|rv| !rv.is_empty())
    }

    /// The continue token of the next page, when there is one.
    pub fn continue_token(&self) -> Option<&str> {
        self.metadata
            .continue_token
            .as_deref()
            .filter(|token| !token.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_follow_kubectl_order() {
        let options = ListOptions::default()
            .limit(2)
            .continue_token("tok")
            .labels("app=a");
        let pairs = options.query_pairs(false);
        assert_eq!(pairs[0], ("continue", "tok".to_owned()));
        assert_eq!(pairs.last().unwrap(), &("limit", "2".to_owned()));
        let watch = ListOptions::default()
            .resource_version("13")
            .allow_watch_bookmarks(true);
        let pairs = watch.query_pairs(true);
        assert!(pairs.contains(&("watch", "1".to_owned())));
        assert!(pairs.contains(&("allowWatchBookmarks", "true".to_owned())));
    }

    #[test]
    fn list_page_with_null_items_decodes_empty() {
        let list: ObjectList<serde_json::Value> = serde_json::from_str(
            r#"{"kind":"PodList","metadata":{"resourceVersion":"6"},"items":null}"#,
        )
        .unwrap();
        assert!(list.items.is_empty());
        assert_eq!(list.resource_version(), Some("6"));
    }
}
