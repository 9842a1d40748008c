//! The sites of the routes a server answers, kept for the life of the
//! process like `tracing`'s callsites: a request neither copies its
//! route's attributes, nor looks its handles up, nor counts a reference.

use std::cell::RefCell;
use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{HTTP_REQUEST_METHOD, HTTP_ROUTE, URL_SCHEME};

use super::kept::Kept;
use super::site::Site;
use crate::model::recent::{Kind, shared};
use crate::ring::Ring;

/// Routes kept: past them a request describes itself afresh. Route
/// templates, each per method and scheme, stay far below; what is kept
/// stays below a megabyte.
const MAX_ROUTES: usize = 256;

/// Routes a thread compares before it looks in the process's table: a
/// server's busy ones.
const RECENT: usize = 8;

const SEED: u64 = 0x726f_7574_6573;

/// A route's site, and what it is looked up by.
#[derive(Debug)]
struct Route {
    method: &'static str,
    scheme: &'static str,
    route: Option<Box<str>>,
    site: Site,
}

impl Route {
    fn is(&self, method: &'static str, scheme: &'static str, route: Option<&str>) -> bool {
        same(self.method, method) && same(self.scheme, scheme) && self.route.as_deref() == route
    }
}

/// Whether two of the texts `method_name` and `scheme` give are the same:
/// the same literal, mostly, which spares comparing the bytes.
fn same(a: &'static str, b: &'static str) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The process's routes.
static ROUTES: Kept<Route> = Kept::new(MAX_ROUTES);

thread_local! {
    static RECENT_ROUTES: RefCell<Ring<&'static Route, RECENT>> = const { RefCell::new(Ring::new()) };
}

/// The site of a server request with these attributes (`method` as
/// [`method_name`](crate::model::method_name) gives it), shared with
/// every request of the route; `None` past [`MAX_ROUTES`].
pub(super) fn site(
    method: &'static str,
    scheme: &'static str,
    route: Option<&str>,
) -> Option<&'static Site> {
    RECENT_ROUTES
        .try_with(|recent| {
            let recent = &mut *recent.borrow_mut();
            if let Some(known) = recent.find(|known| known.is(method, scheme, route)) {
                return Some(&known.site);
            }
            let found = find_or_add(&ROUTES, method, scheme, route)?;
            recent.push(found);
            Some(&found.site)
        })
        // This thread is exiting.
        .unwrap_or_else(|_| find_or_add(&ROUTES, method, scheme, route).map(|found| &found.site))
}

/// The route in `routes`, added if there is room.
#[cold]
fn find_or_add(
    routes: &Kept<Route>,
    method: &'static str,
    scheme: &'static str,
    route: Option<&str>,
) -> Option<&'static Route> {
    let hash = {
        let mut hasher = FixedState::with_seed(SEED).build_hasher();
        hasher.write(method.as_bytes());
        hasher.write(scheme.as_bytes());
        if let Some(route) = route {
            hasher.write(route.as_bytes());
        }
        hasher.finish()
    };
    routes.find_or_add(
        hash,
        |known| known.is(method, scheme, route),
        || Route {
            method,
            scheme,
            route: route.map(Box::from),
            site: Site::new(attributes(method, scheme, route).into()),
        },
    )
}

/// A server request's attributes: method and scheme first (the
/// attributes of `http.server.active_requests`), then the route.
pub(super) fn attributes(
    method: &'static str,
    scheme: &'static str,
    route: Option<&str>,
) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(3);
    attributes.push(KeyValue::new(HTTP_REQUEST_METHOD, method));
    attributes.push(KeyValue::new(URL_SCHEME, scheme));
    if let Some(route) = route {
        attributes.push(KeyValue::new(HTTP_ROUTE, shared(Kind::Route, route)));
    }
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_is_shared_per_method_and_scheme_by_every_thread() {
        let a = site("GET", "http", Some("/users/{id}")).unwrap();
        let again = site("GET", "http", Some("/users/{id}")).unwrap();
        assert!(std::ptr::eq(a, again));
        let elsewhere = std::thread::spawn(|| site("GET", "http", Some("/users/{id}")).unwrap())
            .join()
            .unwrap();
        assert!(std::ptr::eq(a, elsewhere));
        for (method, scheme, route) in [
            ("POST", "http", Some("/users/{id}")),
            ("GET", "https", Some("/users/{id}")),
            ("GET", "http", Some("/users")),
            ("GET", "http", None),
        ] {
            let other = site(method, scheme, route).unwrap();
            assert!(!std::ptr::eq(a, other), "{method} {scheme} {route:?}");
            assert_eq!(*other.attributes(), *attributes(method, scheme, route));
        }
    }

    #[test]
    fn past_the_routes_kept_requests_describe_themselves() {
        static FULL: Kept<Route> = Kept::new(MAX_ROUTES);
        let route = |i: usize| find_or_add(&FULL, "GET", "http", Some(&format!("/r{i}")));
        assert!((0..MAX_ROUTES).all(|i| route(i).is_some()));
        assert!(route(MAX_ROUTES).is_none());
        assert!(route(0).is_some(), "kept");
    }
}
