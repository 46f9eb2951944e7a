use session::SessionData;

#[derive(SessionData)]
struct Cart(Vec<u32>, Option<u64>);

fn main() {}
