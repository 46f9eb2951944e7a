use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Login {
    #[session(key = "uid", key = "user")]
    user_id: u64,
}

fn main() {}
