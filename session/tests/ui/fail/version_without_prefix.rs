use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(version = 2)]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
