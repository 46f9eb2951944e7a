//! The cookie store: authenticity, server-enforced expiry, key rotation, and honest size errors.

mod support;

use std::time::Duration;

use actix_typed_session::testing::serve;
use actix_typed_session::{
    store::{CookieStore, MAX_COOKIE_BYTES},
    testing::{self, body, get, set_cookie},
    Clock, SaveError, Session, SessionMiddleware, TtlRefresh,
};
use actix_web::{
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{Service, ServiceResponse},
    http::{header::SET_COOKIE, StatusCode},
    web, HttpResponse,
};
use support::Logs;

type Reply = actix_web::Result<HttpResponse>;

/// The suite's routes plus fillers of chosen sizes in bytes (`/fill/{kib}` is in KiB).
fn routes(cfg: &mut web::ServiceConfig) {
    async fn fill(s: Session, len: web::Path<usize>) -> Reply {
        s.insert("blob", "x".repeat(*len))?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn noise(s: Session, len: web::Path<usize>) -> Reply {
        // Deterministic, incompressible letters.
        let mut x: u32 = 0x9e37_79b9;
        let noise: String = (0..*len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect();
        s.insert("blob", noise)?;
        Ok(HttpResponse::Ok().finish())
    }
    async fn text(s: Session, len: web::Path<usize>) -> Reply {
        let prose = "the quick brown fox jumps over the lazy dog; ".repeat(*len / 45 + 1);
        s.insert("text", &prose[..*len])?;
        Ok(HttpResponse::Ok().finish())
    }
    testing::routes(cfg);
    cfg.route("/fill-bytes/{len}", web::get().to(fill))
        .route("/noise/{len}", web::get().to(noise))
        .route("/text/{len}", web::get().to(text));
}

/// Presents `cookie` to `app`'s `/read`: a bad cookie must be a fresh session (200, "0").
async fn assert_fresh<S, B: MessageBody>(app: &S, cookie: &Cookie<'static>, what: &str)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let res = get(app, "/read", Some(cookie)).await;
    assert_eq!(res.status(), StatusCode::OK, "{what}: no error");
    assert_eq!(body(res).await, "0", "{what}: a fresh session");
}

#[actix_web::test]
async fn forged_cookies_are_fresh_sessions_with_a_warning() {
    let (logs, _guard) = Logs::capture();
    let key = Key::generate();
    let encrypted = serve(
        routes,
        SessionMiddleware::new(CookieStore::encrypted(), key.clone()),
    )
    .await;
    let signed = serve(
        routes,
        SessionMiddleware::new(CookieStore::signed(), key.clone()),
    )
    .await;
    let enc_cookie = set_cookie(&get(&encrypted, "/counter", None).await).unwrap();
    let sig_cookie = set_cookie(&get(&signed, "/counter", None).await).unwrap();
    assert_eq!(
        body(get(&encrypted, "/read", Some(&enc_cookie)).await).await,
        "1"
    );
    assert_eq!(
        body(get(&signed, "/read", Some(&sig_cookie)).await).await,
        "1"
    );

    for (app_cookie, name) in [(&enc_cookie, "encrypted"), (&sig_cookie, "signed")] {
        let value = app_cookie.value();
        for i in [0, 10, value.len() / 2, value.len() - 1] {
            let mut bytes = value.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = Cookie::new("session", String::from_utf8(bytes).unwrap());
            if name == "encrypted" {
                assert_fresh(&encrypted, &tampered, "one byte changed (encrypted)").await;
            } else {
                assert_fresh(&signed, &tampered, "one byte changed (signed)").await;
            }
        }
    }
    let truncated = Cookie::new(
        "session",
        enc_cookie.value()[..enc_cookie.value().len() - 5].to_owned(),
    );
    assert_fresh(&encrypted, &truncated, "truncated").await;
    assert_fresh(
        &encrypted,
        &sig_cookie,
        "a signed cookie shown to the encrypted store",
    )
    .await;
    assert_fresh(
        &signed,
        &enc_cookie,
        "an encrypted cookie shown to the signed store",
    )
    .await;
    let retired = serve(
        routes,
        SessionMiddleware::new(CookieStore::encrypted(), Key::generate()),
    )
    .await;
    assert_fresh(&retired, &enc_cookie, "a cookie from a retired key").await;
    assert!(
        logs.text().matches("WARN").count() >= 11,
        "each rejection is logged at warn"
    );
}

#[actix_web::test]
async fn an_authentic_cookie_past_its_expiry_is_refused() {
    let (logs, _guard) = Logs::capture();
    // Expiry is in whole seconds: a 2 s TTL is alive for sure within 1 s of the write and over
    // for sure 2 s after it; each check stands a second clear of those bounds.
    let clock = Clock::manual();
    let mw = SessionMiddleware::builder(CookieStore::encrypted(), Key::generate())
        .clock(clock.clone())
        .ttl(Duration::from_secs(2))
        .build();
    let app = serve(routes, mw).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    assert_eq!(
        cookie.max_age(),
        None,
        "browser-session cookie: only the payload's expiry protects"
    );
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "1");
    clock.advance(Duration::from_millis(3000));
    assert_fresh(&app, &cookie, "replayed after its TTL").await;
    assert!(logs.text().contains("expired"));
}

#[actix_web::test]
async fn updates_push_the_expiry_forward() {
    // Expiry is in whole seconds: a 3 s TTL is alive for sure within 2 s of the write (each
    // step moves the clock 1 s, a second to spare) and over for sure 3 s after it.
    let clock = Clock::manual();
    let mw = SessionMiddleware::builder(CookieStore::encrypted(), Key::from(&[7; 64]))
        .clock(clock.clone())
        .ttl(Duration::from_secs(3))
        .build();
    let app = serve(routes, mw).await;
    let first = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let mut cookie = first.clone();
    for _ in 0..4 {
        clock.advance(Duration::from_millis(1000));
        cookie = set_cookie(&get(&app, "/counter", Some(&cookie)).await).unwrap();
    }
    // Four seconds after creation, past the 3 s TTL, but never 3 s after the last update.
    assert_fresh(&app, &first, "the never-updated cookie, past its TTL").await;
    assert_eq!(body(get(&app, "/read", Some(&cookie)).await).await, "5");
}

#[actix_web::test]
async fn refresh_on_access_reissues_on_read() {
    let mw = SessionMiddleware::builder(CookieStore::signed(), Key::generate())
        .refresh(TtlRefresh::OnAccess)
        .build();
    let app = serve(routes, mw).await;
    let cookie = set_cookie(&get(&app, "/counter", None).await).unwrap();
    let res = get(&app, "/read", Some(&cookie)).await;
    assert!(
        set_cookie(&res).is_some(),
        "a read re-issues the cookie with a new expiry"
    );
}

#[actix_web::test]
async fn rotated_keys_open_and_are_resealed_on_write() {
    let old = Key::generate();
    let new = Key::generate();
    let before = serve(
        routes,
        SessionMiddleware::new(CookieStore::encrypted(), old.clone()),
    )
    .await;
    let cookie = set_cookie(&get(&before, "/counter", None).await).unwrap();
    let rotated = serve(
        routes,
        SessionMiddleware::builder(CookieStore::encrypted(), new.clone())
            .previous_keys([old])
            .build(),
    )
    .await;
    assert_eq!(
        body(get(&rotated, "/read", Some(&cookie)).await).await,
        "1",
        "the old key still opens"
    );
    let resealed = set_cookie(&get(&rotated, "/counter", Some(&cookie)).await).unwrap();
    let only_new = serve(
        routes,
        SessionMiddleware::new(CookieStore::encrypted(), new),
    )
    .await;
    assert_eq!(
        body(get(&only_new, "/read", Some(&resealed)).await).await,
        "2",
        "re-sealed with the current key"
    );
}

/// The largest `/fill-bytes/{n}` that still fits, found by bisection, and what happens one byte over.
///
/// `slack`: compressed sizes wobble by a byte or two with the timestamps inside the payload, so
/// there the checks stand `slack` bytes off the boundary found.
async fn size_boundary(store: CookieStore, route: &str, slack: usize) {
    let app = serve(routes, SessionMiddleware::new(store, Key::generate())).await;
    let fits = |status: StatusCode| status == StatusCode::OK;
    let (mut lo, mut hi) = (1usize, 8192usize);
    assert!(fits(
        get(&app, &format!("/{route}/{lo}"), None).await.status()
    ));
    assert!(!fits(
        get(&app, &format!("/{route}/{hi}"), None).await.status()
    ));
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(get(&app, &format!("/{route}/{mid}"), None).await.status()) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // The largest session that fits is accepted, and its header is within the limit.
    let lo = lo - slack;
    let hi = hi + slack;
    let res = get(&app, &format!("/{route}/{lo}"), None).await;
    let header = res
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        header.len() <= MAX_COOKIE_BYTES,
        "{} bytes sent",
        header.len()
    );
    assert!(
        header.len() > MAX_COOKIE_BYTES - 8 - 2 * slack,
        "nothing that fits is refused: {}",
        header.len()
    );
    let cookie = set_cookie(&res).unwrap();
    assert_eq!(
        body(get(&app, "/read", Some(&cookie)).await).await,
        "0",
        "the big cookie opens"
    );

    // One byte more: an error the application can see, no cookie, nothing silently dropped.
    let res = get(&app, &format!("/{route}/{hi}"), Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        res.headers().get(SET_COOKIE).is_none(),
        "no cookie the browser would drop"
    );
    let err = res
        .response()
        .error()
        .expect("the error travels with the response");
    let save = err.as_error::<SaveError>().expect("a SaveError");
    assert!(
        matches!(save, SaveError::CookieTooLarge { size, limit: 4096 } if *size > 4096),
        "{save:?}"
    );
    assert_eq!(body(res).await, "Internal Server Error");
}

#[actix_web::test]
async fn encrypted_sessions_over_4096_bytes_are_an_error_and_the_largest_fit() {
    size_boundary(CookieStore::encrypted(), "fill-bytes", 0).await;
}

#[actix_web::test]
async fn signed_sessions_over_4096_bytes_are_an_error_and_the_largest_fit() {
    size_boundary(CookieStore::signed(), "fill-bytes", 0).await;
}

#[cfg(feature = "cookie-compression")]
#[actix_web::test]
async fn compression_pushes_the_limit_out_for_text() {
    let plain = serve(
        routes,
        SessionMiddleware::new(CookieStore::encrypted(), Key::generate()),
    )
    .await;
    let packed = serve(
        routes,
        SessionMiddleware::new(CookieStore::encrypted().compressed(true), Key::generate()),
    )
    .await;
    let res = get(&plain, "/text/6000", None).await;
    assert_eq!(
        res.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "6000 bytes do not fit uncompressed"
    );
    let res = get(&packed, "/text/6000", None).await;
    assert_eq!(res.status(), StatusCode::OK, "but fit compressed");
    let cookie = set_cookie(&res).unwrap();
    assert!(
        cookie.value().len() < 1000,
        "{} bytes",
        cookie.value().len()
    );
    let res = get(&packed, "/counter", Some(&cookie)).await;
    assert_eq!(body(res).await, "1");
    size_boundary(CookieStore::signed().compressed(true), "noise", 8).await;
    size_boundary(CookieStore::encrypted().compressed(true), "noise", 8).await;
}
