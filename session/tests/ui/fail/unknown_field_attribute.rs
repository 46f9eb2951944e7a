use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Login {
    #[session(rename = "uid")]
    user_id: u64,
}

fn main() {}
