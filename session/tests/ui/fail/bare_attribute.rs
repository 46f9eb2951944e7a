use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Cart {
    #[session]
    items: Vec<u32>,
}

fn main() {}
