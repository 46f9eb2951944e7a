use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Cart
where
    u32: Copy,
{
    items: Vec<u32>,
}

fn main() {}
