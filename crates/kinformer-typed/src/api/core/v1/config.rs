//! Configuration kinds: `ConfigMap`, `Secret` (whose values never reach `Debug`) and
//! `ServiceAccount`.

use std::collections::BTreeMap;
use std::fmt;

use kinformer_meta::StringMap;

use super::container::LocalObjectReference;
use super::event::ObjectReference;
use crate::bytes::ByteString;

/// Binary values by key, base64 on the wire.
pub type BinaryMap = BTreeMap<String, ByteString>;

typed_object! {
    /// A ConfigMap: non-secret configuration as string and binary values.
    pub struct ConfigMap {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "ConfigMap", plural: "configmaps", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Whether the data can no longer change.
            "immutable" => immutable: bool as bool, immutable_mut, set_immutable;
            /// UTF-8 values by key.
            "data" => data: StringMap as StringMap, data_mut, set_data;
            /// Binary values by key.
            "binaryData" => binary_data: BinaryMap as BinaryMap, binary_data_mut, set_binary_data;
        }
    }
}

typed_object! {
    /// A Secret: sensitive values. `Debug` prints `<redacted>` for `data` and `stringData`.
    pub struct Secret {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "Secret", plural: "secrets", scope: Namespaced,
        },
        debug: manual,
        body: {
            /// Whether the data can no longer change.
            "immutable" => immutable: bool as bool, immutable_mut, set_immutable;
            /// Secret values by key (base64 on the wire).
            "data" => data: BinaryMap as BinaryMap, data_mut, set_data;
            /// Write-only plain-text values, merged into `data` by the server.
            "stringData" => string_data: BTreeMap<String, String> as BTreeMap<String, String>,
                string_data_mut, set_string_data;
            /// Secret type (`Opaque`, `kubernetes.io/tls`, ...).
            "type" => type_: String as String, type_mut, set_type;
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |present: bool| if present { Some("<redacted>") } else { None };
        f.debug_struct("Secret")
            .field("metadata", &self.metadata)
            .field("immutable", &self.immutable)
            .field("data", &redacted(self.data.is_some()))
            .field("string_data", &redacted(self.string_data.is_some()))
            .field("type_", &self.type_)
            .field(
                "unknown",
                &self.unknown.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

typed_object! {
    /// A ServiceAccount: an identity for processes in pods.
    pub struct ServiceAccount {
        resource: {
            group: "", version: "v1", api_version: "v1",
            kind: "ServiceAccount", plural: "serviceaccounts", scope: Namespaced,
        },
        debug: derive,
        body: {
            /// Secrets pods running as this account may use (legacy tokens).
            "secrets" => secrets: Vec<ObjectReference> as Vec<ObjectReference>, secrets_mut, set_secrets;
            /// Secrets used to pull images for pods running as this account.
            "imagePullSecrets" => image_pull_secrets: Vec<LocalObjectReference>
                as Vec<LocalObjectReference>, image_pull_secrets_mut, set_image_pull_secrets;
            /// Whether pods get the account's token mounted by default.
            "automountServiceAccountToken" => automount_service_account_token: bool as bool,
                automount_service_account_token_mut, set_automount_service_account_token;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_never_shows_values_decoded_or_not() {
        let json = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"data":{"password":"aHVudGVyMg=="},"stringData":{"token":"s3cr3t-token"},"type":"Opaque"}"#;
        let mut secret: Secret = serde_json::from_str(json).unwrap();
        for round in 0..2 {
            let debug = format!("{secret:?} {secret:#?}");
            for leak in ["aHVudGVyMg==", "hunter2", "s3cr3t-token"] {
                assert!(
                    !debug.contains(leak),
                    "round {round} leaked {leak}: {debug}"
                );
            }
            assert!(debug.contains("<redacted>"), "{debug}");
            // The second round looks at a secret whose values are decoded in memory.
            let data = secret.data_mut().unwrap();
            assert_eq!(data["password"].as_bytes(), b"hunter2");
            secret.string_data_mut().unwrap();
        }
        assert_eq!(secret.type_().unwrap().map(String::as_str), Some("Opaque"));
    }

    #[test]
    fn config_map_reads_text_and_binary_values() {
        let json = r#"{"metadata":{"name":"cfg"},"data":{"a":"1"},"binaryData":{"b":"AAE="}}"#;
        let config: ConfigMap = serde_json::from_str(json).unwrap();
        assert_eq!(config.data().unwrap().unwrap().get("a"), Some("1"));
        assert_eq!(
            config.binary_data().unwrap().unwrap()["b"].as_bytes(),
            [0, 1]
        );
        assert_eq!(config.immutable().unwrap(), None);
    }
}
