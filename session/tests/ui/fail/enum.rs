use actix_typed_session::SessionData;

#[derive(SessionData)]
enum Step {
    Cart,
    Payment,
}

fn main() {}
