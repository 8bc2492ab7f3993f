//! What each fuzz target does with one input, shared by the fuzzers (`fuzz/fuzz_targets/`)
//! and by the test that replays the kept corpora and crashers (`tests/e2e/fuzz_corpus.rs`).
//! Every function must return normally for any input: a panic is a bug.
// Each fuzz target uses one of these functions.
#![allow(dead_code)]

use std::path::Path;

use breakglass::audit::{verify, verify_segment};
use breakglass::config::Config;
use breakglass::datachannel::Frame;
use breakglass::playbook::{Origin, load};

/// A fuzz target's name (as `cargo fuzz` knows it) and what it does with an input.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target.
pub const TARGETS: [Target; 4] = [
    ("playbook", playbook),
    ("config", config),
    ("audit_verify", audit_verify),
    ("frame", frame),
];

/// A playbook file's text: loaded (parsed, validated) or refused with diagnostics.
pub fn playbook(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = load(text, Origin::File("fuzz.yml".into()));
    }
}

/// A config file's text: parsed and validated, or refused.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Config::parse(text, Path::new("fuzz.toml"));
    }
}

/// An audit log's bytes, verified as a whole log and as a segment.
pub fn audit_verify(data: &[u8]) {
    let _ = verify(data, None);
    let _ = verify_segment(data, None);
}

/// Data-channel wire bytes: decoded, and a decoded frame survives encoding unchanged.
pub fn frame(data: &[u8]) {
    if let Ok(frame) = Frame::decode(data) {
        let again = Frame::decode(&frame.encode());
        assert_eq!(again.as_ref(), Ok(&frame), "decode(encode(frame)) != frame");
    }
}
