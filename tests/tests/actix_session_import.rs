//! The actix-session bridge: sessions of an actix-session 0.11 app (cookie store and Redis
//! store, with and without an actix-identity user) continue in ours, the old cookie is removed
//! (and the old Redis key deleted), and old cookies that do not verify are fresh sessions.
//!
//! The old cookies are made as actix-session 0.11 makes them: the state (a JSON object of JSON
//! texts) or the Redis key put in the `cookie` crate's private or signed jar of the old key.

use std::collections::HashMap;

use actix_http::Request;
use actix_typed_session::{
    store::{MemoryStore, RedisPool, RedisStore},
    testing::{self, body},
    ActixSessionImport, SessionMiddleware, SessionMiddlewareBuilder, SessionStorage,
};
use actix_web::{
    body::MessageBody,
    cookie::{Cookie, CookieJar, Key},
    dev::{Service, ServiceResponse},
    test,
};
use redis::AsyncCommands as _;
use session_tests::redis_server::RedisServer;

/// A cookie `name` holding `value` as actix-session puts it in its private or signed jar.
fn old_cookie(key: &Key, signed: bool, value: &str) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    let cookie = Cookie::new("id", value.to_owned());
    if signed {
        jar.signed_mut(key).add(cookie);
    } else {
        jar.private_mut(key).add(cookie);
    }
    jar.delta().next().unwrap().clone().into_owned()
}

/// An actix-session state: each value is the JSON text of what the app inserted.
fn old_state(user: Option<&str>) -> String {
    let mut state = HashMap::new();
    state.insert("counter".to_owned(), "41".to_owned());
    state.insert("color".to_owned(), "\"blue\"".to_owned());
    if let Some(user) = user {
        state.insert(
            "actix_identity.user_id".to_owned(),
            serde_json::to_string(user).unwrap(),
        );
        state.insert(
            "actix_identity.logged_in_timestamp".to_owned(),
            "1700000000".to_owned(),
        );
    }
    serde_json::to_string(&state).unwrap()
}

/// A middleware on `storage` for plain-HTTP test requests, with the builder's further settings
/// `with`.
fn middleware(
    storage: impl Into<SessionStorage>,
    with: impl FnOnce(SessionMiddlewareBuilder) -> SessionMiddlewareBuilder,
) -> SessionMiddleware {
    with(SessionMiddleware::builder(storage, Key::generate()).cookie_secure(false)).build()
}

/// A memory-store middleware that imports actix-session's cookie-store sessions made with
/// `old_key`.
fn cookie_bridge(old_key: &Key) -> SessionMiddleware {
    bridged(
        MemoryStore::new(),
        ActixSessionImport::cookie_store(old_key.clone()),
    )
}

/// A Redis-store middleware that imports actix-session's Redis-store sessions (cookies signed
/// with `old_key`, state in `client`'s Redis).
fn redis_bridge(pool: &RedisPool, old_key: &Key, client: &redis::Client) -> SessionMiddleware {
    bridged(
        RedisStore::new(pool.clone()),
        ActixSessionImport::redis(old_key.clone(), client.clone()),
    )
}

/// A middleware on `storage` that imports actix-session's sessions as `import` says.
fn bridged(storage: impl Into<SessionStorage>, import: ActixSessionImport) -> SessionMiddleware {
    middleware(storage, |b| b.import_actix_session(import))
}

/// An app under test, as `test::init_service` makes it.
trait TestApp<B>: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error> {}

impl<S, B> TestApp<B> for S where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>
{
}

/// GET `uri` with the old cookie `old`.
async fn send<B>(app: &impl TestApp<B>, uri: &str, old: Cookie<'static>) -> ServiceResponse<B> {
    let req = test::TestRequest::get().uri(uri).cookie(old).to_request();
    test::call_service(app, req).await
}

fn cookies<B>(res: &ServiceResponse<B>) -> Vec<Cookie<'static>> {
    res.response().cookies().map(Cookie::into_owned).collect()
}

/// Our session cookie of `res` (named `session`), and whether `res` removes the old `id`.
fn split<B>(res: &ServiceResponse<B>) -> (Option<Cookie<'static>>, bool) {
    let all = cookies(res);
    let ours = all.iter().find(|c| c.name() == "session").cloned();
    let removed = all
        .iter()
        .any(|c| c.name() == "id" && c.value().is_empty() && c.path() == Some("/"));
    (ours, removed)
}

/// Sends `old` to `/counter`, then checks the imported data, user and cookies: the counter
/// continues from 41, `color` is kept, the old cookie is removed, and a later request
/// carries only our cookie.
async fn continues<B: MessageBody>(
    app: &impl TestApp<B>,
    old: Cookie<'static>,
    user: Option<&str>,
) {
    let res = send(app, "/counter", old).await;
    let (ours, removed) = split(&res);
    assert_eq!(body(res).await, "42", "the old counter continues");
    assert!(removed, "the old cookie is removed");
    let ours = ours.expect("our cookie is set");

    let res = testing::get(app, "/get/color", Some(&ours)).await;
    assert_eq!(body(res).await, "blue", "the old data is kept");
    let res = testing::get(app, "/whoami", Some(&ours)).await;
    let status = res.status();
    let who = body(res).await;
    match user {
        Some(user) => assert_eq!(who, user, "the actix-identity user is signed in"),
        None => assert_eq!(status, 404, "anonymous: {who}"),
    }
    let res = testing::get(app, "/counter", Some(&ours)).await;
    assert!(!split(&res).1, "only our cookie now: nothing to remove");
    assert_eq!(body(res).await, "43");
}

/// An old cookie that does not verify is a fresh session (and removed like it).
async fn is_fresh<B: MessageBody>(app: &impl TestApp<B>, old: Cookie<'static>) {
    let res = send(app, "/counter", old).await;
    let (ours, removed) = split(&res);
    assert_eq!(body(res).await, "1", "a fresh session");
    assert!(removed, "the rejected cookie is removed");
    let res = testing::get(app, "/whoami", ours.as_ref()).await;
    assert_eq!(res.status(), 404);
}

fn tampered(cookie: &Cookie<'_>) -> Cookie<'static> {
    let mut value = cookie.value().to_owned().into_bytes();
    let at = value.len() / 2;
    value[at] = if value[at] == b'A' { b'B' } else { b'A' };
    Cookie::new("id", String::from_utf8(value).unwrap())
}

#[actix_web::test]
async fn cookie_store_sessions_continue_private_and_signed() {
    for signed in [false, true] {
        for user in [None, Some("ada")] {
            let old_key = Key::generate();
            let mut import = ActixSessionImport::cookie_store(old_key.clone());
            if signed {
                import = import.signed();
            }
            let app = testing::serve(testing::routes, bridged(MemoryStore::new(), import)).await;
            continues(&app, old_cookie(&old_key, signed, &old_state(user)), user).await;
        }
    }
}

#[actix_web::test]
async fn old_cookies_that_do_not_verify_are_fresh_sessions() {
    let old_key = Key::generate();
    let app = testing::serve(testing::routes, cookie_bridge(&old_key)).await;
    let genuine = old_cookie(&old_key, false, &old_state(Some("ada")));
    is_fresh(&app, tampered(&genuine)).await;
    is_fresh(
        &app,
        old_cookie(&Key::generate(), false, &old_state(Some("ada"))),
    )
    .await;
    // A signed cookie where private ones are expected: its content is in the clear.
    is_fresh(&app, old_cookie(&old_key, true, &old_state(Some("ada")))).await;
}

/// An old session's keys under this crate's reserved prefix are not imported: whatever an old
/// app kept under `__session.user` never signs anybody in, nor under `__session.flash` shows
/// as a flash message.
#[actix_web::test]
async fn old_keys_under_the_reserved_prefix_are_not_imported() {
    let old_key = Key::generate();
    let app = testing::serve(testing::routes, cookie_bridge(&old_key)).await;
    let mut state: HashMap<String, String> = serde_json::from_str(&old_state(None)).unwrap();
    let binding = r#"{"user":"mallory","at":1700000000,"ttl":600}"#;
    state.insert("__session.user".into(), binding.into());
    let planted = r#"[{"level":"info","message":"planted"}]"#;
    state.insert("__session.flash".into(), planted.into());
    let old = old_cookie(&old_key, false, &serde_json::to_string(&state).unwrap());
    continues(&app, old.clone(), None).await;
    let res = send(&app, "/flashes", old).await;
    assert_eq!(body(res).await, "", "no flash message of the old session's");
}

#[actix_web::test]
async fn without_the_bridge_an_old_cookie_is_ignored() {
    let old_key = Key::generate();
    let app = testing::serve(testing::routes, middleware(MemoryStore::new(), |b| b)).await;
    let old = old_cookie(&old_key, false, &old_state(None));
    let res = send(&app, "/counter", old).await;
    assert!(!split(&res).1, "not ours to remove");
    assert_eq!(body(res).await, "1");
}

#[actix_web::test]
async fn requests_that_do_not_load_the_session_leave_the_old_cookie() {
    let old_key = Key::generate();
    let app = testing::serve(testing::routes, cookie_bridge(&old_key)).await;
    let old = old_cookie(&old_key, false, &old_state(None));
    let res = send(&app, "/noop", old).await;
    assert!(cookies(&res).is_empty());
}

#[actix_web::test]
async fn redis_store_sessions_continue_and_their_keys_are_deleted() {
    let server = RedisServer::start();
    let client = redis::Client::open(server.url()).unwrap();
    let mut redis = client.get_multiplexed_async_connection().await.unwrap();
    let pool = RedisPool::new(&server.url()).unwrap();
    for user in [None, Some("ada")] {
        let old_key = Key::generate();
        let session_key = format!("oldsessionkey{}", user.unwrap_or("anonymous"));
        let () = redis
            .set_ex(&session_key, old_state(user), 3600)
            .await
            .unwrap();
        let app = testing::serve(testing::routes, redis_bridge(&pool, &old_key, &client)).await;
        continues(&app, old_cookie(&old_key, false, &session_key), user).await;
        let left: Option<String> = redis.get(&session_key).await.unwrap();
        assert_eq!(left, None, "the old key is deleted");

        // Replayed after the import, the old cookie names no session: a fresh one.
        is_fresh(&app, old_cookie(&old_key, false, &session_key)).await;
        is_fresh(&app, tampered(&old_cookie(&old_key, false, &session_key))).await;
    }
}

/// The key of bench's actix-session server (`bench/src/incumbent.rs`).
const INCUMBENT_KEY: [u8; 64] = [7; 64];

/// bench's `actix-session-server` (actix-session 0.11 and actix-identity 0.9), built on first
/// use, on a free port; killed when dropped.
struct Incumbent {
    child: std::process::Child,
    port: u16,
}

impl Incumbent {
    fn start(args: &[&str]) -> Self {
        let bench = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "--bin",
                "actix-session-server",
                "--manifest-path",
            ])
            .arg(format!("{bench}/Cargo.toml"))
            .status()
            .expect("run cargo");
        assert!(built.success(), "building bench's actix-session-server");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child =
            std::process::Command::new(format!("{bench}/target/debug/actix-session-server"))
                .args(args)
                .args(["--port", &port.to_string()])
                .spawn()
                .expect("start actix-session-server");
        let server = Self { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "actix-session-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        server
    }

    /// GET `uri` with `cookie`: the body, and the `id` cookie set, if any.
    fn get(&self, uri: &str, cookie: Option<&Cookie<'_>>) -> (String, Option<Cookie<'static>>) {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let cookie = cookie.map_or(String::new(), |c| {
            format!("Cookie: {}\r\n", c.stripped().encoded())
        });
        write!(
            stream,
            "GET {uri} HTTP/1.1\r\nHost: 127.0.0.1\r\n{cookie}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let set = head
            .lines()
            .filter_map(|line| line.split_once(": "))
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            // actix-session sends its cookies percent-encoded.
            .find_map(|(_, value)| Cookie::parse_encoded(value.to_owned()).ok())
            .filter(|c| c.name() == "id");
        (body.to_owned(), set)
    }

    /// A session of the old app: counter 41, `color` blue and, with `user`, signed in with
    /// actix-identity. Its last cookie.
    fn session(&self, user: Option<&str>) -> Cookie<'static> {
        let mut cookie: Option<Cookie<'static>> = None;
        let mut step = |uri: &str| {
            let (body, set) = self.get(uri, cookie.as_ref());
            cookie = set.or_else(|| cookie.take());
            body
        };
        for _ in 0..41 {
            step("/counter");
        }
        step("/set/color/blue");
        if let Some(user) = user {
            assert_eq!(step(&format!("/login/{user}")), "ok");
            assert_eq!(step("/whoami"), user);
        }
        assert_eq!(step("/read"), "41");
        cookie.expect("the old app set its cookie")
    }
}

impl Drop for Incumbent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_web::test]
async fn real_actix_session_cookie_store_sessions_continue() {
    let old = Incumbent::start(&["--store", "cookie"]);
    let old_key = Key::from(&INCUMBENT_KEY);
    let app = testing::serve(testing::routes, cookie_bridge(&old_key)).await;
    for user in [None, Some("ada")] {
        continues(&app, old.session(user), user).await;
    }
    let cookie = old.session(Some("ada"));
    is_fresh(&app, tampered(&cookie)).await;
    let foreign = testing::serve(
        testing::routes,
        bridged(
            MemoryStore::new(),
            ActixSessionImport::cookie_store(Key::generate()),
        ),
    )
    .await;
    is_fresh(&foreign, cookie).await;
}

#[actix_web::test]
async fn real_actix_session_redis_sessions_continue_and_their_keys_are_deleted() {
    let server = RedisServer::start();
    let old = Incumbent::start(&["--store", "redis", "--redis", &server.url()]);
    let client = redis::Client::open(server.url()).unwrap();
    let pool = RedisPool::new(&server.url()).unwrap();
    let old_key = Key::from(&INCUMBENT_KEY);
    let app = testing::serve(testing::routes, redis_bridge(&pool, &old_key, &client)).await;
    for user in [None, Some("ada")] {
        let cookie = old.session(user);
        continues(&app, cookie.clone(), user).await;
        let (read, _) = old.get("/read", Some(&cookie));
        assert_eq!(
            read, "0",
            "the old key is deleted: the old app sees no session"
        );
    }
    let cookie = old.session(Some("ada"));
    is_fresh(&app, tampered(&cookie)).await;
    let foreign = testing::serve(
        testing::routes,
        bridged(
            MemoryStore::new(),
            ActixSessionImport::redis(Key::generate(), client),
        ),
    )
    .await;
    is_fresh(&foreign, cookie).await;
}

#[actix_web::test]
async fn an_old_cookie_of_our_name_is_replaced_not_removed() {
    let old_key = Key::generate();
    let app = testing::serve(
        testing::routes,
        middleware(MemoryStore::new(), |b| {
            b.cookie_name("id")
                .import_actix_session(ActixSessionImport::cookie_store(old_key.clone()))
        }),
    )
    .await;
    let res = send(
        &app,
        "/counter",
        old_cookie(&old_key, false, &old_state(None)),
    )
    .await;
    let set = cookies(&res);
    assert_eq!(body(res).await, "42");
    assert_eq!(set.len(), 1, "{set:?}");
    assert!(
        !set[0].value().is_empty(),
        "our cookie, not a removal: {set:?}"
    );
    let res = testing::get(&app, "/get/color", Some(&set[0])).await;
    assert_eq!(body(res).await, "blue");
}
