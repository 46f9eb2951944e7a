//! Black-box checks of `bench-server --transport header` on the memory, Redis and cookie stores:
//! the token travels in `X-Session` requests and responses, never in a cookie.

mod support;

use session_tests::redis_server::RedisServer;
use support::{Answer, Response, Server};

/// Where the sessions of a store live, which decides what a renewal can revoke.
#[derive(Clone, Copy, PartialEq)]
enum Sessions {
    ServerSide,
    /// The cookie store: the token is the sealed session, so every write answers a new one and
    /// an old token cannot be revoked.
    InTheToken,
}

/// The token a response answered, checking that it came by header only and is readable
/// cross-origin.
fn answered(res: &Response) -> String {
    assert_eq!(res.status, 200, "{res:?}");
    assert!(res.set_cookie().is_none(), "never Set-Cookie: {res:?}");
    assert!(
        res.header("access-control-expose-headers")
            .is_some_and(|h| h.eq_ignore_ascii_case("x-session")),
        "{res:?}"
    );
    let token = res.token().expect("an X-Session answer").to_owned();
    assert!(!token.is_empty(), "{res:?}");
    token
}

/// The header-mode promises, on one server.
fn serves_header_sessions(server: &Server, sessions: Sessions) {
    let noop = server.get("/noop", None);
    assert_eq!(noop.body, "ok");
    assert!(noop.token().is_none() && noop.set_cookie().is_none());

    let first = server.get("/counter", None);
    assert_eq!(first.body, "1");
    let mut token = answered(&first);
    assert_eq!(first.header("vary"), Some("x-session"));

    // A change to a server-side session keeps its token; a cookie-store one is re-sealed.
    let step = |path: &str, expected: &str, token: &mut String| {
        let res = server.get_token(path, token);
        assert_eq!(res.answer(), Answer::ok(expected), "{path}");
        match sessions {
            Sessions::ServerSide => assert!(res.token().is_none(), "{path}: {res:?}"),
            Sessions::InTheToken => *token = answered(&res),
        }
    };
    step("/counter", "2", &mut token);
    step("/typed", "3", &mut token); // a #[derive(SessionData)] extractor, unchanged

    let read = server.get_token("/read", &token);
    assert_eq!(read.body, "3");
    assert!(
        read.token().is_none(),
        "an untouched session answers nothing"
    );
    assert!(server.get_token("/noop", &token).token().is_none());

    let cookie = format!("session={token}");
    let ignored = server.get("/read", Some(&cookie));
    assert_eq!(ignored.body, "0", "a cookie is not accepted in header mode");
    assert!(ignored.set_cookie().is_none());

    let renewed = answered(&server.get_token("/renew", &token));
    assert_eq!(server.get_token("/read", &renewed).body, "3");
    if sessions == Sessions::ServerSide {
        assert_ne!(renewed, token, "a new token on renewal");
        assert_eq!(
            server.get_token("/read", &token).body,
            "0",
            "the old token is dead"
        );
    }

    let purged = server.get_token("/purge", &renewed);
    assert_eq!(purged.status, 200);
    assert_eq!(purged.token(), Some(""), "purge answers X-Session empty");
    assert!(purged.set_cookie().is_none());
    if sessions == Sessions::ServerSide {
        assert_eq!(server.get_token("/read", &renewed).body, "0");
    }
}

#[test]
fn memory_store_sessions_travel_in_x_session() {
    let server = Server::start(&["--store", "memory", "--transport", "header"]);
    serves_header_sessions(&server, Sessions::ServerSide);
}

#[test]
fn redis_store_sessions_travel_in_x_session() {
    let redis = RedisServer::start();
    let server = Server::start(&[
        "--store",
        "redis",
        "--redis",
        &redis.url(),
        "--transport",
        "header",
    ]);
    serves_header_sessions(&server, Sessions::ServerSide);
}

#[test]
fn cookie_store_sessions_travel_in_x_session() {
    let server = Server::start(&["--store", "cookie", "--transport", "header"]);
    serves_header_sessions(&server, Sessions::InTheToken);
}

#[test]
fn tampered_tokens_are_fresh_sessions_answered_empty() {
    let server = Server::start(&["--store", "memory", "--transport", "header"]);
    let token = answered(&server.get("/counter", None));
    let mut forged = token.clone().into_bytes();
    forged[47] = if forged[47] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for bad in [forged.as_str(), "garbage", &token[..token.len() - 4]] {
        let res = server.get_token("/read", bad);
        assert_eq!(res.answer(), Answer::ok("0"), "{bad:.60}");
        assert_eq!(res.token(), Some(""), "{bad:.60}");
    }
    assert_eq!(server.get_token("/read", &token).body, "1");
    assert!(!server.log().contains("panicked"));
}

#[test]
fn cookie_mode_stays_the_default_and_unknown_transports_are_refused() {
    let server = Server::start(&["--store", "memory", "--transport", "cookie"]);
    let res = server.get("/counter", None);
    assert!(res.cookie().is_some() && res.token().is_none(), "{res:?}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench-server"))
        .args(["--store", "memory", "--transport", "pigeon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--transport"), "{stderr}");
}
