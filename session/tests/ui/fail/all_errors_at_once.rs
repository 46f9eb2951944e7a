// Several mistakes in one struct: every one is reported, not just the first.
use actix_typed_session::SessionData;

#[derive(SessionData)]
#[session(prefx = "cart")]
struct Cart<T> {
    #[session(key = 1)]
    items: Vec<T>,
    #[session(default)]
    coupon: Option<String>,
    #[session(key = "total")]
    sum: u32,
    total: u32,
}

fn main() {}
