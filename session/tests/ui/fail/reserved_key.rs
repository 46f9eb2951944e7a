use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Login {
    #[session(key = "__session.user")]
    user_id: u64,
}

fn main() {}
