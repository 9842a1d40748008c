//! The typed dependency model: where a call goes ([`Target`]), which kind of
//! system it talks to ([`DbSystem`]), and what it asks ([`SqlCommand`],
//! [`MongoCommand`], [`HttpCommand`], [`HttpServerRequest`]), and how a call
//! ended ([`Outcome`]), and a library's prepared statement with its SQL
//! ([`Prepared`]). Each maps onto semantic-convention
//! attributes and a span name, so integrations never spell attribute keys.

mod db_system;
mod grpc_call;
mod http_command;
mod http_server;
mod mongo_command;
mod outcome;
mod prepared;
pub(crate) mod recent;
mod span_names;
mod sql_command;
mod target;

pub use db_system::DbSystem;
pub use grpc_call::{GrpcCall, grpc_status, is_grpc};
pub use http_command::{HttpCommand, method_name};
pub use http_server::HttpServerRequest;
pub use mongo_command::MongoCommand;
pub use outcome::{Failure, Outcome};
pub use prepared::Prepared;
pub use sql_command::SqlCommand;
pub use target::Target;
