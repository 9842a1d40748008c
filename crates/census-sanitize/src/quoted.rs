//! Masking quoted values in free text such as database error messages,
//! which often quote the offending value (`Duplicate entry 'a@b.c'`).

/// `text` with every `'...'`, `"..."` and `` `...` `` run replaced by `?`;
/// an unterminated run is masked to the end.
///
/// ```
/// use census_sanitize::mask_quoted;
/// assert_eq!(
///     mask_quoted("Duplicate entry 'bob@example.com' for key 'users.email'"),
///     "Duplicate entry ? for key ?"
/// );
/// ```
pub fn mask_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    for c in text.chars() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`') => {
                quote = Some(c);
                out.push('?');
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::mask_quoted;

    #[test]
    fn masks_every_quote_style_and_unterminated_runs() {
        assert_eq!(
            mask_quoted(r#"value "hunter2" in `col` near 'x' and 'unterminated secret"#),
            "value ? in ? near ? and ?"
        );
        assert_eq!(
            mask_quoted("UNIQUE constraint failed: users.email"),
            "UNIQUE constraint failed: users.email"
        );
        assert_eq!(mask_quoted("naïve 'Zürich' ok"), "naïve ? ok");
    }
}
