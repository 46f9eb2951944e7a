//! Compile-time behaviour of `#[derive(SessionData)]`: what must compile, and the error (with its
//! span and suggested fix) for each misuse. One mistake per file under `tests/ui/fail`. Also the
//! store trait's (`tests/ui/store`): a wrapper store that forwards only the core methods does
//! not compile, as the user methods have no provided version.
//! Regenerate the snapshots with `TRYBUILD=overwrite` after an intended message change.

#[test]
fn derive_ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.compile_fail("tests/ui/store/*.rs");
}
