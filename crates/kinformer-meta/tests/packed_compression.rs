//! The process-wide compression switch of `Packed`, in a test binary of its own: turning it
//! off would otherwise race with the unit tests that measure compressed sizes.

use kinformer_meta::packed::{compression, set_compression};
use kinformer_meta::Packed;

const FIELDS: &str = r#"[{"manager":"kubelet","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:status":{"f:conditions":{".":{},"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},"f:phase":{}}},"subresource":"status"}]"#;

#[test]
fn without_compression_fields_are_copied_and_behave_the_same() {
    assert!(compression(), "compression is on by default");
    set_compression(false);
    let copied: Packed<serde_json::Value> = serde_json::from_str(FIELDS).unwrap();
    set_compression(true);
    let compressed: Packed<serde_json::Value> = serde_json::from_str(FIELDS).unwrap();
    assert!(copied.packed_len() > FIELDS.len());
    assert!(compressed.packed_len() < FIELDS.len());
    assert_eq!(serde_json::to_string(&copied).unwrap(), FIELDS);
    assert_eq!(copied.raw_json().unwrap().unwrap(), FIELDS);
    assert_eq!(copied, compressed);
    assert_eq!(copied.get().unwrap()[0]["manager"], "kubelet");
}
