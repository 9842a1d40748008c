//! A real tonic server (with census's layer) and client over loopback
//! HTTP/2: gRPC calls are named by method and their outcome is their
//! `grpc-status`, whether in the trailers or, for an error, the head.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use census_pipeline::testing::{SpanData, attribute_map, attributes, capture};
use census_tower::TraceLayer;
use http::uri::PathAndQuery;
use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt};
use tonic::codegen::BoxFuture;

#[derive(Clone, PartialEq, prost::Message)]
struct HelloRequest {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct HelloReply {
    #[prost(string, tag = "1")]
    message: String,
}

/// `demo.Greeter/SayHello`: greets, or answers NOT_FOUND for `nobody`
/// and INTERNAL for `crash`.
struct SayHello;

impl tonic::server::UnaryService<HelloRequest> for SayHello {
    type Response = HelloReply;
    type Future = BoxFuture<tonic::Response<HelloReply>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<HelloRequest>) -> Self::Future {
        Box::pin(async move {
            match request.into_inner().name.as_str() {
                "nobody" => Err(tonic::Status::not_found("no such person")),
                "crash" => Err(tonic::Status::internal("the greeter broke")),
                name => Ok(tonic::Response::new(HelloReply {
                    message: format!("hello {name}"),
                })),
            }
        })
    }
}

#[derive(Clone)]
struct Greeter;

impl tonic::server::NamedService for Greeter {
    const NAME: &'static str = "demo.Greeter";
}

impl<B> tower::Service<http::Request<B>> for Greeter
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(SayHello, request).await)
        })
    }
}

async fn serve() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .layer(TraceLayer::new())
            .add_service(Greeter)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    addr
}

/// Calls SayHello for `name` under a test root; returns the reply or
/// status, and the server span.
async fn say_hello(
    addr: std::net::SocketAddr,
    name: &str,
) -> (Result<String, tonic::Code>, SpanData) {
    let spans = capture(&[&census_tower::INTEGRATION]);
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let (cx, trace_id) = spans.root("caller");
    let mut client = tonic::client::Grpc::new(channel);
    client.ready().await.unwrap();
    let mut request = tonic::Request::new(HelloRequest {
        name: name.to_owned(),
    });
    // The caller's context goes along as gRPC metadata (`traceparent`).
    let ids = cx.span().span_context().clone();
    let traceparent = format!("00-{}-{}-01", ids.trace_id(), ids.span_id());
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    let reply = client
        .unary(
            request,
            PathAndQuery::from_static("/demo.Greeter/SayHello"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .map(|r: tonic::Response<HelloReply>| r.into_inner().message)
        .map_err(|status| status.code());
    cx.span().end();
    let mut recorded = spans.wait_for(trace_id, 2);
    recorded.retain(|s| s.name != "caller");
    let [span] = recorded.as_slice() else {
        panic!("{recorded:#?}")
    };
    assert_eq!(span.parent_span_id, ids.span_id());
    (reply, span.clone())
}

#[tokio::test]
async fn a_grpc_call_is_named_by_method_and_its_status_is_the_outcome() {
    let addr = serve().await;
    let (reply, span) = say_hello(addr, "ann").await;
    assert_eq!(reply.as_deref(), Ok("hello ann"));
    assert_eq!(span.name, "demo.Greeter/SayHello");
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.status, Status::Unset);
    assert_eq!(
        attributes(&span),
        attribute_map([
            KeyValue::new("rpc.system.name", "grpc"),
            KeyValue::new("rpc.method", "demo.Greeter/SayHello"),
            KeyValue::new("rpc.response.status_code", "OK"),
        ])
    );

    // NOT_FOUND is the caller's problem: not a server error.
    let (reply, span) = say_hello(addr, "nobody").await;
    assert_eq!(reply, Err(tonic::Code::NotFound));
    assert_eq!(
        attributes(&span)["rpc.response.status_code"],
        "NOT_FOUND".into()
    );
    assert_eq!(span.status, Status::Unset);

    // INTERNAL is the server's.
    let (reply, span) = say_hello(addr, "crash").await;
    assert_eq!(reply, Err(tonic::Code::Internal));
    assert_eq!(
        attributes(&span)["rpc.response.status_code"],
        "INTERNAL".into()
    );
    assert_eq!(attributes(&span)["error.type"], "INTERNAL".into());
    assert_eq!(span.status, Status::error(""));
}
