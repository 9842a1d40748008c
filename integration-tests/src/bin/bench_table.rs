//! Reads the criterion results under `CRITERION_DIR` (default: where the
//! benches write them, `paired::criterion_dir`) and prints the markdown comparison table
//! of `scripts/bench`: for each pair measured in the same run, both
//! medians and their ratio. With `--readme FILE`, also writes it into
//! FILE between `<!-- bench:start -->` and `<!-- bench:end -->`, after a
//! line naming the machine (`BENCH_MACHINE`). Benches measured in rounds (`name/0`,
//! `name/1`, ...) give one ratio per round; the table shows the median
//! round, which a noisy neighbour during one round cannot move. Benches
//! measured in pairs write `pairs.json` beside criterion's results: one
//! ratio per round, of totals taken in the same window.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What is compared with what: (group, measured, baseline, what it shows).
const PAIRS: &[(&str, &str, &str, &str)] = &[
    (
        "span",
        "census_sampled",
        "bare_sdk_sampled",
        "span, sampled: census vs bare OTel SDK",
    ),
    (
        "span",
        "census_unsampled_root",
        "bare_sdk_unsampled_root",
        "span, unsampled root: census vs bare SDK",
    ),
    (
        "span",
        "census_unsampled_child",
        "bare_sdk_unsampled_child",
        "span, unsampled child: census vs bare SDK",
    ),
    (
        "span",
        "census_sampled",
        "census_no_presample_sampled",
        "span, sampled: census vs census without presampling",
    ),
    (
        "span",
        "census_unsampled_root",
        "census_no_presample_unsampled_root",
        "span, unsampled root: census vs census without presampling",
    ),
    (
        "span",
        "census_unsampled_child",
        "census_no_presample_unsampled_child",
        "span, unsampled child: census vs census without presampling",
    ),
    (
        "span",
        "census_measured_sampled",
        "census_statement_sampled",
        "SQL statement span, sampled: with its duration metric vs without",
    ),
    (
        "span",
        "census_measured_unsampled_root",
        "census_statement_unsampled_root",
        "SQL statement span, unsampled root: with its duration metric vs without",
    ),
    (
        "span",
        "census_measured_unsampled_child",
        "census_statement_unsampled_child",
        "SQL statement span, unsampled child: with its duration metric vs without",
    ),
    (
        "span",
        "census_request_measured_sampled",
        "census_request_sampled",
        "HTTP server request span, sampled: with its duration metric and active count vs without",
    ),
    (
        "span",
        "census_request_measured_unsampled_root",
        "census_request_unsampled_root",
        "HTTP server request span, unsampled root: with its duration metric and active count vs without",
    ),
    (
        "span",
        "census_request_measured_unsampled_child",
        "census_request_unsampled_child",
        "HTTP server request span, unsampled child: with its duration metric and active count vs without",
    ),
    (
        "sqlite_fetch_optional",
        "traced_sampled",
        "raw",
        "sqlx SQLite query, sampled vs raw",
    ),
    (
        "sqlite_fetch_optional",
        "traced_unsampled",
        "raw",
        "sqlx SQLite query, unsampled vs raw",
    ),
    (
        "sqlite_fetch_optional",
        "traced_disabled",
        "raw",
        "sqlx SQLite query, integration off vs raw",
    ),
    (
        "sqlite_fetch_optional",
        "tracing_opentelemetry",
        "raw",
        "sqlx SQLite query, sqlx logging + tracing-opentelemetry vs raw",
    ),
    (
        "sqlite_fetch_optional",
        "traced_sampled",
        "tracing_opentelemetry",
        "sqlx SQLite query, census vs sqlx logging + tracing-opentelemetry",
    ),
    (
        "tokio_postgres_select_1",
        "traced_sampled vs raw",
        "raw vs traced_sampled",
        "tokio-postgres `SELECT 1`, sampled vs raw",
    ),
    (
        "tokio_postgres_select_1",
        "traced_unsampled vs raw",
        "raw vs traced_unsampled",
        "tokio-postgres `SELECT 1`, unsampled vs raw",
    ),
    (
        "tokio_postgres_select_1",
        "traced_disabled vs raw",
        "raw vs traced_disabled",
        "tokio-postgres `SELECT 1`, off vs raw",
    ),
    (
        "mysql_async_select_1",
        "traced_sampled vs raw",
        "raw vs traced_sampled",
        "mysql_async `SELECT 1`, sampled vs raw",
    ),
    (
        "mysql_async_select_1",
        "traced_unsampled vs raw",
        "raw vs traced_unsampled",
        "mysql_async `SELECT 1`, unsampled vs raw",
    ),
    (
        "mysql_async_select_1",
        "traced_disabled vs raw",
        "raw vs traced_disabled",
        "mysql_async `SELECT 1`, off vs raw",
    ),
    (
        "sqlx_postgres_select_1",
        "traced_sampled vs raw",
        "raw vs traced_sampled",
        "sqlx PostgreSQL `SELECT 1`, sampled vs raw",
    ),
    (
        "sqlx_postgres_select_1",
        "traced_unsampled vs raw",
        "raw vs traced_unsampled",
        "sqlx PostgreSQL `SELECT 1`, unsampled vs raw",
    ),
    (
        "sqlx_postgres_select_1",
        "traced_disabled vs raw",
        "raw vs traced_disabled",
        "sqlx PostgreSQL `SELECT 1`, off vs raw",
    ),
    (
        "sqlx_mysql_select_1",
        "traced_sampled vs raw",
        "raw vs traced_sampled",
        "sqlx MySQL `SELECT 1`, sampled vs raw",
    ),
    (
        "sqlx_mysql_select_1",
        "traced_unsampled vs raw",
        "raw vs traced_unsampled",
        "sqlx MySQL `SELECT 1`, unsampled vs raw",
    ),
    (
        "sqlx_mysql_select_1",
        "traced_disabled vs raw",
        "raw vs traced_disabled",
        "sqlx MySQL `SELECT 1`, off vs raw",
    ),
    (
        "mongodb_find_one",
        "traced_sampled vs raw",
        "raw vs traced_sampled",
        "MongoDB `find` by `_id`, sampled vs raw",
    ),
    (
        "mongodb_find_one",
        "traced_unsampled vs raw",
        "raw vs traced_unsampled",
        "MongoDB `find` by `_id`, unsampled vs raw",
    ),
    (
        "mongodb_find_one",
        "traced_disabled vs raw",
        "raw vs traced_disabled",
        "MongoDB `find` by `_id`, off vs raw",
    ),
    (
        "diesel_postgres_select_1",
        "traced_sampled vs raw",
        "raw vs traced_sampled",
        "diesel PostgreSQL `SELECT 1`, sampled vs raw",
    ),
    (
        "diesel_postgres_select_1",
        "traced_unsampled vs raw",
        "raw vs traced_unsampled",
        "diesel PostgreSQL `SELECT 1`, unsampled vs raw",
    ),
    (
        "diesel_postgres_select_1",
        "traced_disabled vs raw",
        "raw vs traced_disabled",
        "diesel PostgreSQL `SELECT 1`, off vs raw",
    ),
    (
        "http_server",
        "axum_census vs axum_bare",
        "axum_bare vs axum_census",
        "axum `GET /` ×16, census vs bare",
    ),
    (
        "http_server",
        "axum_census_unsampled vs axum_bare",
        "axum_bare vs axum_census_unsampled",
        "axum `GET /` ×16, census unsampled vs bare",
    ),
    (
        "http_server",
        "axum_census_off vs axum_bare",
        "axum_bare vs axum_census_off",
        "axum `GET /` ×16, census integration off vs bare",
    ),
    (
        "http_server",
        "axum_tracing_opentelemetry vs axum_bare",
        "axum_bare vs axum_tracing_opentelemetry",
        "axum `GET /` ×16, axum-tracing-opentelemetry vs bare",
    ),
    (
        "http_server",
        "axum_census vs axum_tracing_opentelemetry",
        "axum_tracing_opentelemetry vs axum_census",
        "axum `GET /` ×16, census vs axum-tracing-opentelemetry",
    ),
    (
        "http_server",
        "actix_census vs actix_bare",
        "actix_bare vs actix_census",
        "actix-web `GET /` ×16, census vs bare",
    ),
    (
        "http_server",
        "actix_census_unsampled vs actix_bare",
        "actix_bare vs actix_census_unsampled",
        "actix-web `GET /` ×16, census unsampled vs bare",
    ),
    (
        "http_server",
        "actix_census_off vs actix_bare",
        "actix_bare vs actix_census_off",
        "actix-web `GET /` ×16, census integration off vs bare",
    ),
    (
        "http_server",
        "actix_opentelemetry_instrumentation vs actix_bare",
        "actix_bare vs actix_opentelemetry_instrumentation",
        "actix-web `GET /` ×16, opentelemetry-instrumentation-actix-web vs bare",
    ),
    (
        "http_server",
        "actix_census vs actix_opentelemetry_instrumentation",
        "actix_opentelemetry_instrumentation vs actix_census",
        "actix-web `GET /` ×16, census vs opentelemetry-instrumentation-actix-web",
    ),
    (
        "http_server",
        "axum_census_metrics vs axum_census",
        "axum_census vs axum_census_metrics",
        "axum `GET /` ×16, census with metrics vs without",
    ),
    (
        "http_server",
        "axum_census_unsampled_metrics vs axum_census_unsampled",
        "axum_census_unsampled vs axum_census_unsampled_metrics",
        "axum `GET /` ×16, census unsampled with metrics vs without",
    ),
    (
        "http_server",
        "actix_census_metrics vs actix_census",
        "actix_census vs actix_census_metrics",
        "actix-web `GET /` ×16, census with metrics vs without",
    ),
    (
        "http_server",
        "actix_census_unsampled_metrics vs actix_census_unsampled",
        "actix_census_unsampled vs actix_census_unsampled_metrics",
        "actix-web `GET /` ×16, census unsampled with metrics vs without",
    ),
    (
        "http_server_in_process",
        "axum_in_process_metrics vs axum_in_process",
        "axum_in_process vs axum_in_process_metrics",
        "axum `GET /users/{id}` in process ×64, census with metrics vs without",
    ),
    (
        "http_server_in_process",
        "axum_in_process_unsampled_metrics vs axum_in_process_unsampled",
        "axum_in_process_unsampled vs axum_in_process_unsampled_metrics",
        "axum `GET /users/{id}` in process ×64, census unsampled with metrics vs without",
    ),
    (
        "http_client",
        "reqwest_census vs reqwest_raw",
        "reqwest_raw vs reqwest_census",
        "reqwest `GET` ×16, census vs raw",
    ),
    (
        "http_client",
        "reqwest_census_unsampled vs reqwest_raw",
        "reqwest_raw vs reqwest_census_unsampled",
        "reqwest `GET` ×16, census unsampled vs raw",
    ),
    (
        "http_client",
        "reqwest_census_off vs reqwest_raw",
        "reqwest_raw vs reqwest_census_off",
        "reqwest `GET` ×16, census integration off vs raw",
    ),
    (
        "http_client",
        "reqwest_tracing vs reqwest_raw",
        "reqwest_raw vs reqwest_tracing",
        "reqwest `GET` ×16, reqwest-tracing (no traceparent) vs raw",
    ),
    (
        "http_client",
        "reqwest_census vs reqwest_tracing",
        "reqwest_tracing vs reqwest_census",
        "reqwest `GET` ×16, census vs reqwest-tracing",
    ),
    (
        "http_client",
        "hyper_census vs hyper_raw",
        "hyper_raw vs hyper_census",
        "hyper-util client `GET` ×16, census vs raw",
    ),
    (
        "http_client",
        "hyper_census_unsampled vs hyper_raw",
        "hyper_raw vs hyper_census_unsampled",
        "hyper-util client `GET` ×16, census unsampled vs raw",
    ),
    (
        "http_client",
        "hyper_census_off vs hyper_raw",
        "hyper_raw vs hyper_census_off",
        "hyper-util client `GET` ×16, census integration off vs raw",
    ),
    (
        "azure_export_to_local_ingestion",
        "census",
        "opentelemetry-application-insights",
        "export 512 spans to Application Insights: census vs opentelemetry-application-insights",
    ),
];

/// Median times (ns) by group, then bench name, then round (`None` for
/// a bench measured once).
type Results = BTreeMap<String, BTreeMap<String, BTreeMap<Option<u32>, f64>>>;

fn main() {
    let dir = std::env::var_os("CRITERION_DIR").map_or_else(
        census_integration_tests::paired::criterion_dir,
        PathBuf::from,
    );
    let mut results = Results::new();
    collect(&dir, &mut results);
    if results.is_empty() {
        eprintln!(
            "bench_table: no criterion results under {}: run the benches first (scripts/bench)",
            dir.display()
        );
        std::process::exit(1);
    }
    let table = table(&results);
    print!("{table}");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, file] = args.as_slice()
        && flag == "--readme"
    {
        let machine = std::env::var("BENCH_MACHINE").unwrap_or_else(|_| "this machine".into());
        if let Err(error) = write_into(Path::new(file), &machine, &table) {
            eprintln!("bench_table: {file}: {error}");
            std::process::exit(1);
        }
    }
}

const START: &str = "<!-- bench:start -->";
const END: &str = "<!-- bench:end -->";

fn write_into(file: &Path, machine: &str, table: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        return Err(format!("no `{START}` ... `{END}` markers"));
    };
    let block = format!("{START}\nMeasured by `scripts/bench` on {machine}.\n\n{table}");
    let text = format!("{}{block}{}", &text[..start], &text[end..]);
    std::fs::write(file, text).map_err(|e| e.to_string())
}

fn table(results: &Results) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    out.push_str("| comparison | measured | baseline | time ratio (median of rounds) | rounds |\n");
    out.push_str("|---|---|---|---|---|\n");
    for (group, measured, baseline, label) in PAIRS {
        let Some(benches) = results.get(*group) else {
            continue;
        };
        let (Some(a), Some(b)) = (benches.get(*measured), benches.get(*baseline)) else {
            continue;
        };
        let ratios: Vec<f64> = a
            .iter()
            .filter_map(|(round, t)| b.get(round).map(|base| t / base))
            .collect();
        if ratios.is_empty() {
            continue;
        }
        let ratio = median(ratios.clone());
        // Servers are judged by requests per second: the inverse ratio.
        let shown = match *group {
            "http_server" => format!("{ratio:.3}× (requests/s {:.3}×)", 1.0 / ratio),
            _ => format!("{ratio:.3}×"),
        };
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {shown} | {} |",
            time(median(a.values().copied().collect())),
            time(median(b.values().copied().collect())),
            ratios.len(),
        );
    }
    out
}

/// Walks `dir` for criterion's `new/benchmark.json` and `new/estimates.json`.
fn collect(dir: &Path, results: &mut Results) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "pairs.json") {
            read_pairs(&path, results);
            continue;
        }
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some((group, name, round, ns)) = read(&path) {
                results
                    .entry(group)
                    .or_default()
                    .entry(name)
                    .or_default()
                    .insert(round, ns);
            }
        } else {
            collect(&path, results);
        }
    }
}

fn read(dir: &Path) -> Option<(String, String, Option<u32>, f64)> {
    let json = |file: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).ok()?).ok()
    };
    let benchmark = json("benchmark.json")?;
    let estimates = json("estimates.json")?;
    let group = benchmark["group_id"].as_str()?.to_owned();
    let function = benchmark["function_id"].as_str()?;
    let ns = estimates["median"]["point_estimate"].as_f64()?;
    let (name, round) = match function.rsplit_once('/') {
        Some((name, round)) if round.parse::<u32>().is_ok() => (name, round.parse().ok()),
        _ => (function, None),
    };
    Some((group, name.to_owned(), round, ns))
}

/// A bench's `pairs.json` (see `census_integration_tests::paired`): each
/// side under `A vs B`, the times of A measured in pairs with B, since one
/// bench can be measured against several others.
fn read_pairs(file: &Path, results: &mut Results) {
    let Some(json) = std::fs::read_to_string(file)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
    else {
        eprintln!("bench_table: {}: not readable, skipped", file.display());
        return;
    };
    let Some(group) = json["group"].as_str() else {
        return;
    };
    let benches = results.entry(group.to_owned()).or_default();
    for pair in json["pairs"].as_array().into_iter().flatten() {
        let (Some(measured), Some(baseline), Some(round), Some(m), Some(b)) = (
            pair["measured"].as_str(),
            pair["baseline"].as_str(),
            pair["round"].as_u64().and_then(|r| u32::try_from(r).ok()),
            pair["measured_ns"].as_f64(),
            pair["baseline_ns"].as_f64(),
        ) else {
            continue;
        };
        let round = Some(round);
        benches
            .entry(format!("{measured} vs {baseline}"))
            .or_default()
            .insert(round, m);
        benches
            .entry(format!("{baseline} vs {measured}"))
            .or_default()
            .insert(round, b);
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn time(ns: f64) -> String {
    match ns {
        ns if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{:.1} µs", ns / 1e3),
        ns => format!("{ns:.1} ns"),
    }
}
