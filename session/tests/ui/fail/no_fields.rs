use session::SessionData;

#[derive(SessionData)]
struct Cart {}

fn main() {}
