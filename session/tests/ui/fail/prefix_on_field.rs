use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Cart {
    #[session(prefix = "cart")]
    items: Vec<u32>,
}

fn main() {}
