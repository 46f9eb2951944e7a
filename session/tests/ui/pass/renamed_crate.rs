//! `#[session(crate = "...")]` for apps that reach the library under another name.
mod reexport {
    pub use actix_typed_session as sessions;
}

#[derive(actix_typed_session::SessionData)]
#[session(crate = "crate::reexport::sessions")]
struct Counter {
    #[session(default)]
    count: u64,
}

fn main() {
    assert_eq!(CounterSession::COUNT_KEY, "count");
}
