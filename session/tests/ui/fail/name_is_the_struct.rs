use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(name = "Cart")]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
