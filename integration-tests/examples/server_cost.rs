//! What one request costs a server, for `scripts/profile` to count under
//! callgrind: `server_cost {axum|actix} VARIANT REQUESTS` serves REQUESTS
//! sequential `GET /` (`Hello World!`) over loopback to an in-process
//! client, then exits.
//!
//! VARIANT is `bare` (no middleware), `census` (census's middleware, the
//! default sampler, batch export to an exporter that discards),
//! `unsampled` (the same, with a caller whose `traceparent` is not
//! sampled), `bare_unsampled` (no middleware, the same `traceparent`
//! sent: what the header alone costs), or `measured` and
//! `measured_unsampled` (`census` and `unsampled` with a meter provider
//! installed as census's pipeline installs one: every request also
//! measured). Everything runs on one client
//! thread and one server thread, so that counts repeat from run to run.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const USAGE: &str = "usage: server_cost {axum|actix} \
    {bare|census|unsampled|bare_unsampled|measured|measured_unsampled} REQUESTS";
const UNSAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

async fn hello() -> &'static str {
    "Hello World!"
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [framework, variant, requests] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let (census, traceparent, measured) = match variant.as_str() {
        "bare" => (false, None, false),
        "census" => (true, None, false),
        "unsampled" => (true, Some(UNSAMPLED), false),
        "bare_unsampled" => (false, Some(UNSAMPLED), false),
        "measured" => (true, None, true),
        "measured_unsampled" => (true, Some(UNSAMPLED), true),
        other => {
            eprintln!("unknown variant {other:?}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    let Ok(requests) = requests.parse::<usize>() else {
        eprintln!("REQUESTS must be a number, not {requests:?}; {USAGE}");
        return ExitCode::from(2);
    };
    let tracer = census_pipeline::testing::discarding_tracer(None);
    let meters = measured.then(census_pipeline::testing::recording_meter_provider);
    census::tower::INTEGRATION.set_enabled(true);
    census::actix::INTEGRATION.set_enabled(true);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let addr = match framework.as_str() {
        "axum" => runtime.block_on(serve_axum(census)),
        "actix" => serve_actix(census),
        other => {
            eprintln!("unknown framework {other:?}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(send(addr, requests, traceparent));
    let _ = tracer.shutdown(Duration::from_secs(5));
    if let Some(meters) = meters {
        let _ = meters.shutdown();
    }
    ExitCode::SUCCESS
}

async fn serve_axum(census: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let app = Router::new().route("/", get(hello));
    let app = match census {
        true => app.layer(census::tower::TraceLayer::new()),
        false => app,
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn serve_actix(census: bool) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    // One app type per middleware: `wrap` changes the type.
    macro_rules! run {
        ($app:expr) => {
            actix_web::HttpServer::new(move || $app.route("/", actix_web::web::get().to(hello)))
                .workers(1)
                .listen(listener)
                .expect("the listener")
                .run()
        };
    }
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match census {
                true => run!(actix_web::App::new().wrap(census::actix::Trace::new())).await,
                false => run!(actix_web::App::new()).await,
            }
        })
    });
    addr
}

async fn send(addr: SocketAddr, requests: usize, traceparent: Option<&'static str>) {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let uri: hyper::Uri = format!("http://{addr}/").parse().expect("a URI");
    let request = || {
        let mut request = hyper::Request::get(uri.clone());
        if let Some(traceparent) = traceparent {
            request = request.header("traceparent", traceparent);
        }
        request.body(Empty::new()).expect("a request")
    };
    for _ in 0..requests {
        // The actix server starts on its own thread: wait for it.
        let response = loop {
            match client.request(request()).await {
                Ok(response) => break response,
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        };
        assert!(response.status().is_success());
        response.into_body().collect().await.expect("the body");
    }
}
