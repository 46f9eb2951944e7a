use actix_typed_session::SessionData;

fn start() -> &'static str {
    "EUR"
}

#[derive(SessionData)]
struct Cart {
    #[session(default = "start")]
    currency: String,
}

fn main() {}
