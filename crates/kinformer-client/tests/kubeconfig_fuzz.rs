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

    /// A secret in the wrong place shows up in no error message.
    #[test]
    fn errors_never_quote_a_secret(secret in "[a-z]{16}", shape in 0usize..6) {
        let base = "current-context: c\ncontexts:\n- {name: c, context: {cluster: k, user: u}}\nclusters:\n- {name: k, cluster: {server: 'https://k'}}\n";
        let users = [
            format!("users:\n- {{name: u, user: {{as-groups: {secret}}}}}\n"),
            format!("users:\n- {{name: u, user: {{token: [{secret}]}}}}\n"),
            format!("users:\n- {{name: u, user: {{client-certificate-data: '{secret}!', client-key-data: '{secret}!'}}}}\n"),
            format!("users:\n- {{name: u, user: {{password: {{a: {secret}}}}}}}\n"),
            format!("users: {secret}\n"),
            format!("users:\n- {{name: u, user: {{exec: {{command: x, apiVersion: '{secret}'}}}}}}\n"),
        ];
        let text = format!("{base}{}", users[shape]);
        let message = match Kubeconfig::from_yaml(&text) {
            Err(e) => e.to_string(),
            Ok(kubeconfig) => match Config::from_kubeconfig(&kubeconfig, &KubeconfigOptions::default()) {
                Err(e) => e.to_string(),
                Ok(_) => String::new(),
            },
        };
        // The exec apiVersion is not a secret and is quoted on purpose; every other shape
        // carries the secret in a credential field.
        if shape != 5 {
            prop_assert!(!message.contains(&secret), "{}", message);
        }
    }
}
