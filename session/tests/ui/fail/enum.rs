use session::SessionData;

#[derive(SessionData)]
enum Step {
    Cart,
    Payment,
}

fn main() {}
