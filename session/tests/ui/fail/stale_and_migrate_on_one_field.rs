use actix_typed_session::SessionData;

fn ids(stored: serde_json::Value) -> Result<Vec<u32>, serde_json::Error> {
    serde_json::from_value(stored)
}

#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    #[session(stale = "error", migrate = "ids")]
    items: Vec<u32>,
}

fn main() {}
