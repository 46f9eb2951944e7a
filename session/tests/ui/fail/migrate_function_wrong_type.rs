use actix_typed_session::SessionData;

fn ids(stored: serde_json::Value) -> Result<Vec<String>, serde_json::Error> {
    serde_json::from_value(stored)
}

#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    #[session(migrate = "ids")]
    items: Vec<u32>,
}

fn main() {}
