use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "cart", version = 2)]
struct Cart {
    schema_version: u32,
}

fn main() {}
