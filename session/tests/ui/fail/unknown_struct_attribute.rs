use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefx = "cart")]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
