//! Locating the programs the tests run.

use std::path::PathBuf;

/// The example `name` of the `census-examples` package, built by
/// `cargo test` before its tests run, next to the running test binary.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test>-<hash> -> target/<profile>/examples/<name>
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary sits in target/<profile>/deps")
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test -p census-examples` (it builds the example first)",
        path.display()
    );
    path
}
