// A derive error is reported once: code naming the accessor adds none of its own, neither
// "cannot find type `CartSession`" (here through a glob import) nor a missing method or
// `FromRequest`.
mod model {
    use actix_typed_session::SessionData;

    #[derive(SessionData)]
    #[session(prefx = "cart")]
    pub struct Cart {
        pub items: Vec<u32>,
    }
}

mod handlers {
    use crate::model::*;

    pub async fn show(cart: CartSession) -> String {
        format!("{:?}", cart.items())
    }
}

fn main() {
    let _ = actix_web::App::new().route("/", actix_web::web::get().to(handlers::show));
}
