//! Bad input at scale: random and mutated `Cookie` headers thrown at the middleware. Whatever
//! the bytes, the server does not panic, answers no 5xx, and makes no store call for a cookie
//! that does not verify. And random JSON values (any unicode, nesting, extreme numbers) sent
//! through real stores come back equal, or are refused with a 400 before reaching the session.

use actix_typed_session::{
    store::MemoryStore,
    testing::{self, set_cookie},
    SessionMiddleware, Transport,
};
use actix_web::{
    cookie::Key,
    http::header::{HeaderName, HeaderValue, AUTHORIZATION, COOKIE},
    rt::System,
    test::{call_service, init_service, TestRequest},
    App,
};
use proptest::{prelude::*, test_runner::Config as ProptestConfig};
use session_tests::counted::Counted;

/// How a header is made from the genuine cookie value.
#[derive(Debug, Clone)]
enum Mutation {
    /// One byte replaced.
    Flip(usize, u8),
    /// Cut at a position.
    Truncate(usize),
    /// Bytes inserted at a position.
    Insert(usize, Vec<u8>),
    /// Every byte percent-encoded, then some replaced.
    PercentEncoded(Vec<(usize, u8)>),
    /// The value repeated (oversized).
    Repeated(usize),
    /// Random bytes as the value.
    Random(Vec<u8>),
    /// A whole random header, cookie name or not.
    RawHeader(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..4)
            .prop_map(Mutation::PercentEncoded),
        (2usize..200).prop_map(Mutation::Repeated),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Mutation::Random),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Mutation::RawHeader),
    ]
}

/// The header value made by `m` from the genuine token: `prefix` and the mutated token (a raw
/// header is random bytes on its own).
fn apply(genuine: &[u8], m: &Mutation, prefix: &[u8]) -> Vec<u8> {
    let at = |i: usize| i % (genuine.len() + 1);
    let value = match m {
        Mutation::Flip(i, b) => {
            let mut v = genuine.to_vec();
            let i = i % v.len();
            v[i] = *b;
            v
        }
        Mutation::Truncate(i) => genuine[..at(*i)].to_vec(),
        Mutation::Insert(i, bytes) => {
            let mut v = genuine.to_vec();
            v.splice(at(*i)..at(*i), bytes.iter().copied());
            v
        }
        Mutation::PercentEncoded(changes) => {
            let mut v: Vec<u8> = genuine
                .iter()
                .flat_map(|b| format!("%{b:02X}").into_bytes())
                .collect();
            for (i, b) in changes {
                let i = i % v.len();
                v[i] = *b;
            }
            v
        }
        Mutation::Repeated(n) => genuine.repeat(*n),
        Mutation::Random(bytes) => bytes.clone(),
        Mutation::RawHeader(bytes) => return bytes.clone(),
    };
    let mut header = prefix.to_vec();
    header.extend(value);
    header
}

/// `%XX` decoded, anything else kept: a header that decodes to one holding the genuine
/// value may legitimately verify.
fn percent_decoded(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Which header carries the token, and how the middleware is told to read it there.
struct Carrier {
    transport: Transport,
    header: HeaderName,
    /// What precedes the token in the header's value.
    prefix: &'static [u8],
}

/// Throws `cases` mutated tokens at a memory-store app in the carrier's header and asserts:
/// no panic, no 5xx, no store call for a header that cannot hold the genuine token. Returns
/// how many headers were sendable, and how many of those still held the genuine token.
fn throw_garbage(carrier: Carrier, cases: u32) -> (usize, usize) {
    let system = System::new();
    let store = Counted::new(MemoryStore::new());
    let cookie = carrier.header == COOKIE;
    let (app, genuine) = system.block_on({
        let store = store.clone();
        async move {
            let app = init_service(
                App::new()
                    .wrap(
                        SessionMiddleware::builder(store, Key::generate())
                            .cookie_secure(false)
                            .transport(carrier.transport)
                            .build(),
                    )
                    .configure(testing::routes),
            )
            .await;
            let res = testing::get(&app, "/set/k/v", None).await;
            assert_eq!(res.status(), 200);
            let token = if cookie {
                set_cookie(&res)
                    .expect("a session cookie")
                    .value()
                    .to_owned()
            } else {
                let token = res.headers().get("x-session").expect("a token");
                token.to_str().unwrap().to_owned()
            };
            (app, token)
        }
    });
    let genuine = genuine.into_bytes();
    let (header, prefix) = (carrier.header, carrier.prefix);
    let verified = std::cell::Cell::new(0usize);
    let sent = std::cell::Cell::new(0usize);
    proptest!(ProptestConfig::with_cases(cases), |(m in mutation())| {
        let bytes = apply(&genuine, &m, prefix);
        // Bytes a header cannot carry never reach the middleware (the HTTP parser refuses them).
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        let may_verify = contains(&bytes, &genuine) || contains(&percent_decoded(&bytes), &genuine);
        sent.set(sent.get() + 1);
        let before = store.calls();
        let status = system.block_on(async {
            let req = TestRequest::get().uri("/read").insert_header((header.clone(), value)).to_request();
            call_service(&app, req).await.status()
        });
        let calls = store.calls() - before;
        prop_assert!(status.as_u16() < 500, "{} for {:?} in {}", status, m, header);
        if may_verify {
            verified.set(verified.get() + 1);
        } else {
            prop_assert_eq!(calls, 0, "a store call for a token that cannot verify: {:?}", m);
        }
    });
    assert!(
        sent.get() > cases as usize / 2,
        "most generated {header} headers were not even sendable"
    );
    (sent.get(), verified.get())
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

#[test]
fn garbage_cookies_never_panic_never_500_and_never_reach_the_store() {
    let carrier = Carrier {
        transport: Transport::Cookie,
        header: COOKIE,
        prefix: b"session=",
    };
    let (sent, verified) = throw_garbage(carrier, cases(2000));
    println!("{sent} headers sent, {verified} still held the genuine cookie");
}

/// The same mutations as session tokens in headers (`X-Session`, `Authorization: Bearer`).
#[test]
fn garbage_header_tokens_never_panic_never_500_and_never_reach_the_store() {
    for (transport, header, prefix) in [
        (
            Transport::header(),
            HeaderName::from_static("x-session"),
            &b""[..],
        ),
        (Transport::bearer(), AUTHORIZATION, &b"Bearer "[..]),
    ] {
        let carrier = Carrier {
            transport,
            header,
            prefix,
        };
        let (sent, verified) = throw_garbage(carrier, cases(1000));
        println!("{sent} headers sent, {verified} still held the genuine token");
    }
}

/// Any JSON value: strings of arbitrary unicode (controls and NUL included) as values and
/// object keys, integers over the whole `i64`/`u64` range, floats that parse back exactly
/// (serde_json's default parser may be one ulp off on others, which is not ours to test),
/// nested arrays and objects.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (any::<i32>(), 0u32..10)
            .prop_map(|(m, k)| Value::from(f64::from(m) / f64::from(1u32 << k))),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `/put` stores the body's `value` under its `key` (a JSON body: any value serde_json takes);
/// `/take` answers the value under the body's key as JSON, or 404.
fn json_routes(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_typed_session::Session;
    use actix_web::{web, HttpResponse};
    #[derive(serde::Deserialize)]
    struct Put {
        key: String,
        value: serde_json::Value,
    }
    async fn put(s: Session, body: web::Json<Put>) -> actix_web::Result<HttpResponse> {
        let Put { key, value } = body.into_inner();
        s.insert(key, value)?;
        Ok(HttpResponse::Ok().body("ok"))
    }
    async fn take(s: Session, key: web::Json<String>) -> actix_web::Result<HttpResponse> {
        Ok(match s.get::<serde_json::Value>(&key)? {
            Some(value) => HttpResponse::Ok().json(value),
            None => HttpResponse::NotFound().finish(),
        })
    }
    cfg.route("/put", web::post().to(put))
        .route("/take", web::post().to(take));
}

/// Puts the raw JSON `body` (`{"key": …, "value": …}`) in a new session, then takes `key`
/// back: the statuses and, if both were 200, the value that came back.
async fn put_and_take<S, B>(
    app: &S,
    key: &str,
    body: String,
) -> (u16, u16, Option<serde_json::Value>)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    use actix_web::http::header::CONTENT_TYPE;
    let req = TestRequest::post()
        .uri("/put")
        .insert_header((CONTENT_TYPE, "application/json"))
        .set_payload(body)
        .to_request();
    let res = call_service(app, req).await;
    let put = res.status().as_u16();
    let Some(cookie) = set_cookie(&res) else {
        return (put, 0, None);
    };
    let req = TestRequest::post()
        .uri("/take")
        .cookie(cookie)
        .set_json(key)
        .to_request();
    let res = call_service(app, req).await;
    let took = res.status().as_u16();
    let bytes = actix_web::test::read_body(res).await;
    (put, took, serde_json::from_slice(&bytes).ok())
}

/// Random JSON values through the memory, file and SQLite stores and back: equal, never a
/// panic or a 5xx. Numbers beyond `f64` and nesting beyond serde_json's limit are a 400 at the
/// request's JSON extractor; integers beyond `u64` become the nearest `f64`, as serde_json
/// reads them.
#[test]
fn random_json_values_round_trip_through_real_stores() {
    use actix_typed_session::store::{FileStore, SqliteStore};
    use actix_typed_session::SessionStorage;
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<(&str, SessionStorage)> = vec![
        ("memory", MemoryStore::new().into()),
        (
            "file",
            FileStore::builder(dir.path().join("files"))
                .durable(false)
                .build()
                .unwrap()
                .into(),
        ),
        (
            "sqlite",
            SqliteStore::open(dir.path().join("s.db")).unwrap().into(),
        ),
    ];
    let cases = cases(300);
    for (name, store) in stores {
        let system = System::new();
        let app = system.block_on(init_service(
            App::new()
                .wrap(
                    SessionMiddleware::builder(store, Key::generate())
                        .cookie_secure(false)
                        .build(),
                )
                .configure(json_routes),
        ));
        proptest!(ProptestConfig::with_cases(cases), |(key in "\\PC{0,12}", value in json_value())| {
            prop_assume!(!key.starts_with("__session"));
            let body = serde_json::json!({ "key": key, "value": value }).to_string();
            let (put, took, back) = system.block_on(put_and_take(&app, &key, body));
            prop_assert_eq!((put, took), (200, 200), "{}: {:?}", name, value);
            prop_assert_eq!(back.as_ref(), Some(&value), "{}", name);
        });

        let nested = |depth: usize| format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let extremes = [
            // (value's JSON text, what must come back; None: a 400 at the extractor)
            ("18446744073709551615", Some("18446744073709551615")),
            ("18446744073709551616", Some("1.8446744073709552e19")),
            ("-9223372036854775809", Some("-9.223372036854776e18")),
            ("1.7976931348623157e308", Some("1.7976931348623157e308")),
            ("5e-324", Some("5e-324")),
            ("1e400", None),
            ("-1e400", None),
            (&*"9".repeat(400), None),
        ]
        .map(|(v, back)| (v.to_owned(), back.map(str::to_owned)));
        let deep = [(nested(100), Some(nested(100))), (nested(500), None)];
        for (text, expect) in extremes.into_iter().chain(deep) {
            let body = format!(r#"{{"key":"k","value":{text}}}"#);
            let (put, took, back) = system.block_on(put_and_take(&app, "k", body));
            let shown = &text[..text.len().min(40)];
            match expect {
                Some(expect) => {
                    assert_eq!((put, took), (200, 200), "{name}: {shown}");
                    let expect: serde_json::Value = serde_json::from_str(&expect).unwrap();
                    assert_eq!(back, Some(expect), "{name}: {shown}");
                }
                None => assert_eq!(put, 400, "{name}: {shown} is refused with a 400"),
            }
        }
    }
}
