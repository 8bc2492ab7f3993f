//! The fuzzers' kept inputs as regression tests: every file of `fuzz/corpus/<target>/` (the
//! minimised corpus) and `fuzz/regressions/<target>/` (inputs that once crashed) goes
//! through the same code the fuzzer runs (`fuzz/harness.rs`), which must not panic.

#[path = "../../fuzz/harness.rs"]
mod harness;

use std::path::Path;

/// The inputs kept in `dir` (its dot files, such as `.gitkeep`, are not inputs). The folder
/// must exist: a missing or misnamed one would replay nothing without saying so.
fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (every fuzz target has one)", dir.display()));
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect()
}

#[test]
fn every_kept_fuzz_input_is_handled_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for (target, run) in harness::TARGETS {
        let corpus = inputs(&root.join("corpus").join(target));
        assert!(!corpus.is_empty(), "fuzz/corpus/{target} has no seeds");
        for input in corpus
            .iter()
            .chain(&inputs(&root.join("regressions").join(target)))
        {
            let data = std::fs::read(input).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{} panicked", input.display());
            replayed += 1;
        }
    }
    assert!(replayed >= 4);
}
