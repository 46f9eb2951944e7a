use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(name = "Cart State")]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
