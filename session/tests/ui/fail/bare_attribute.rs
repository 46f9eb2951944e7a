use session::SessionData;

#[derive(SessionData)]
struct Cart {
    #[session]
    items: Vec<u32>,
}

fn main() {}
