//! The numeric `OTEL_*` variables, read as the SDK reads them but never
//! ignored in silence.

/// `name`'s value from `var` as a whole number; `None` when unset, or
/// when it is not one, with a warning naming it (the default applies).
pub(crate) fn whole_number(var: &impl Fn(&str) -> Option<String>, name: &str) -> Option<u64> {
    let value = var(name)?;
    match value.trim().parse::<u64>() {
        Ok(number) => Some(number),
        Err(_) => {
            census_core::diagnostics::warn(&format!(
                "{name}={value:?} is not a whole number: the default applies"
            ));
            None
        }
    }
}
