use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "cart", version = 2, version = 3)]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
