use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Login {
    #[session(default)]
    user_id: Option<u64>,
}

fn main() {}
