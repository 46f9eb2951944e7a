use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Counter {
    #[session(default = 1)]
    count: u64,
}

fn main() {}
