//! Typed sessions: a login and a shopping cart as plain structs, with no key strings in the
//! handlers.
//!
//! `cargo run -p examples --bin typed`, then, keeping cookies in a jar:
//! ```text
//! curl -c jar -b jar -X POST localhost:8080/cart/7      # a guest can fill a cart
//! curl -c jar -b jar -X POST localhost:8080/login/ada   # the cart survives login
//! curl -c jar -b jar -X POST localhost:8080/coupon/SPRING
//! curl -c jar -b jar localhost:8080/cart
//! curl -c jar -b jar -X POST localhost:8080/checkout
//! curl -c jar -b jar -X POST localhost:8080/logout
//! ```

use actix_web::{cookie::Key, get, post, web, App, HttpResponse, HttpServer};
use session::{store::MemoryStore, SessionData, SessionMiddleware};

/// Who is logged in. Both fields are required, so `load()` is `None` until login saves them.
#[derive(SessionData, Debug)]
#[session(prefix = "auth")]
struct Login {
    /// The account's id.
    user_id: u64,
    /// The name shown on pages.
    name: String,
}

/// What the visitor is about to buy; guests have one too.
#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    /// Item ids, in the order they were added.
    #[session(default)]
    items: Vec<u32>,
    /// A discount code, if one was entered.
    coupon: Option<String>,
}

/// The demo's accounts; a real app checks a password here.
const USERS: &[(&str, u64)] = &[("ada", 1), ("grace", 2)];

type Reply = actix_web::Result<HttpResponse>;

#[post("/login/{name}")]
async fn log_in(auth: LoginSession, name: web::Path<String>) -> Reply {
    let Some(&(name, user_id)) = USERS.iter().find(|(n, _)| *n == name.as_str()) else {
        return Ok(HttpResponse::Unauthorized().body("unknown user\n"));
    };
    // A new session id on login, so an id planted before it is worthless; the data (the
    // cart) moves along.
    auth.session().renew();
    auth.save(&Login {
        user_id,
        name: name.to_owned(),
    })?;
    Ok(HttpResponse::Ok().body(format!("welcome, {name}\n")))
}

#[get("/me")]
async fn me(auth: LoginSession) -> Reply {
    Ok(match auth.load()? {
        Some(user) => HttpResponse::Ok().body(format!("{} (#{})\n", user.name, user.user_id)),
        None => HttpResponse::Unauthorized().body("not logged in\n"),
    })
}

#[post("/cart/{item}")]
async fn add_item(cart: CartSession, item: web::Path<u32>) -> Reply {
    let items = cart.update_items(|mut items| {
        items.push(item.into_inner());
        items
    })?;
    Ok(HttpResponse::Ok().body(format!("{} item(s)\n", items.len())))
}

#[post("/coupon/{code}")]
async fn apply_coupon(cart: CartSession, code: web::Path<String>) -> Reply {
    cart.set_coupon(Some(code.into_inner()))?;
    Ok(HttpResponse::Ok().body("ok\n"))
}

#[get("/cart")]
async fn show_cart(auth: LoginSession, cart: CartSession) -> Reply {
    let who = auth.name()?.unwrap_or_else(|| "guest".to_owned());
    let coupon = cart.coupon()?.unwrap_or_else(|| "none".to_owned());
    Ok(HttpResponse::Ok().body(format!(
        "{who}: items {:?}, coupon {coupon}\n",
        cart.items()?
    )))
}

#[post("/checkout")]
async fn checkout(auth: LoginSession, cart: CartSession) -> Reply {
    let Some(user) = auth.load()? else {
        return Ok(HttpResponse::Unauthorized().body("log in first\n"));
    };
    let items = cart.items()?;
    if items.is_empty() {
        return Ok(HttpResponse::BadRequest().body("the cart is empty\n"));
    }
    cart.remove_all()?;
    Ok(HttpResponse::Ok().body(format!("{} ordered {} item(s)\n", user.name, items.len())))
}

#[post("/logout")]
async fn log_out(auth: LoginSession) -> HttpResponse {
    // Deletes the whole session (cart included) and its cookie.
    auth.session().purge();
    HttpResponse::Ok().body("bye\n")
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(log_in)
        .service(me)
        .service(add_item)
        .service(apply_coupon)
        .service(show_cart)
        .service(checkout)
        .service(log_out);
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let key = Key::generate(); // production apps load a fixed key from their secrets
    let store = MemoryStore::new();
    let server = HttpServer::new(move || {
        App::new()
            // Plain HTTP on localhost, so no `Secure`; keep the default (on) behind HTTPS.
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            .configure(routes)
    })
    .bind(("127.0.0.1", 8080))?;
    println!("typed listening on http://127.0.0.1:8080/ (see the file's docs for requests)");
    server.run().await
}

#[cfg(test)]
mod tests {
    use actix_web::{cookie::Cookie, http::StatusCode, test, App};
    use session::{store::MemoryStore, SessionMiddleware};

    use super::*;

    /// Walks the whole flow as a browser would, carrying the session cookie.
    #[actix_web::test]
    async fn guest_cart_survives_login_and_checkout_needs_it() {
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate()))
                .configure(routes),
        )
        .await;
        let mut jar: Option<Cookie<'static>> = None;
        // One request carrying the cookie jar, as a browser would: (status, body).
        macro_rules! call {
            ($method:ident, $uri:expr) => {{
                let mut req = test::TestRequest::$method().uri($uri);
                if let Some(cookie) = &jar {
                    req = req.cookie(cookie.clone());
                }
                let res = test::call_service(&app, req.to_request()).await;
                let set = res.response().cookies().find(|c| c.name() == "session");
                if let Some(cookie) = set {
                    jar = (!cookie.value().is_empty()).then(|| cookie.into_owned());
                }
                let status = res.status();
                let body = test::read_body(res).await;
                (status, String::from_utf8(body.to_vec()).unwrap())
            }};
        }

        assert_eq!(call!(post, "/checkout").0, StatusCode::UNAUTHORIZED);
        assert_eq!(call!(post, "/cart/7").1, "1 item(s)\n");
        assert_eq!(call!(post, "/cart/9").1, "2 item(s)\n");
        let before_login = jar.clone();
        assert_eq!(call!(post, "/login/nobody").0, StatusCode::UNAUTHORIZED);
        assert_eq!(call!(post, "/login/ada").1, "welcome, ada\n");
        assert_ne!(jar, before_login, "login renews the session id");
        assert_eq!(call!(get, "/me").1, "ada (#1)\n");
        call!(post, "/coupon/SPRING");
        assert_eq!(call!(get, "/cart").1, "ada: items [7, 9], coupon SPRING\n");
        assert_eq!(call!(post, "/checkout").1, "ada ordered 2 item(s)\n");
        assert_eq!(call!(get, "/cart").1, "ada: items [], coupon none\n");
        assert_eq!(call!(post, "/logout").1, "bye\n");
        assert_eq!(jar, None, "logout removes the cookie");
        assert_eq!(call!(get, "/me").0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            jar, None,
            "a logged-out visitor gets no new session by reading"
        );
    }
}
