use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Profile {
    name: String,
    set_name: bool,
}

fn main() {}
