use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "cart", removed = ["items"])]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
