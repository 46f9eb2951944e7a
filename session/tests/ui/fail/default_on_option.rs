use session::SessionData;

#[derive(SessionData)]
struct Login {
    #[session(default)]
    user_id: Option<u64>,
}

fn main() {}
