//! The command event handler: a span starts when the driver sends a
//! command (on the caller's task, so in the caller's context) and ends with
//! its reply or failure.

use std::sync::Arc;

use census_core::metrics::CallMetric;
use census_core::model::{DbSystem, MongoCommand, Target};
use mongodb::event::EventHandler;
use mongodb::event::cmap::CmapEvent;
use mongodb::event::command::{CommandEvent, CommandStartedEvent};
use mongodb::options::{ClientOptions, ServerAddress};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;
use opentelemetry_semantic_conventions::attribute::{DB_NAMESPACE, DB_QUERY_TEXT};

use crate::command::{collection, is_reported, masked_text};
use crate::error;
use crate::in_flight::InFlight;

/// Installs census's command handler with the defaults: no command text,
/// at most 10 000 commands in flight.
pub fn install(options: &mut ClientOptions) {
    Commands::new().install(options);
}

/// How commands are reported; [`install`](Self::install) puts it on a
/// client's options.
///
/// ```
/// # async fn demo() -> mongodb::error::Result<()> {
/// let mut options = mongodb::options::ClientOptions::parse("mongodb://127.0.0.1").await?;
/// census_mongodb::Commands::new().capture_text(true).install(&mut options);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Commands {
    capture_text: bool,
    max_in_flight: usize,
}

impl Default for Commands {
    fn default() -> Self {
        Self::new()
    }
}

impl Commands {
    /// The defaults: no command text, at most 10 000 commands in flight.
    pub fn new() -> Self {
        Self {
            capture_text: false,
            max_in_flight: 10_000,
        }
    }

    /// Records each command as `db.query.text`, every value masked
    /// (`{"find": "orders", "filter": {"status": ?}}`). Off by default.
    pub fn capture_text(mut self, capture: bool) -> Self {
        self.capture_text = capture;
        self
    }

    /// How many commands may await their reply before the oldest span is
    /// ended as failed (`error.type` `census.no_reply`).
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// Puts census's command handler on `options`, and a connection-pool
    /// handler that ends the span of a command whose caller dropped its
    /// future (the driver sends no reply event then; the connection going
    /// back to the pool says it). Handlers already there keep receiving
    /// every event, after census's.
    pub fn install(self, options: &mut ClientOptions) {
        let handler = Arc::new(Handler {
            in_flight: InFlight::new(self.max_in_flight),
            commands: self,
        });
        let previous = options.command_event_handler.take().filter(forwardable);
        let commands = handler.clone();
        options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
            commands.handle(&event);
            if let Some(previous) = &previous {
                forward(previous, event);
            }
        }));
        // The pool says when a connection comes back with a command still
        // on it: its caller gave up.
        let previous = options.cmap_event_handler.take().filter(forwardable);
        options.cmap_event_handler = Some(EventHandler::callback(move |event: CmapEvent| {
            match &event {
                CmapEvent::ConnectionCheckedIn(e) => {
                    handler
                        .in_flight
                        .connection_released(&e.address, e.connection_id);
                }
                CmapEvent::ConnectionClosed(e) => {
                    handler
                        .in_flight
                        .connection_released(&e.address, e.connection_id);
                }
                _ => {}
            }
            if let Some(previous) = &previous {
                forward(previous, event);
            }
        }));
    }
}

/// Hands `event` to the application's own handler, as the driver would.
fn forward<T: Send + 'static>(handler: &EventHandler<T>, event: T) {
    match handler {
        EventHandler::Callback(callback) => callback(event),
        EventHandler::AsyncCallback(callback) => {
            tokio::spawn(callback(event));
        }
        EventHandler::TokioMpsc(sender) => {
            let sender = sender.clone();
            tokio::spawn(async move {
                let _ = sender.send(event).await;
            });
        }
        // Kept only when forwardable.
        _ => {}
    }
}

/// Whether census can hand events on to `handler`; a kind added to the
/// driver later cannot be, which the application hears about once, here.
fn forwardable<T>(handler: &EventHandler<T>) -> bool {
    let known = matches!(
        handler,
        EventHandler::Callback(_) | EventHandler::AsyncCallback(_) | EventHandler::TokioMpsc(_)
    );
    if !known {
        census_core::diagnostics::warn(
            "census-mongodb cannot forward events to a handler already set on these \
             ClientOptions (a kind of handler it does not know), so that handler no longer \
             receives them; use `EventHandler::callback` for your own handler",
        );
    }
    known
}

#[derive(Debug)]
struct Handler {
    commands: Commands,
    in_flight: InFlight,
}

impl Handler {
    fn handle(&self, event: &CommandEvent) {
        match event {
            CommandEvent::Started(started) => self.started(started),
            CommandEvent::Succeeded(done) => {
                if let Some(span) = self.in_flight.take(done.request_id) {
                    span.finish(&error::replied(&done.reply));
                }
            }
            CommandEvent::Failed(failed) => {
                if let Some(span) = self.in_flight.take(failed.request_id) {
                    span.finish(&error::failed(&failed.failure));
                }
            }
            _ => {}
        }
    }

    fn started(&self, event: &CommandStartedEvent) {
        if !is_reported(&event.command_name) || !crate::INTEGRATION.should_trace() {
            return;
        }
        // The typed command every database integration describes its
        // calls with: name and attributes come from the model.
        let mut command = MongoCommand::new(event.command_name.clone());
        if let Some(collection) = collection(&event.command_name, &event.command) {
            command = command.with_collection(collection);
        }
        let span = crate::INTEGRATION
            .start(
                SpanKind::Client,
                command.span_name(),
                &census_core::context::current(),
                || self.attributes(event, &command),
            )
            .measured(|| {
                let target = target(&event.connection.address);
                let metric = CallMetric::database(DbSystem::MongoDb, &target)
                    .with_namespace(event.db.clone());
                command
                    .attributes()
                    .into_iter()
                    .fold(metric, CallMetric::with_attribute)
            });
        self.in_flight.insert(
            event.request_id,
            span,
            event.connection.address.clone(),
            event.connection.id,
        );
    }

    fn attributes(&self, event: &CommandStartedEvent, command: &MongoCommand) -> Vec<KeyValue> {
        let mut attributes = target(&event.connection.address).attributes();
        attributes.push(DbSystem::MongoDb.attribute());
        attributes.push(KeyValue::new(DB_NAMESPACE, event.db.clone()));
        attributes.extend(command.attributes());
        if self.commands.capture_text {
            attributes.push(KeyValue::new(
                DB_QUERY_TEXT,
                masked_text(&event.command_name, &event.command),
            ));
        }
        attributes
    }
}

fn target(address: &ServerAddress) -> Target {
    match address {
        ServerAddress::Tcp { host, port } => Target::new()
            .with_host(host)
            .with_port(port.unwrap_or(27017)),
        #[cfg(unix)]
        ServerAddress::Unix { path } => Target::new().with_host(path.to_string_lossy()),
        _ => Target::new(),
    }
}
