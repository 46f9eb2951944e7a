//! Bad input at scale: random and mutated `Cookie` headers thrown at the middleware. Whatever
//! the bytes, the server does not panic, answers no 5xx, and makes no store call for a cookie
//! that does not verify.

use actix_typed_session::{
    store::MemoryStore,
    testing::{self, set_cookie},
    SessionMiddleware,
};
use actix_web::{
    cookie::Key,
    http::header::{HeaderValue, COOKIE},
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

fn apply(genuine: &[u8], m: &Mutation) -> Vec<u8> {
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
    let mut header = b"session=".to_vec();
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

#[test]
fn garbage_cookies_never_panic_never_500_and_never_reach_the_store() {
    let system = System::new();
    let store = Counted::new(MemoryStore::new());
    let (app, genuine) = system.block_on({
        let store = store.clone();
        async move {
            let app = init_service(
                App::new()
                    .wrap(
                        SessionMiddleware::builder(store, Key::generate())
                            .cookie_secure(false)
                            .build(),
                    )
                    .configure(testing::routes),
            )
            .await;
            let res = testing::get(&app, "/set/k/v", None).await;
            assert_eq!(res.status(), 200);
            let genuine = set_cookie(&res)
                .expect("a session cookie")
                .value()
                .to_owned();
            (app, genuine)
        }
    });
    let genuine = genuine.into_bytes();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2000);
    let verified = std::cell::Cell::new(0usize);
    let sent = std::cell::Cell::new(0usize);
    proptest!(ProptestConfig::with_cases(cases), |(m in mutation())| {
        let header = apply(&genuine, &m);
        // Bytes a header cannot carry never reach the middleware (the HTTP parser refuses them).
        let Ok(value) = HeaderValue::from_bytes(&header) else { return Ok(()) };
        let may_verify = contains(&header, &genuine) || contains(&percent_decoded(&header), &genuine);
        sent.set(sent.get() + 1);
        let before = store.calls();
        let status = system.block_on(async {
            let req = TestRequest::get().uri("/read").insert_header((COOKIE, value)).to_request();
            call_service(&app, req).await.status()
        });
        let calls = store.calls() - before;
        prop_assert!(status.as_u16() < 500, "{status} for {m:?}");
        if may_verify {
            verified.set(verified.get() + 1);
        } else {
            prop_assert_eq!(calls, 0, "a store call for a cookie that cannot verify: {:?}", m);
        }
    });
    println!(
        "{} headers sent, {} still held the genuine cookie",
        sent.get(),
        verified.get()
    );
    assert!(
        sent.get() > cases as usize / 2,
        "most generated headers were not even sendable"
    );
}
