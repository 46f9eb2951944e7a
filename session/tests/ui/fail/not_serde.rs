use actix_typed_session::SessionData;

struct Basket {
    items: Vec<u32>,
}

#[derive(SessionData)]
struct Cart {
    basket: Basket,
}

fn main() {}
