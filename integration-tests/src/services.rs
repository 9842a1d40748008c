//! Where the database servers are: `scripts/services up` prints the
//! variables read here; the defaults are the ones it sets up.

/// The test user's password, as `scripts/services` creates it; the secrets
/// tests look for it in telemetry.
pub const PASSWORD: &str = "census-Pw-7Q2x";

/// `POSTGRES_URL`, or the server `scripts/services up postgres` prepares.
pub fn postgres_url() -> String {
    url(
        "POSTGRES_URL",
        "postgres://census:census-Pw-7Q2x@127.0.0.1:5432/census",
    )
}

/// `MYSQL_URL`, or the server `scripts/services up mysql` prepares.
pub fn mysql_url() -> String {
    url(
        "MYSQL_URL",
        "mysql://census:census-Pw-7Q2x@127.0.0.1:3306/census",
    )
}

/// `MONGODB_URL`, or the server `scripts/services up mongodb` prepares.
pub fn mongodb_url() -> String {
    url("MONGODB_URL", "mongodb://127.0.0.1:27017/census")
}

fn url(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

/// Panics with the command that fixes it: a test that needs a server it
/// cannot reach fails loudly, never skips.
pub fn unreachable(service: &str, url: &str, error: &dyn std::fmt::Display) -> ! {
    let url = url.replace(PASSWORD, "***");
    panic!(
        "{service} is not reachable at {url}: {error}\n\
         fix: eval \"$(scripts/services up {service})\" (or docker compose up --wait), then rerun"
    )
}
