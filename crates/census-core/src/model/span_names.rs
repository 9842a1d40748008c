//! Request span names, `{method} {route}`, each built once per process.
//!
//! Routes are the application's own, a finite set, so a name is kept for
//! the life of the process and every span of it carries a `&'static str`:
//! no copy per span for the export thread to free (see
//! [`recent`](super::recent) for why that matters). Past [`MAX_NAMES`] (an
//! application whose "routes" have no end), names are built per span.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use crate::ring::Ring;

/// The most names kept for the process.
const MAX_NAMES: usize = 1024;
/// Longer names are built per span.
const MAX_LEN: usize = 256;

static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

thread_local! {
    /// Names this thread finds without taking the lock.
    static LAST: RefCell<Ring<&'static str, 8>> = const { RefCell::new(Ring::new()) };
}

/// `{method} {route}`, or `method` alone without a route.
pub(crate) fn request_name(method: &'static str, route: Option<&str>) -> Cow<'static, str> {
    let route = match route {
        Some(route) if !route.is_empty() => route,
        _ => return Cow::Borrowed(method),
    };
    let is_it = |name: &str| {
        name.len() == method.len() + 1 + route.len()
            && name.starts_with(method)
            && name.ends_with(route)
            && name.as_bytes()[method.len()] == b' '
    };
    let known = LAST
        .try_with(|last| last.borrow().find(|name| is_it(name)).copied())
        .ok()
        .flatten();
    if let Some(name) = known {
        return Cow::Borrowed(name);
    }
    let mut name = String::with_capacity(method.len() + 1 + route.len());
    name.push_str(method);
    name.push(' ');
    name.push_str(route);
    match kept(name) {
        Ok(name) => {
            let _ = LAST.try_with(|last| last.borrow_mut().push(name));
            Cow::Borrowed(name)
        }
        Err(name) => Cow::Owned(name),
    }
}

/// `name` as kept for the process, or back when no more are kept.
fn kept(name: String) -> Result<&'static str, String> {
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    kept_in(names.get_or_insert_with(HashSet::new), name, MAX_NAMES)
}

fn kept_in(
    names: &mut HashSet<&'static str>,
    name: String,
    max_names: usize,
) -> Result<&'static str, String> {
    if let Some(known) = names.get(name.as_str()) {
        return Ok(known);
    }
    if names.len() >= max_names || name.len() > MAX_LEN {
        return Err(name);
    }
    let name: &'static str = Box::leak(name.into_boxed_str());
    names.insert(name);
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_built_once_and_found_again_on_any_thread() {
        let first = request_name("GET", Some("/span-names/{id}"));
        assert_eq!(first, "GET /span-names/{id}");
        assert!(matches!(first, Cow::Borrowed(_)));
        let elsewhere = std::thread::spawn(|| request_name("GET", Some("/span-names/{id}")))
            .join()
            .unwrap();
        assert!(std::ptr::eq(first.as_ptr(), elsewhere.as_ptr()));
        assert_eq!(
            request_name("POST", Some("/span-names/{id}")),
            "POST /span-names/{id}"
        );
        // Same length, other route: not taken for the name above.
        assert_eq!(
            request_name("GET", Some("/span-names/{ix}")),
            "GET /span-names/{ix}"
        );
    }

    #[test]
    fn without_a_route_the_method_alone_and_long_names_are_built() {
        assert_eq!(request_name("GET", None), "GET");
        assert_eq!(request_name("GET", Some("")), "GET");
        let long = format!("/{}", "a".repeat(MAX_LEN));
        let name = request_name("GET", Some(&long));
        assert_eq!(name, format!("GET {long}"));
        assert!(matches!(name, Cow::Owned(_)));
    }

    #[test]
    fn past_the_most_names_kept_a_name_is_given_back() {
        let mut names = HashSet::new();
        let a = kept_in(&mut names, "GET /a".to_owned(), 2).unwrap();
        assert_eq!(kept_in(&mut names, "GET /b".to_owned(), 2), Ok("GET /b"));
        assert_eq!(
            kept_in(&mut names, "GET /c".to_owned(), 2),
            Err("GET /c".to_owned())
        );
        let again = kept_in(&mut names, "GET /a".to_owned(), 2).unwrap();
        assert!(std::ptr::eq(a, again), "a kept name is still found");
    }
}
