//! census tests that need whole processes or real services; the tests live
//! in `tests/`, the programs they run in `src/bin`, and the pieces they
//! share here.

pub mod identity;
pub mod ingestion;
pub mod otlp;
pub mod paired;
pub mod process;
pub mod secrets;
pub mod server;
pub mod services;
pub mod track_schema;
