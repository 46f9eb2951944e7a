//! The quick start: a visit counter kept in the (default) memory store.
//!
//! `cargo run -p examples --bin counter`, then open the printed URL and reload.

use actix_typed_session::{store::MemoryStore, Session, SessionMiddleware};
use actix_web::{cookie::Key, get, App, HttpServer, Responder};

#[get("/")]
async fn index(session: Session) -> actix_web::Result<impl Responder> {
    let visits: u64 = session.update_or("visits", 1, |n| n + 1)?;
    Ok(format!("You have visited this page {visits} time(s).\n"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080);
    // A new key per run: fine for a demo whose sessions live in memory anyway. Production apps
    // load a fixed 64-byte key from their secrets so sessions survive restarts.
    let key = Key::generate();
    let store = MemoryStore::new();
    let server = HttpServer::new(move || {
        App::new()
            // Plain HTTP on localhost, so no `Secure`; keep the default (on) behind HTTPS.
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            .service(index)
    })
    .bind(("127.0.0.1", port))?;
    println!("counter listening on http://127.0.0.1:{port}/ (reload to count; Ctrl-C to stop)");
    server.run().await
}
