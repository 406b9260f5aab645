//! Property tests: kubeconfig parsing and resolution never panic, whatever the input.

use kinformer_client::{Config, Kubeconfig, KubeconfigOptions};
use proptest::prelude::*;

/// Fragments that steer random text toward kubeconfig-shaped YAML.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("clusters:\n".to_string()),
        Just("- name: k\n".to_string()),
        Just("  cluster:\n".to_string()),
        Just("    server: https://h:1\n".to_string()),
        Just("    certificate-authority-data: ".to_string()),
        Just("users:\n- name: u\n  user:\n".to_string()),
        Just("    client-key-data: ".to_string()),
        Just("    token: t\n".to_string()),
        Just("    exec: {command: x, apiVersion: client.authentication.k8s.io/v1}\n".to_string()),
        Just("contexts:\n- name: c\n  context: {cluster: k, user: u}\n".to_string()),
        Just("current-context: c\n".to_string()),
        Just("null\n".to_string()),
        Just("[{\n".to_string()),
        Just("&a *a\n".to_string()),
        "[a-zA-Z0-9:{}\\[\\]\\- \n'\"!&*#|>%@,.=/+]{0,24}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        if let Ok(kubeconfig) = Kubeconfig::from_yaml(&text) {
            let _ = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default());
        }
    }

    #[test]
    fn kubeconfig_shaped_text_never_panics(text in yamlish()) {
        if let Ok(kubeconfig) = Kubeconfig::from_yaml(&text) {
            let _ = Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default());
        }
    }
}
