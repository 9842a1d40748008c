//! What the fuzz targets (`fuzz/`) reach that is not public API; compiled
//! only under cargo-fuzz's `--cfg fuzzing`.

/// The database system and target attributes read from `url`, as text.
pub fn target_of(url: &str) -> String {
    let (system, target) = crate::target::from_url(url);
    format!("{} {:?}", system.name(), target.attributes())
}
