use actix_typed_session::SessionData;

#[derive(SessionData)]
struct Login<'a> {
    name: &'a str,
}

fn main() {}
