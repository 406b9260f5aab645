//! Object keys as client-go's `MetaNamespaceKeyFunc` makes them: `namespace/name`, or `name`
//! for cluster-scoped objects, and the split back.

use crate::error::{Error, Result};
use crate::object_meta::ObjectMeta;

/// The cache key of an object: `namespace/name`, or `name` when it has no namespace.
pub fn meta_namespace_key(meta: &ObjectMeta) -> String {
    match meta.namespace() {
        Some(namespace) => format!("{namespace}/{}", meta.name()),
        None => meta.name().to_owned(),
    }
}

/// Splits a key into its namespace (absent for cluster-scoped keys) and name.
pub fn split_meta_namespace_key(key: &str) -> Result<(Option<&str>, &str)> {
    let invalid = |problem| Error::InvalidKey {
        key: key.into(),
        problem,
    };
    let mut parts = key.split('/');
    let (first, second, third) = (parts.next(), parts.next(), parts.next());
    match (first, second, third) {
        (Some(""), None, None) => Err(invalid("empty key")),
        (Some(name), None, None) => Ok((None, name)),
        (Some(_), Some(""), None) => Err(invalid("empty name after '/'")),
        (Some(namespace), Some(name), None) => {
            Ok((Some(namespace).filter(|ns| !ns.is_empty()), name))
        }
        _ => Err(invalid("more than one '/'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(namespace: Option<&str>, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn keys_match_client_go() {
        assert_eq!(meta_namespace_key(&meta(Some("ns1"), "pod1")), "ns1/pod1");
        assert_eq!(meta_namespace_key(&meta(None, "node1")), "node1");
        assert_eq!(meta_namespace_key(&meta(Some(""), "node1")), "node1");
    }

    #[test]
    fn split_reverses_the_key() {
        assert_eq!(
            split_meta_namespace_key("ns1/pod1").unwrap(),
            (Some("ns1"), "pod1")
        );
        assert_eq!(split_meta_namespace_key("node1").unwrap(), (None, "node1"));
        assert_eq!(split_meta_namespace_key("/node1").unwrap(), (None, "node1"));
    }

    #[test]
    fn malformed_keys_are_errors() {
        for (key, problem) in [
            ("", "empty key"),
            ("a/b/c", "more than one '/'"),
            ("ns/", "empty name after '/'"),
        ] {
            match split_meta_namespace_key(key) {
                Err(Error::InvalidKey { problem: got, .. }) => assert_eq!(got, problem),
                other => panic!("{key}: {other:?}"),
            }
        }
    }
}
