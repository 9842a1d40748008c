//! What the fuzz targets (`fuzz/`) reach that is not public API; compiled
//! only under cargo-fuzz's `--cfg fuzzing`.

pub use mongodb::bson;

/// The masked text recorded for `command`, named `command_name`.
pub fn masked_text(command_name: &str, command: &bson::Document) -> String {
    crate::command::masked_text(command_name, command)
}
