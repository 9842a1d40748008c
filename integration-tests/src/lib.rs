//! census tests that need whole processes or real services; the tests live
//! in `tests/`, and `src/bin` holds the small programs they run.
