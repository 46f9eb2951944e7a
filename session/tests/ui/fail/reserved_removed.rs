use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(removed = ["__session.flash"])]
struct Settings {
    theme: String,
}

fn main() {}
