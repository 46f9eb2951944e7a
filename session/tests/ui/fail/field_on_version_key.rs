use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "cart", version = 2)]
struct Cart {
    #[session(key = "__version")]
    items: Vec<u32>,
}

fn main() {}
