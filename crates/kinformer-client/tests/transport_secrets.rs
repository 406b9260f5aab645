//! Secrets never leak: Debug of every configuration value, error messages, and everything
//! logged (captured at TRACE) while requests with tokens, passwords, keys and exec
//! credentials run, 401 refreshes included.

mod transport_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::Request;
use kinformer_client::{Client, Config, Kubeconfig, KubeconfigOptions};
use transport_support::{b64, fixtures, handler, respond, serve, Pki};

const TOKEN: &str = "tok-7f3a9c";
const PASSWORD: &str = "pw-5e1d22";
const EXEC_SECRET: &str = "exec-secret-91bb";
const ENV_SECRET: &str = "env-secret-c0ffee";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} leaks {secret}: {text}");
    }
}

#[tokio::test]
async fn no_secret_reaches_debug_errors_or_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let pki = Pki::new("client-ca");
    let leaf = pki.client("u");
    let key_body: String = leaf
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    // Every request is refused: the client logs, refreshes, retries and builds errors.
    let peer = serve(
        None,
        handler(|_, _| {
            let mut r = respond(
                401,
                r#"{"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"}"#,
            );
            r.headers_mut()
                .insert("warning", "299 - \"deprecated\"".parse().unwrap());
            r
        }),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, TOKEN).unwrap();
    let credential = format!(
        r#"{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"{EXEC_SECRET}"}}}}"#
    );
    std::fs::write(dir.path().join("cred.json"), credential).unwrap();
    let yaml = format!(
        "current-context: token\ncontexts:\n- {{name: token, context: {{cluster: k, user: token}}}}\n- {{name: file, context: {{cluster: k, user: file}}}}\n- {{name: basic, context: {{cluster: k, user: basic}}}}\n- {{name: exec, context: {{cluster: k, user: exec}}}}\nclusters:\n- name: k\n  cluster: {{server: '{url}'}}\nusers:\n- name: token\n  user: {{token: {TOKEN}, client-certificate-data: {cert}, client-key-data: {key}}}\n- name: file\n  user: {{tokenFile: '{file}'}}\n- name: basic\n  user: {{username: admin, password: {PASSWORD}}}\n- name: exec\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: ['{script}']\n      env:\n      - {{name: CREDENTIAL_FILE, value: '{cred}'}}\n      - {{name: COUNTER_FILE, value: '{counter}'}}\n      - {{name: UNRELATED, value: {ENV_SECRET}}}\n",
        url = peer.url,
        cert = b64(&leaf.cert_pem),
        key = b64(&leaf.key_pem),
        file = token_file.display(),
        script = fixtures().join("exec-plugin.sh").display(),
        cred = dir.path().join("cred.json").display(),
        counter = dir.path().join("count").display(),
    );
    let secrets = [
        TOKEN,
        PASSWORD,
        EXEC_SECRET,
        ENV_SECRET,
        key_body.as_str(),
        &b64(&leaf.key_pem),
    ];
    let kubeconfig = Kubeconfig::from_yaml(&yaml).unwrap();
    assert_clean("Kubeconfig Debug", &format!("{kubeconfig:?}"), &secrets);

    for context in ["token", "file", "basic", "exec"] {
        let options = KubeconfigOptions {
            context: Some(context.into()),
            ..Default::default()
        };
        let config = Config::from_kubeconfig(&kubeconfig, &options).unwrap();
        assert_clean("Config Debug", &format!("{config:?}"), &secrets);
        let client = Client::try_from(config).unwrap();
        assert_clean("Client Debug", &format!("{client:?}"), &secrets);
        let err = client
            .send(Request::get("/api").body(Bytes::new()).unwrap())
            .await
            .unwrap_err();
        assert!(err.is_unauthorized(), "{err}");
        assert_clean("error Display", &err.to_string(), &secrets);
        assert_clean("error Debug", &format!("{err:?}"), &secrets);
    }
    // The secrets did go over the wire (the test would be vacuous otherwise).
    let sent: Vec<String> = peer
        .seen()
        .iter()
        .filter_map(|s| {
            s.headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string())
        })
        .collect();
    assert!(sent.contains(&format!("Bearer {TOKEN}")));
    assert!(sent.contains(&format!("Bearer {EXEC_SECRET}")));

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("deprecated"),
        "the capture saw nothing: {logs}"
    );
    assert_clean("logs", &logs, &secrets);
}
