use session::SessionData;

#[derive(SessionData)]
struct Cart {
    #[session(prefix = "cart")]
    items: Vec<u32>,
}

fn main() {}
