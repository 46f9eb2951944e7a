use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Counter {
    #[session(default)]
    #[session(default)]
    count: u64,
}

fn main() {}
