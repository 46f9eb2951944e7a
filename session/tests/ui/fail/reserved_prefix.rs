use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "__session.cart")]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
