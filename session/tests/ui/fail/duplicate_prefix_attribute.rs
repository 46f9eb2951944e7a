use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "cart")]
#[session(prefix = "basket")]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
