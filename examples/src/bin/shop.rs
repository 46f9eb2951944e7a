//! A small shop, server-rendered HTML with plain forms and links (no JavaScript): a typed user
//! id read back with the `SignedIn` extractor, a typed session for the cart, sign-in that
//! renews the id (and starts clean when another user signs in), "remember me", flash messages,
//! the user's sessions with "log out everywhere", and sign-out. Every form carries a CSRF token
//! (the sign-in form too: a forged sign-in would put the victim in the attacker's account).
//!
//! `cargo run -p examples --bin shop`, then open <http://127.0.0.1:8080/> and sign in as `ada`
//! or `grace`. Options (or the environment variables `PORT` and `STORE`):
//! - `--port N`: listen on 127.0.0.1:N (default 8080);
//! - `--store cookie`: keep each session encrypted in its browser's cookie instead of in
//!   memory; a session that outgrows the 4096-byte cookie (write a long note on the cart) is an
//!   error page, never a cookie the browser silently drops.
//!
//! With the cargo feature `metrics` (on by default) it serves `/metrics` too: the session
//! library's metrics in the Prometheus text format (docs/operating.md).
//!
//! The browser suite (`examples/tests/browser.rs`) drives this app in headless Chromium.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

#[cfg(feature = "metrics")]
#[path = "../metrics.rs"]
mod metrics;

use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    Csrf, CsrfToken, Flash, FlashLevel, FlashMessage, SaveError, Session, SessionData,
    SessionHandle, SessionMiddleware, SessionStorage, SignedIn, SignedInConfig, UserSessionsError,
};
use actix_web::{
    body::EitherBody,
    cookie::Key,
    dev::ServiceResponse,
    get,
    http::StatusCode,
    middleware::{ErrorHandlerResponse, ErrorHandlers},
    post, web, App, HttpResponse, HttpServer,
};
use serde::{Deserialize, Serialize};

/// An account's id: what `sign_in` binds to the session, the one record of who is signed in.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
struct UserId(u64);

/// What the visitor is about to buy; guests have one too.
#[derive(SessionData)]
#[session(prefix = "cart")]
struct Cart {
    /// Product ids, in the order they were added.
    #[session(default)]
    items: Vec<u32>,
    /// A discount code, if one was entered.
    coupon: Option<String>,
    /// A note for the order: free text, so the way to grow a cookie-store session past 4 KiB.
    note: Option<String>,
}

/// The demo's accounts; a real app checks a password here.
const USERS: &[(&str, UserId)] = &[("ada", UserId(1)), ("grace", UserId(2))];

/// Each account's credential version: a sign-in is bound to it, and changing it signs out
/// every session of the account, on any store (the middleware's `credential_epoch`). "Log out
/// everywhere" bumps it; a real app would also bump it (or derive it from the password hash) on
/// a password change, and keep it in its users table.
#[derive(Clone, Default)]
struct Versions(Arc<Mutex<HashMap<u64, u64>>>);

impl Versions {
    /// The account's current version; `None` for an id that is no account.
    fn current(&self, user: UserId) -> Option<u64> {
        let known = USERS.iter().any(|(_, id)| *id == user);
        known.then(|| self.0.lock().unwrap().get(&user.0).copied().unwrap_or(0))
    }

    fn bump(&self, user: UserId) {
        *self.0.lock().unwrap().entry(user.0).or_insert(0) += 1;
    }
}

/// The name shown on pages for an account.
fn name_of(user: UserId) -> &'static str {
    USERS
        .iter()
        .find(|(_, id)| *id == user)
        .map_or("?", |(name, _)| name)
}

/// Who is signed in, on a page anyone may see: every session extractor loads the user too.
fn visitor(cart: &CartSession) -> actix_web::Result<Option<UserId>> {
    Ok(cart.session().user_as::<UserId>()?)
}

/// The catalogue: id, name, price in cents.
const PRODUCTS: &[(u32, &str, u32)] = &[
    (1, "Green tea", 450),
    (2, "Coffee beans", 1290),
    (3, "Mug", 800),
    (4, "Teapot", 2900),
];

/// How long "remember me" keeps a visitor signed in, across browser restarts.
const REMEMBER: Duration = Duration::from_secs(30 * 24 * 3600);

type Reply = actix_web::Result<HttpResponse>;

/// Text made safe to put inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn price(cents: u32) -> String {
    format!("€{}.{:02}", cents / 100, cents % 100)
}

fn product(id: u32) -> Option<(u32, &'static str, u32)> {
    PRODUCTS.iter().copied().find(|p| p.0 == id)
}

const STYLE: &str = "body{font-family:sans-serif;max-width:42rem;margin:2rem auto;color:#222}\
nav{display:flex;gap:1rem;align-items:center;border-bottom:1px solid #ccc;padding-bottom:.5rem}\
form{margin:1rem 0}nav form{margin:0 0 0 auto}table{border-collapse:collapse;width:100%}\
td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee}textarea{width:100%;box-sizing:border-box}\
.flash{padding:.5rem 1rem;border-radius:4px}.success{background:#dfd}.info{background:#def}\
.warning{background:#ffd}.error{background:#fdd}button{cursor:pointer;padding:.2rem .8rem}";

/// A whole HTML document.
fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · shop</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

fn html(status: StatusCode, document: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(document)
}

/// After a form: 303 to a page (Post/Redirect/Get, so a reload does not post again).
fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

/// A page of the shop: the navigation (who is signed in, the cart's size), the flash messages
/// queued for this visitor (each shown once: taking them empties the queue), then `main`.
fn page(cart: &CartSession, flash: &Flash, csrf: &CsrfToken, title: &str, main: &str) -> Reply {
    let account = match visitor(cart)? {
        Some(user) => format!(
            "<a href=\"/sessions\">Your sessions</a><form method=\"post\" action=\"/logout\">\
             {}Signed in as <b id=\"user\">{}</b> <button>Sign out</button></form>",
            csrf.hidden_input(),
            escape(name_of(user))
        ),
        None => "<a id=\"sign-in\" href=\"/login\">Sign in</a>".to_owned(),
    };
    let flashes: String = flash
        .take::<String>()?
        .iter()
        .map(|FlashMessage { level, message }| {
            let level = match level {
                FlashLevel::Success => "success",
                FlashLevel::Warning => "warning",
                FlashLevel::Error => "error",
                _ => "info",
            };
            format!("<p class=\"flash {level}\">{}</p>", escape(message))
        })
        .collect();
    let body = format!(
        "<nav><a href=\"/\">Shop</a><a href=\"/cart\">Cart (<span id=\"count\">{}</span>)</a>\
         {account}</nav>{flashes}<h1>{}</h1>{main}",
        cart.items()?.len(),
        escape(title)
    );
    Ok(html(StatusCode::OK, document(title, &body)))
}

#[get("/")]
async fn shop(cart: CartSession, flash: Flash, csrf: CsrfToken) -> Reply {
    let rows: String = PRODUCTS
        .iter()
        .map(|&(id, name, cents)| {
            format!(
                "<tr><td>{name}</td><td>{}</td><td><form method=\"post\" action=\"/cart/add\">\
                 {}<input type=\"hidden\" name=\"item\" value=\"{id}\">\
                 <button id=\"add-{id}\">Add to cart</button></form></td></tr>",
                price(cents),
                csrf.hidden_input()
            )
        })
        .collect();
    page(
        &cart,
        &flash,
        &csrf,
        "Shop",
        &format!("<table>{rows}</table>"),
    )
}

#[get("/cart")]
async fn show_cart(cart: CartSession, flash: Flash, csrf: CsrfToken) -> Reply {
    let items: Vec<_> = cart.items()?.into_iter().filter_map(product).collect();
    let rows: String = items
        .iter()
        .map(|(_, name, cents)| format!("<tr><td>{name}</td><td>{}</td></tr>", price(*cents)))
        .collect();
    let total = price(items.iter().map(|p| p.2).sum());
    let coupon = cart.coupon()?.map(|c| escape(&c)).unwrap_or_default();
    let note = cart.note()?.map(|n| escape(&n)).unwrap_or_default();
    let checkout_form = if visitor(&cart)?.is_some() {
        format!(
            "<form method=\"post\" action=\"/checkout\">{}\
             <button id=\"checkout\">Check out</button></form>",
            csrf.hidden_input()
        )
    } else {
        "<p><a href=\"/login\">Sign in</a> to check out.</p>".to_owned()
    };
    let (coupon_token, note_token) = (csrf.hidden_input(), csrf.hidden_input());
    let main = format!(
        "<table id=\"items\">{rows}<tr><th>Total</th><th>{total}</th></tr></table>\
         <form method=\"post\" action=\"/cart/coupon\">{coupon_token}<label>Coupon \
         <input name=\"code\" value=\"{coupon}\"></label> <button>Apply</button></form>\
         <form method=\"post\" action=\"/cart/note\">{note_token}<p><label>Note for the order<br>\
         <textarea id=\"note\" name=\"note\" rows=\"3\" cols=\"50\">{note}</textarea></label></p>\
         <button id=\"save-note\">Save note</button></form>{checkout_form}"
    );
    page(&cart, &flash, &csrf, "Your cart", &main)
}

#[derive(Deserialize)]
struct AddItem {
    item: u32,
}

#[post("/cart/add")]
async fn add_item(cart: CartSession, flash: Flash, form: web::Form<AddItem>) -> Reply {
    let Some((id, name, _)) = product(form.item) else {
        return Ok(HttpResponse::BadRequest().body("no such product\n"));
    };
    cart.update_items(|mut items| {
        items.push(id);
        items
    })?;
    flash.success(format!("{name} is in your cart."))?;
    Ok(see_other("/"))
}

#[derive(Deserialize)]
struct Coupon {
    code: String,
}

#[post("/cart/coupon")]
async fn apply_coupon(cart: CartSession, form: web::Form<Coupon>) -> Reply {
    let code = form.into_inner().code;
    cart.set_coupon((!code.is_empty()).then_some(code))?;
    Ok(see_other("/cart"))
}

#[derive(Deserialize)]
struct Note {
    note: String,
}

#[post("/cart/note")]
async fn save_note(cart: CartSession, flash: Flash, form: web::Form<Note>) -> Reply {
    let note = form.into_inner().note;
    cart.set_note((!note.is_empty()).then_some(note))?;
    flash.info("Note saved.")?;
    Ok(see_other("/cart"))
}

#[post("/checkout")]
async fn checkout(cart: CartSession, flash: Flash) -> Reply {
    let Some(user) = visitor(&cart)? else {
        flash.warning("Sign in to check out.")?;
        return Ok(see_other("/login"));
    };
    let count = cart.items()?.len();
    if count == 0 {
        flash.warning("Your cart is empty.")?;
        return Ok(see_other("/cart"));
    }
    cart.remove_all()?;
    flash.success(format!(
        "Thank you, {} (#{}): {count} item(s) ordered.",
        name_of(user),
        user.0
    ))?;
    Ok(see_other("/"))
}

#[get("/login")]
async fn login_form(cart: CartSession, flash: Flash, csrf: CsrfToken) -> Reply {
    let main = format!(
        "<form method=\"post\" action=\"/login\">{}\
         <p><label>Name <input id=\"name\" name=\"name\" autofocus></label> (ada or grace)</p>\
         <p><label><input id=\"remember\" type=\"checkbox\" name=\"remember\" value=\"on\"> \
         Remember me for 30 days</label></p><button id=\"log-in\">Sign in</button></form>",
        csrf.hidden_input()
    );
    page(&cart, &flash, &csrf, "Sign in", &main)
}

/// The sign-in form; `remember` is present only when the box is ticked.
#[derive(Deserialize)]
struct SignIn {
    name: String,
    remember: Option<String>,
}

#[post("/login")]
async fn log_in(session: Session, flash: Flash, form: web::Form<SignIn>) -> Reply {
    let Some(&(name, user)) = USERS.iter().find(|(n, _)| *n == form.name) else {
        flash.error("Unknown user: try ada or grace.")?;
        return Ok(see_other("/login"));
    };
    // A new session id, so an id planted before sign-in is worthless, and the session is
    // listed among the user's sessions. A guest's cart (or the user's own) moves along;
    // another user's session starts clean: no cart, no "remember me".
    session.sign_in(user)?;
    if form.remember.is_some() {
        // After the sign-in, which may start a clean session. Its own TTL makes this
        // session's cookie persistent; others stay browser-session.
        session.set_ttl(REMEMBER);
    }
    flash.success(format!("Welcome, {name}!"))?;
    Ok(see_other("/"))
}

#[post("/logout")]
async fn log_out(session: Session) -> HttpResponse {
    // Deletes the whole session (cart included) and its cookie.
    session.sign_out();
    see_other("/")
}

/// "5 min ago": enough precision for a list of devices.
fn ago(then: SystemTime) -> String {
    let secs = SystemTime::now()
        .duration_since(then)
        .unwrap_or_default()
        .as_secs();
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}

/// Every browser the user is signed in on, and a button to end them all. Anonymous visitors
/// are sent to the sign-in page by the `SignedIn` extractor.
#[get("/sessions")]
async fn sessions(_: SignedIn<UserId>, cart: CartSession, flash: Flash, csrf: CsrfToken) -> Reply {
    let main = match cart.session().user_sessions().await {
        Ok(rows) => {
            let rows: String = rows
                .iter()
                .map(|s| {
                    // The row's handle, never the session id (a credential).
                    let handle = s.handle.as_str();
                    let device = escape(s.user_agent.as_deref().unwrap_or("unknown browser"));
                    let from = escape(s.ip.as_deref().unwrap_or("?"));
                    let end = if s.current {
                        "this browser".to_owned()
                    } else {
                        format!(
                            "<form method=\"post\" action=\"/sessions/end\">{}<input \
                             type=\"hidden\" name=\"handle\" value=\"{handle}\"><button \
                             class=\"end\">End</button></form>",
                            csrf.hidden_input()
                        )
                    };
                    format!(
                        "<tr><td><code>{}</code> {device}</td><td>{from}</td><td>{}</td>\
                         <td>{}</td><td>{end}</td></tr>",
                        &handle[..6],
                        ago(s.signed_in),
                        ago(s.last_used)
                    )
                })
                .collect();
            format!(
                "<table id=\"sessions\"><tr><th>Device</th><th>From</th><th>Signed in</th>\
                 <th>Last used</th><th></th></tr>{rows}</table><form method=\"post\" \
                 action=\"/logout-everywhere\">{}<p><button id=\"everywhere\">Log out \
                 everywhere</button></p></form>",
                csrf.hidden_input()
            )
        }
        Err(UserSessionsError::Unsupported(_)) => format!(
            "<p>This app keeps sessions in cookies, so there is no list of them on the server \
             (run it on the memory store). Logging out everywhere still works: it changes your \
             credential version, which every other browser's cookie was signed in under.</p>\
             <form method=\"post\" action=\"/logout-everywhere\">{}<p><button \
             id=\"everywhere\">Log out everywhere</button></p></form>",
            csrf.hidden_input()
        ),
        Err(err) => return Err(err.into()),
    };
    page(&cart, &flash, &csrf, "Your sessions", &main)
}

/// The form of one row of `/sessions`: the row's handle.
#[derive(Deserialize)]
struct EndOne {
    handle: SessionHandle,
}

/// Ends one of the user's other sessions (the "End" button of its row).
#[post("/sessions/end")]
async fn end_one(
    _: SignedIn<UserId>,
    session: Session,
    flash: Flash,
    form: web::Form<EndOne>,
) -> Reply {
    if session.end_user_session(&form.handle).await? {
        flash.success("That session has been signed out.")?;
    }
    Ok(see_other("/sessions"))
}

/// "Log out everywhere", e.g. after a password change: this browser included. A new credential
/// version signs out every session of the user at its next request, cookies included; on the
/// memory store the sessions are also deleted now.
#[post("/logout-everywhere")]
async fn log_out_everywhere(
    user: SignedIn<UserId>,
    session: Session,
    versions: web::Data<Versions>,
) -> Reply {
    versions.bump(user.0);
    match session.sign_out_everywhere().await {
        Ok(_) => {}
        // The cookie store keeps no list: the new version did the work.
        Err(UserSessionsError::Unsupported(_)) => session.sign_out(),
        Err(err) => return Err(err.into()),
    }
    Ok(see_other("/"))
}

fn routes(cfg: &mut web::ServiceConfig) {
    // Pages that need a user send anonymous visitors to the sign-in form (not a bare 401).
    cfg.app_data(SignedInConfig::redirect_to("/login"))
        .service(shop)
        .service(show_cart)
        .service(add_item)
        .service(apply_coupon)
        .service(save_note)
        .service(checkout)
        .service(login_form)
        .service(log_in)
        .service(log_out)
        .service(sessions)
        .service(end_one)
        .service(log_out_everywhere);
}

/// A 500 whose cause is a session too large for its cookie becomes a page saying so; the
/// browser keeps its previous cookie (none was sent), so the previous session still works.
fn explain_500<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let too_large = res
        .response()
        .error()
        .and_then(|e| e.as_error::<SaveError>())
        .and_then(|e| match e {
            SaveError::CookieTooLarge { size, limit } => Some((*size, *limit)),
            _ => None,
        });
    let Some((size, limit)) = too_large else {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    };
    let body = format!(
        "<h1>Your session is too large</h1><p class=\"flash error\" id=\"too-large\">It would \
         need a {size}-byte cookie, over the browsers' limit of {limit} bytes, so this change \
         was not saved. Your previous session is unchanged.</p><p><a href=\"/cart\">Back to \
         your cart</a></p>"
    );
    let (req, _) = res.into_parts();
    let page = html(StatusCode::INTERNAL_SERVER_ERROR, document("Error", &body));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, page).map_into_right_body(),
    ))
}

/// The app, on any store: what `main` serves and the unit tests call.
fn app(
    storage: SessionStorage,
    key: Key,
    versions: Versions,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<EitherBody<impl actix_web::body::MessageBody>>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        // Inside the session middleware: every POST needs a token of its session and must
        // come from the shop's own origin.
        .wrap(Csrf::new())
        // Plain HTTP on localhost, so no `Secure`; keep the default (on) behind HTTPS.
        .wrap(
            SessionMiddleware::builder(storage, key)
                .cookie_secure(false)
                .credential_epoch({
                    let versions = versions.clone();
                    move |user: String| {
                        let version = user
                            .parse()
                            .ok()
                            .and_then(|id| versions.current(UserId(id)))
                            .map(|v| v.to_string());
                        async move { Ok::<_, std::convert::Infallible>(version) }
                    }
                })
                .build(),
        )
        .app_data(web::Data::new(versions))
        // Outside the session middleware, so it sees the 500 of a failed save.
        .wrap(ErrorHandlers::new().handler(StatusCode::INTERNAL_SERVER_ERROR, explain_500))
        .configure(routes)
}

/// `--name value` from the command line, else the environment variable `env`.
fn option(name: &str, env: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != name).skip(1);
    args.next().or_else(|| std::env::var(env).ok())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let usage = |problem: String| -> ! {
        eprintln!("{problem}\nusage: shop [--port N] [--store memory|cookie]");
        std::process::exit(2)
    };
    let port: u16 = match option("--port", "PORT") {
        Some(port) => port
            .parse()
            .unwrap_or_else(|_| usage(format!("not a port: {port}"))),
        None => 8080,
    };
    let store = option("--store", "STORE").unwrap_or_else(|| "memory".to_owned());
    let memory = match store.as_str() {
        "memory" => Some(MemoryStore::new()),
        "cookie" => None,
        other => usage(format!("unknown store: {other}")),
    };
    let key = Key::generate(); // production apps load a fixed key from their secrets
    let versions = Versions::default(); // one for every worker
    #[cfg(feature = "metrics")]
    let exporter = metrics::install().map_err(std::io::Error::other)?;
    let server = HttpServer::new(move || {
        let storage = match &memory {
            // One memory store shared by every worker.
            Some(memory) => memory.clone().into(),
            None => CookieStore::encrypted().into(),
        };
        app(storage, key.clone(), versions.clone()).configure(|cfg| {
            #[cfg(feature = "metrics")]
            metrics::routes(exporter.clone())(cfg);
            #[cfg(not(feature = "metrics"))]
            let _ = cfg;
        })
    })
    .bind(("127.0.0.1", port))?;
    println!("shop listening on http://127.0.0.1:{port}/ (store: {store}; Ctrl-C to stop)");
    server.run().await
}

#[cfg(test)]
mod tests {
    use actix_web::{cookie::Cookie, test as web_test};

    use super::*;

    /// An app under test and the cookie jar of one browser: `send` carries the session
    /// cookie and keeps what the response sets, and the CSRF token of the last page that had
    /// one, which `post` sends as a form of that page would.
    struct Browser {
        jar: Option<Cookie<'static>>,
        token: Option<String>,
    }

    impl Browser {
        fn new() -> Self {
            Self {
                jar: None,
                token: None,
            }
        }

        async fn post<S, B>(
            &mut self,
            app: &S,
            uri: &str,
            fields: &[(&str, &str)],
        ) -> (StatusCode, String)
        where
            S: actix_web::dev::Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: actix_web::body::MessageBody,
        {
            let mut fields = fields.to_vec();
            let token = self.token.clone();
            if let Some(token) = &token {
                fields.push(("csrf_token", token));
            }
            self.send(app, form(uri, &fields)).await
        }

        async fn send<S, B>(&mut self, app: &S, req: web_test::TestRequest) -> (StatusCode, String)
        where
            S: actix_web::dev::Service<
                actix_http::Request,
                Response = ServiceResponse<B>,
                Error = actix_web::Error,
            >,
            B: actix_web::body::MessageBody,
        {
            let req = match &self.jar {
                Some(cookie) => req.cookie(cookie.clone()),
                None => req,
            };
            let res = web_test::call_service(app, req.to_request()).await;
            if let Some(cookie) = res.response().cookies().find(|c| c.name() == "session") {
                self.jar = (!cookie.value().is_empty()).then(|| cookie.into_owned());
            }
            let status = res.status();
            let body = String::from_utf8(web_test::read_body(res).await.to_vec()).unwrap();
            let field = "name=\"csrf_token\" value=\"";
            if let Some(at) = body.find(field) {
                let value = &body[at + field.len()..];
                self.token = value.split('"').next().map(str::to_owned);
            }
            (status, body)
        }
    }

    fn get(uri: &str) -> web_test::TestRequest {
        web_test::TestRequest::get().uri(uri)
    }

    fn form(uri: &str, fields: &[(&str, &str)]) -> web_test::TestRequest {
        web_test::TestRequest::post().uri(uri).set_form(fields)
    }

    #[test]
    fn escape_makes_text_inert() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    /// Walks the whole flow as a browser would, carrying the session cookie.
    #[actix_web::test]
    async fn guest_cart_survives_sign_in_and_checkout_needs_it() {
        let app = web_test::init_service(app(
            MemoryStore::new().into(),
            Key::generate(),
            Versions::default(),
        ))
        .await;
        let mut b = Browser::new();
        b.send(&app, get("/")).await;
        let (status, _) = b.post(&app, "/checkout", &[]).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "checkout sends guests to sign in"
        );
        assert!(b
            .send(&app, get("/login"))
            .await
            .1
            .contains("Sign in to check out."));
        b.post(&app, "/cart/add", &[("item", "1")]).await;
        b.post(&app, "/cart/add", &[("item", "4")]).await;
        let before = b.jar.clone();
        b.post(&app, "/login", &[("name", "nobody")]).await;
        assert!(b.send(&app, get("/login")).await.1.contains("Unknown user"));
        b.post(&app, "/login", &[("name", "ada"), ("remember", "on")])
            .await;
        assert_ne!(b.jar, before, "sign-in renews the session id");
        let remembered = b
            .jar
            .as_ref()
            .and_then(|c| c.max_age())
            .map(|a| a.whole_days());
        assert_eq!(remembered, Some(30), "remember me: a persistent cookie");
        let home = b.send(&app, get("/")).await.1;
        assert!(home.contains("Welcome, ada!") && home.contains("<b id=\"user\">ada</b>"));
        assert!(
            !b.send(&app, get("/")).await.1.contains("Welcome"),
            "shown once"
        );
        b.post(&app, "/cart/note", &[("note", "<b>ring twice</b>")])
            .await;
        let cart = b.send(&app, get("/cart")).await.1;
        assert!(cart.contains("Green tea") && cart.contains("Teapot") && cart.contains("€33.50"));
        assert!(
            cart.contains("&lt;b&gt;ring twice&lt;/b&gt;"),
            "escaped: {cart}"
        );
        b.post(&app, "/checkout", &[]).await;
        let home = b.send(&app, get("/")).await.1;
        assert!(
            home.contains("Thank you, ada (#1): 2 item(s) ordered."),
            "{home}"
        );
        assert!(home.contains("Cart (<span id=\"count\">0</span>)"));
        let listed = b.send(&app, get("/sessions")).await.1;
        assert_eq!(listed.matches("<tr><td><code>").count(), 1, "{listed}");
        assert!(listed.contains("this browser"));
        let signed_in = b.jar.clone();
        b.post(&app, "/logout", &[]).await;
        assert_eq!(b.jar, None, "sign-out removes the cookie");
        assert!(b.send(&app, get("/")).await.1.contains("id=\"sign-in\""));
        assert!(
            b.jar.is_some() && b.jar != signed_in,
            "the shop's forms give a signed-out visitor a fresh session for their CSRF token"
        );
    }

    /// Two browsers signed in as ada (and one as grace): on the memory store either lists
    /// both, and on both stores "log out everywhere" signs out both of ada's, not grace's.
    #[actix_web::test]
    async fn log_out_everywhere_ends_every_browser() {
        for storage in [
            SessionStorage::from(MemoryStore::new()),
            CookieStore::encrypted().into(),
        ] {
            let app =
                web_test::init_service(app(storage, Key::generate(), Versions::default())).await;
            let (mut laptop, mut phone, mut grace) =
                (Browser::new(), Browser::new(), Browser::new());
            for (b, name) in [
                (&mut laptop, "ada"),
                (&mut phone, "ada"),
                (&mut grace, "grace"),
            ] {
                b.send(&app, get("/login")).await;
                b.post(&app, "/login", &[("name", name)]).await;
                assert_eq!(
                    b.jar.as_ref().and_then(|c| c.max_age()),
                    None,
                    "browser-session"
                );
            }
            let listed = phone.send(&app, get("/sessions")).await.1;
            let rows = listed.matches("<tr><td><code>").count();
            assert!(
                rows == 2 || listed.contains("keeps sessions in cookies"),
                "{listed}"
            );
            laptop.send(&app, get("/sessions")).await;
            laptop.post(&app, "/logout-everywhere", &[]).await;
            let (status, _) = phone.send(&app, get("/sessions")).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "the phone is signed out too");
            let (status, _) = grace.send(&app, get("/sessions")).await;
            assert_eq!(status, StatusCode::OK, "grace is not");
        }
    }

    /// The "End" button of a row signs out that browser only, by the row's handle; the page
    /// shows each browser's user agent and never a session id.
    #[actix_web::test]
    async fn ending_one_row_signs_out_that_browser_only() {
        let app = web_test::init_service(app(
            MemoryStore::new().into(),
            Key::generate(),
            Versions::default(),
        ))
        .await;
        let (mut laptop, mut phone) = (Browser::new(), Browser::new());
        for (b, agent) in [(&mut laptop, "Laptop/1"), (&mut phone, "Phone/2")] {
            b.send(&app, get("/login")).await;
            let form = form(
                "/login",
                &[("name", "ada"), ("csrf_token", b.token.as_deref().unwrap())],
            );
            b.send(&app, form.insert_header(("user-agent", agent)))
                .await;
        }
        let listed = laptop.send(&app, get("/sessions")).await.1;
        assert!(
            listed.contains("Laptop/1") && listed.contains("Phone/2"),
            "{listed}"
        );
        let phone_id = phone
            .jar
            .as_ref()
            .unwrap()
            .value()
            .split('.')
            .next()
            .unwrap()
            .to_owned();
        assert!(!listed.contains(&phone_id), "no session id on the page");
        let field = "name=\"handle\" value=\"";
        let at = listed
            .find(field)
            .expect("the phone's row has an End button")
            + field.len();
        let handle = listed[at..].split('"').next().unwrap().to_owned();
        laptop
            .post(&app, "/sessions/end", &[("handle", &handle)])
            .await;
        let (status, page) = laptop.send(&app, get("/sessions")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("signed out") && !page.contains("Phone/2"),
            "{page}"
        );
        let (status, _) = phone.send(&app, get("/sessions")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "the phone is signed out");
    }

    /// On the cookie store a session over 4 KiB is a page that says so, and the previous
    /// cookie (still the browser's) keeps working.
    #[actix_web::test]
    async fn cookie_store_oversize_is_an_error_page() {
        let app = web_test::init_service(app(
            CookieStore::encrypted().into(),
            Key::generate(),
            Versions::default(),
        ))
        .await;
        let mut b = Browser::new();
        b.send(&app, get("/")).await;
        b.post(&app, "/cart/add", &[("item", "2")]).await;
        let note = "x".repeat(5000);
        let (status, page) = b.post(&app, "/cart/note", &[("note", &note)]).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(page.contains("Your session is too large"), "{page}");
        let cart = b.send(&app, get("/cart")).await.1;
        assert!(
            cart.contains("Coffee beans") && !cart.contains("xxxx"),
            "{cart}"
        );
        let listed = b.send(&app, get("/sessions")).await;
        assert_eq!(listed.0, StatusCode::SEE_OTHER, "not signed in");
    }

    /// Every form needs the token of its session; the sign-in form too.
    #[actix_web::test]
    async fn forms_without_the_sessions_token_are_refused() {
        let app = web_test::init_service(app(
            MemoryStore::new().into(),
            Key::generate(),
            Versions::default(),
        ))
        .await;
        let mut b = Browser::new();
        let (status, _) = b.post(&app, "/login", &[("name", "ada")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "no token");
        let mut attacker = Browser::new();
        attacker.send(&app, get("/login")).await;
        b.token = attacker.token.clone();
        b.send(&app, get("/")).await;
        b.token = attacker.token.clone();
        let (status, _) = b.post(&app, "/cart/add", &[("item", "1")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "another session's token");
        let home = b.send(&app, get("/")).await.1;
        assert!(
            home.contains("Cart (<span id=\"count\">0</span>)"),
            "{home}"
        );
        let (status, _) = b.post(&app, "/cart/add", &[("item", "1")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "its own token");
    }
}
