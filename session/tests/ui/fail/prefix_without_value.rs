use session::SessionData;

#[derive(SessionData)]
#[session(prefix)]
struct Cart {
    items: Vec<u32>,
}

fn main() {}
