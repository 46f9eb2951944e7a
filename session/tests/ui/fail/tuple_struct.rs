use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Cart(Vec<u32>, Option<u64>);

fn main() {}
