use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Wizard {
    load: u32,
}

fn main() {}
