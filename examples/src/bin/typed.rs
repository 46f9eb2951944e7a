//! Typed sessions: a login and a shopping cart as plain structs, with no key strings in the
//! handlers; sign-in, "remember me", flash messages and the user's sessions with "log out
//! everywhere".
//!
//! `cargo run -p examples --bin typed`, then, keeping cookies in a jar:
//! ```text
//! curl -c jar -b jar -X POST localhost:8080/cart/7      # a guest can fill a cart
//! curl -c jar -b jar -X POST 'localhost:8080/login/ada?remember=true'  # the cart survives
//! curl -c jar -b jar localhost:8080/messages            # "welcome", shown once
//! curl -c jar -b jar -X POST localhost:8080/coupon/SPRING
//! curl -c jar -b jar localhost:8080/cart
//! curl -c jar -b jar -X POST localhost:8080/checkout
//! curl -c jar -b jar localhost:8080/sessions            # every device ada is signed in on
//! curl -c jar -b jar -X POST localhost:8080/logout-everywhere
//! ```

use std::time::{Duration, UNIX_EPOCH};

use actix_typed_session::{
    store::MemoryStore, Flash, FlashMessage, Session, SessionData, SessionMiddleware,
    UserSessionsError,
};
use actix_web::{cookie::Key, get, post, web, App, HttpResponse, HttpServer};
use serde::Deserialize;

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

/// `?remember=true` keeps the visitor signed in for 30 days, across browser restarts.
#[derive(Deserialize)]
struct LoginOptions {
    #[serde(default)]
    remember: bool,
}

#[post("/login/{name}")]
async fn log_in(
    auth: LoginSession,
    flash: Flash,
    name: web::Path<String>,
    options: web::Query<LoginOptions>,
) -> Reply {
    let Some(&(name, user_id)) = USERS.iter().find(|(n, _)| *n == name.as_str()) else {
        return Ok(HttpResponse::Unauthorized().body("unknown user\n"));
    };
    // A new session id, so an id planted before login is worthless; the data (the cart)
    // moves along, and the session is listed among the user's sessions.
    auth.session().sign_in(name)?;
    if options.remember {
        // Its own TTL makes this session's cookie persistent; others stay browser-session.
        auth.session().set_ttl(Duration::from_secs(30 * 24 * 3600));
    }
    auth.save(&Login {
        user_id,
        name: name.to_owned(),
    })?;
    flash.success(format!("welcome, {name}"))?;
    Ok(HttpResponse::Ok().body(format!("welcome, {name}\n")))
}

/// The flash messages queued for this visitor, each shown once.
#[get("/messages")]
async fn messages(flash: Flash) -> Reply {
    let shown: Vec<FlashMessage> = flash.take()?;
    let lines: String = shown
        .iter()
        .map(|m| format!("{:?}: {}\n", m.level, m.message))
        .collect();
    Ok(HttpResponse::Ok().body(lines))
}

/// Every device the user is signed in on.
#[get("/sessions")]
async fn sessions(session: Session) -> Result<HttpResponse, UserSessionsError> {
    let secs =
        |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let lines: String = session
        .user_sessions()
        .await?
        .iter()
        .map(|s| {
            // A prefix only: the id is a credential.
            let this = if s.current { " (this one)" } else { "" };
            let id = s.id.as_str().get(..6).unwrap_or_default();
            let (since, used) = (secs(s.signed_in), secs(s.last_used));
            format!("{id}… signed in at {since}, last used at {used}{this}\n")
        })
        .collect();
    Ok(HttpResponse::Ok().body(lines))
}

/// "Log out everywhere", e.g. after a password change: this device included.
#[post("/logout-everywhere")]
async fn log_out_everywhere(session: Session) -> Result<HttpResponse, UserSessionsError> {
    let ended = session.sign_out_everywhere().await?;
    Ok(HttpResponse::Ok().body(format!("ended {ended} session(s)\n")))
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
async fn checkout(auth: LoginSession, cart: CartSession, flash: Flash) -> Reply {
    let Some(user) = auth.load()? else {
        return Ok(HttpResponse::Unauthorized().body("log in first\n"));
    };
    let items = cart.items()?;
    if items.is_empty() {
        return Ok(HttpResponse::BadRequest().body("the cart is empty\n"));
    }
    cart.remove_all()?;
    flash.info("thank you for your order")?;
    Ok(HttpResponse::Ok().body(format!("{} ordered {} item(s)\n", user.name, items.len())))
}

#[post("/logout")]
async fn log_out(auth: LoginSession) -> HttpResponse {
    // Deletes the whole session (cart included) and its cookie.
    auth.session().sign_out();
    HttpResponse::Ok().body("bye\n")
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(log_in)
        .service(me)
        .service(add_item)
        .service(apply_coupon)
        .service(show_cart)
        .service(checkout)
        .service(log_out)
        .service(messages)
        .service(sessions)
        .service(log_out_everywhere);
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
    use actix_typed_session::{store::MemoryStore, SessionMiddleware};
    use actix_web::{cookie::Cookie, http::StatusCode, test, App};

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
        assert_eq!(call!(post, "/login/ada?remember=true").1, "welcome, ada\n");
        assert_ne!(jar, before_login, "login renews the session id");
        let remembered = jar
            .as_ref()
            .and_then(|c| c.max_age())
            .map(|a| a.whole_days());
        assert_eq!(remembered, Some(30), "remember me: a persistent cookie");
        assert_eq!(call!(get, "/messages").1, "Success: welcome, ada\n");
        assert_eq!(
            call!(get, "/messages").1,
            "",
            "flash messages are shown once"
        );
        assert_eq!(call!(get, "/me").1, "ada (#1)\n");
        call!(post, "/coupon/SPRING");
        assert_eq!(call!(get, "/cart").1, "ada: items [7, 9], coupon SPRING\n");
        assert_eq!(call!(post, "/checkout").1, "ada ordered 2 item(s)\n");
        assert_eq!(call!(get, "/cart").1, "ada: items [], coupon none\n");
        assert_eq!(
            call!(get, "/messages").1,
            "Info: thank you for your order\n"
        );
        let listed = call!(get, "/sessions").1;
        assert!(
            listed.ends_with("(this one)\n") && listed.lines().count() == 1,
            "{listed}"
        );
        assert_eq!(call!(post, "/logout").1, "bye\n");
        assert_eq!(jar, None, "logout removes the cookie");
        assert_eq!(call!(get, "/me").0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            jar, None,
            "a logged-out visitor gets no new session by reading"
        );
    }

    /// Two devices signed in as ada: either sees both, and "log out everywhere" ends both.
    #[actix_web::test]
    async fn log_out_everywhere_ends_every_device() {
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(MemoryStore::new(), Key::generate()))
                .configure(routes),
        )
        .await;
        let call = |method: test::TestRequest, cookie: Option<&Cookie<'static>>| {
            let req = match cookie {
                Some(c) => method.cookie(c.clone()),
                None => method,
            };
            test::call_service(&app, req.to_request())
        };
        let login = || call(test::TestRequest::post().uri("/login/ada"), None);
        let laptop = login()
            .await
            .response()
            .cookies()
            .next()
            .unwrap()
            .into_owned();
        let phone = login()
            .await
            .response()
            .cookies()
            .next()
            .unwrap()
            .into_owned();
        let res = call(test::TestRequest::get().uri("/sessions"), Some(&phone)).await;
        let listed = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert_eq!(listed.lines().count(), 2, "{listed}");
        let res = call(
            test::TestRequest::post().uri("/logout-everywhere"),
            Some(&laptop),
        )
        .await;
        assert_eq!(test::read_body(res).await, "ended 2 session(s)\n");
        let res = call(test::TestRequest::get().uri("/me"), Some(&phone)).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "the phone is signed out too"
        );
    }
}
