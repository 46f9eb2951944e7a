use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Login {
    #[session(key = 5)]
    user_id: u64,
}

fn main() {}
