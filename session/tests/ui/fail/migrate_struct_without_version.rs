use actix_typed_session::SessionData;

fn upgrade(
    _: u32,
    _: serde_json::Map<String, serde_json::Value>,
) -> Result<Cart, serde_json::Error> {
    Ok(Cart { items: vec![] })
}

#[derive(SessionData)]
#[session(prefix = "cart", migrate = "upgrade")]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
