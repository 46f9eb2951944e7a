use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    #[session(version = 2)]
    items: Vec<u32>,
}

fn main() {}
