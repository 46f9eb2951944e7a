use session::SessionData;

#[derive(SessionData)]
struct Cart<T> {
    items: Vec<T>,
}

fn main() {}
