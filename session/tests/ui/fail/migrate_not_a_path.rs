use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    #[session(migrate = "not a path")]
    items: Vec<u32>,
}

fn main() {}
