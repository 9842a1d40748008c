//! The typed dependency model: where a call goes ([`Target`]), which kind of
//! system it talks to ([`DbSystem`]), and what it asks ([`SqlCommand`],
//! [`MongoCommand`], [`HttpCommand`]). Each maps onto semantic-convention
//! attributes and a span name, so integrations never spell attribute keys.

mod db_system;
mod http_command;
mod mongo_command;
mod sql_command;
mod target;

pub use db_system::DbSystem;
pub use http_command::{HttpCommand, method_name};
pub use mongo_command::MongoCommand;
pub use sql_command::SqlCommand;
pub use target::Target;
