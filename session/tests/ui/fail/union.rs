use actix_typed_session::SessionData;

#[derive(SessionData)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
