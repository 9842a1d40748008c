//! Locating, starting and stopping the programs the tests run.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// Starts the server example `name` on a free loopback port with `env`
/// and nothing else of census's, OpenTelemetry's or Application Insights'
/// configuration from the test's own environment; returns it and its port
/// once it accepts connections.
pub fn start_server_example(name: &str, env: &[(&str, String)]) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut command = Command::new(example_binary(name));
    for (key, _) in std::env::vars() {
        if ["OTEL_", "CENSUS_", "APPLICATIONINSIGHTS_"]
            .iter()
            .any(|prefix| key.starts_with(prefix))
        {
            command.env_remove(key);
        }
    }
    let child = command
        .env("PORT", port.to_string())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{name} never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

/// Stops `child` with SIGTERM, as an orchestrator would, and asserts that
/// it shut down cleanly (exit status 0, after flushing its telemetry).
pub fn stop_gracefully(mut child: Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("the child's status");
    assert!(status.success(), "exited with {status}");
}
