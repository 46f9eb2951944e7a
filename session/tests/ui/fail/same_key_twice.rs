use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "auth")]
struct Login {
    uid: u64,
    #[session(key = "uid")]
    user_id: u64,
}

fn main() {}
