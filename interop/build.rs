//! Finds aws-ssm-bridge's own mock agent (its `tests/common`, a data-channel gateway that
//! speaks the real protocol and misbehaves on demand) in the dependency's source, so
//! `breakglass-interop mock-agent` can serve it as it is: compiled from there, not copied.

use std::path::PathBuf;

fn main() {
    // Crates from crates.io are unpacked under $CARGO_HOME/registry/src/<index>/.
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let common = std::fs::read_dir(home.join("registry/src"))
        .expect("the cargo registry's sources")
        .filter_map(Result::ok)
        .map(|index| {
            index
                .path()
                .join("aws-ssm-bridge-0.6.0/tests/common/mod.rs")
        })
        .find(|path| path.exists())
        .expect("aws-ssm-bridge 0.6.0's tests/common in the cargo registry");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("mock.rs");
    std::fs::write(
        &out,
        format!("#[path = {common:?}]\n#[allow(unused_imports)]\npub mod common;\n"),
    )
    .unwrap();
    println!("cargo:rerun-if-changed=build.rs");
}
