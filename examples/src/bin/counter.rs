//! The quick start: a visit counter kept in the (default) memory store; the README's quick start
//! is this file, line for line (`examples/tests/counter.rs` checks it).
//!
//! `cargo run -p examples --bin counter`, then open the printed URL and reload.

use actix_typed_session::{key_from_env, store::MemoryStore, Session, SessionMiddleware};
use actix_web::{cookie::Key, get, App, HttpServer, Responder};

#[get("/")]
async fn index(session: Session) -> actix_web::Result<impl Responder> {
    let visits: u64 = session.update_or("visits", 1, |n| n + 1)?;
    Ok(format!("You have visited this page {visits} time(s).\n"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // 64 secret random bytes, base64 or hex (`openssl rand -base64 64`). A new key signs
    // everyone out, so production apps must set one; this demo falls back to a key per run.
    let key = key_from_env("SESSION_KEY").unwrap_or_else(|err| {
        eprintln!("{err}; using a random key for this run");
        Key::generate()
    });
    // One store for the whole server: built outside the closure, which runs once per worker.
    let store = MemoryStore::new();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    // Browsers drop `Secure` cookies sent over plain HTTP (localhost aside):
                    // this demo serves plain HTTP. Keep the default (on) behind HTTPS.
                    .cookie_secure(false)
                    .build(),
            )
            .service(index)
    })
    .bind(("127.0.0.1", port))?;
    println!("counter listening on http://127.0.0.1:{port}/ (reload to count; Ctrl-C to stop)");
    server.run().await
}
