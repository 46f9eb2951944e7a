//! The header transport through the whole middleware: what each commit answers in `X-Session`
//! (never `Set-Cookie`), cookies ignored, `Bearer` and `Both`, key rotation, and the cookie
//! store's header-sized limit.

mod support;

use actix_http::Request;
use actix_typed_session::{
    store::{CookieStore, MemoryStore},
    testing, SessionMiddleware, SessionStorage, Transport,
};
use actix_web::{
    body::{BoxBody, EitherBody},
    cookie::Key,
    dev::{Service, ServiceResponse},
    test, App,
};

const KEY: [u8; 64] = [7; 64];

type Response = ServiceResponse<EitherBody<BoxBody>>;

async fn app(
    storage: impl Into<SessionStorage>,
    transport: Transport,
    key: Key,
    previous: Option<Key>,
) -> impl Service<Request, Response = Response, Error = actix_web::Error> {
    let middleware = SessionMiddleware::builder(storage, key)
        .transport(transport)
        .previous_keys(previous)
        .build();
    test::init_service(App::new().wrap(middleware).configure(testing::routes)).await
}

/// One answer, as the client sees it.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
    /// `X-Session`, when present (possibly empty).
    token: Option<String>,
    set_cookie: bool,
    exposed: Option<String>,
}

async fn send<S>(app: &S, uri: &str, headers: &[(&str, &str)]) -> Answer
where
    S: Service<Request, Response = Response, Error = actix_web::Error>,
{
    let mut req = test::TestRequest::get().uri(uri);
    for &(name, value) in headers {
        req = req.append_header((name, value));
    }
    let res = test::call_service(app, req.to_request()).await;
    let header = |name| {
        res.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (token, set_cookie, exposed) = (
        header("x-session"),
        res.headers().contains_key("set-cookie"),
        header("access-control-expose-headers"),
    );
    Answer {
        status: res.status().as_u16(),
        token,
        set_cookie,
        exposed,
        body: testing::body(res).await,
    }
}

/// With `X-Session: token`.
async fn with<S>(app: &S, uri: &str, token: &str) -> Answer
where
    S: Service<Request, Response = Response, Error = actix_web::Error>,
{
    send(app, uri, &[("x-session", token)]).await
}

#[actix_web::test]
async fn header_mode_answers_tokens_where_cookies_would_be_set_and_never_sets_cookies() {
    let stores: [(&str, SessionStorage, bool); 3] = [
        ("memory", MemoryStore::new().into(), true),
        ("encrypted cookie", CookieStore::encrypted().into(), false),
        ("signed cookie", CookieStore::signed().into(), false),
    ];
    for (name, storage, server_side) in stores {
        let app = app(storage, Transport::header(), Key::from(&KEY), None).await;
        let first = send(&app, "/counter", &[]).await;
        assert_eq!(first.body, "1", "{name}");
        assert!(!first.set_cookie, "{name}: never Set-Cookie");
        assert_eq!(first.exposed.as_deref(), Some("x-session"), "{name}");
        let token = first.token.expect("a new session answers its token");
        assert!(!token.is_empty());

        let second = with(&app, "/counter", &token).await;
        assert_eq!(second.body, "2", "{name}");
        let token = if server_side {
            assert_eq!(second.token, None, "a saved change keeps its token");
            token
        } else {
            // Each write of a cookie-store session re-seals it.
            second.token.unwrap()
        };
        let read = with(&app, "/read", &token).await;
        assert_eq!(read.body, "2", "{name}");
        assert_eq!(
            read.token, None,
            "{name}: an untouched session answers nothing"
        );
        assert_eq!(with(&app, "/noop", &token).await.token, None, "{name}");

        let cookie = format!("session={token}");
        let ignored = send(&app, "/read", &[("cookie", &cookie)]).await;
        assert_eq!(ignored.body, "0", "{name}: a cookie is not accepted");

        let renewed = with(&app, "/renew", &token).await;
        let new = renewed.token.expect("renewal answers the new token");
        if server_side {
            // (A signed cookie-store session keeps no id: re-sealed in the same second, the
            // same data gives the same token.)
            assert_ne!(new, token, "{name}");
        }
        assert_eq!(with(&app, "/read", &new).await.body, "2", "{name}");
        if server_side {
            assert_eq!(
                with(&app, "/read", &token).await.body,
                "0",
                "the old token is dead"
            );
        }

        let purged = with(&app, "/purge", &new).await;
        assert_eq!(
            purged.token.as_deref(),
            Some(""),
            "{name}: purge answers it empty"
        );
        assert!(!purged.set_cookie);
        if server_side {
            assert_eq!(with(&app, "/read", &new).await.body, "0", "{name}");
        }
    }
}

#[actix_web::test]
async fn forged_tokens_never_reach_the_store_and_are_answered_with_an_empty_header() {
    let store = support::Instrumented::default();
    let app = app(store.clone(), Transport::header(), Key::from(&KEY), None).await;
    let token = send(&app, "/counter", &[]).await.token.unwrap();
    store.take_loads();
    let mut forged = token.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for bad in [forged.as_str(), "garbage", &"x".repeat(9000)] {
        let read = with(&app, "/read", bad).await;
        assert_eq!((read.status, read.body.as_str()), (200, "0"), "{bad:.40}");
        assert_eq!(read.token.as_deref(), Some(""), "{bad:.40}");
    }
    assert_eq!(store.take_loads(), [], "no load for a forged token");
    assert_eq!(with(&app, "/read", &token).await.body, "1");
}

#[actix_web::test]
async fn bearer_requests_are_answered_in_x_session() {
    let app = app(
        MemoryStore::new(),
        Transport::bearer(),
        Key::from(&KEY),
        None,
    )
    .await;
    let token = send(&app, "/counter", &[]).await.token.unwrap();
    let bearer = format!("Bearer {token}");
    let next = send(&app, "/counter", &[("authorization", &bearer)]).await;
    assert_eq!(next.body, "2");
    assert!(!next.set_cookie);
    assert_eq!(
        with(&app, "/read", &token).await.body,
        "0",
        "X-Session is not read"
    );
}

#[actix_web::test]
async fn both_serves_header_requests_by_header_and_the_rest_by_cookie() {
    let app = app(MemoryStore::new(), Transport::both(), Key::from(&KEY), None).await;
    let browser = send(&app, "/counter", &[]).await;
    assert!(browser.set_cookie && browser.token.is_none(), "{browser:?}");
    let api = send(&app, "/counter", &[("x-session", "")]).await;
    assert!(!api.set_cookie, "an empty header asks for a header answer");
    let token = api.token.unwrap();
    assert_eq!(with(&app, "/counter", &token).await.body, "2");
    let cookie = format!("session={token}");
    let mixed = send(&app, "/read", &[("cookie", &cookie), ("x-session", "")]).await;
    assert_eq!(mixed.body, "0", "the header wins: the cookie is ignored");
    assert_eq!(send(&app, "/read", &[("cookie", &cookie)]).await.body, "2");
}

#[actix_web::test]
async fn rotated_keys_still_open_header_tokens_which_are_resealed() {
    let store = MemoryStore::new();
    let (old, new) = (Key::from(&KEY), Key::from(&[9; 64]));
    let before = app(store.clone(), Transport::header(), old.clone(), None).await;
    let token = send(&before, "/counter", &[]).await.token.unwrap();
    let after = app(store, Transport::header(), new, Some(old)).await;
    let read = with(&after, "/read", &token).await;
    assert_eq!(read.body, "1");
    let resealed = read.token.expect("re-sealed with the current key");
    assert_ne!(resealed, token);
    assert_eq!(with(&after, "/read", &resealed).await.body, "1");
}

#[actix_web::test]
async fn cookie_store_tokens_may_pass_the_cookie_limit_up_to_8_kib() {
    let header = app(
        CookieStore::encrypted(),
        Transport::header(),
        Key::from(&KEY),
        None,
    )
    .await;
    let big = send(&header, "/fill/5", &[]).await;
    assert_eq!(big.status, 200);
    let token = big.token.unwrap();
    assert!((4096..=8192).contains(&token.len()), "{}", token.len());
    assert_eq!(
        with(&header, "/get/blob", &token).await.body.len(),
        5 * 1024
    );
    let too_big = send(&header, "/fill/7", &[]).await;
    assert_eq!(too_big.status, 500, "over 8 KiB: TokenTooLarge");
    assert_eq!(too_big.token, None);

    let cookie = app(
        CookieStore::encrypted(),
        Transport::Cookie,
        Key::from(&KEY),
        None,
    )
    .await;
    assert_eq!(
        send(&cookie, "/fill/5", &[]).await.status,
        500,
        "cookie limit"
    );
}

#[actix_web::test]
async fn header_tokens_expire_with_the_ttl_and_the_maximum_lifetime() {
    use std::time::Duration;
    let clock = actix_typed_session::Clock::manual();
    let store = MemoryStore::builder().clock(clock.clone()).build();
    let middleware = |max| {
        SessionMiddleware::builder(store.clone(), Key::from(&KEY))
            .transport(Transport::header())
            .clock(clock.clone())
            .ttl(Duration::from_secs(100))
            .max_lifetime(max)
            .build()
    };
    let ttl_only =
        test::init_service(App::new().wrap(middleware(None)).configure(testing::routes)).await;
    let capped = test::init_service(
        App::new()
            .wrap(middleware(Some(Duration::from_secs(150))))
            .configure(testing::routes),
    )
    .await;
    let token = send(&ttl_only, "/counter", &[]).await.token.unwrap();
    clock.advance(Duration::from_secs(90));
    // A change refreshes the TTL (the default policy) and keeps the token.
    assert_eq!(with(&ttl_only, "/counter", &token).await.body, "2");
    clock.advance(Duration::from_secs(90));
    assert_eq!(
        with(&ttl_only, "/read", &token).await.body,
        "2",
        "refreshed"
    );
    let past = with(&capped, "/read", &token).await;
    assert_eq!(past.body, "0", "180 s old: past the 150 s maximum lifetime");
    assert_eq!(past.token.as_deref(), Some(""));
    clock.advance(Duration::from_secs(101));
    assert_eq!(with(&ttl_only, "/read", &token).await.body, "0", "expired");
}
