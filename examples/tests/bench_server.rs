//! Black-box checks of `bench-server`: the failure semantics, cookie attributes, renew, purge
//! and concurrent writers, through real HTTP to a real process.

mod support;

use std::thread;

use support::{Answer, Server};

#[test]
fn memory_counter_read_and_noop() {
    let server = Server::start(&["--store", "memory"]);
    let first = server.get("/counter", None);
    assert_eq!(first.answer(), Answer::ok("1"));
    let cookie = first.cookie().expect("a session cookie");
    assert_eq!(server.get("/counter", Some(&cookie)).body, "2");
    let read = server.get("/read", Some(&cookie));
    assert_eq!(read.body, "2");
    assert!(
        read.set_cookie().is_none(),
        "an unchanged session sends no cookie"
    );
    assert_eq!(read.header("vary"), Some("Cookie"));
    let noop = server.get("/noop", Some(&cookie));
    assert_eq!(noop.answer(), Answer::ok("ok"));
    assert!(noop.set_cookie().is_none() && noop.header("vary").is_none());
    assert_eq!(server.get("/get/absent", Some(&cookie)).status, 404);
    assert_eq!(server.get("/set/name/ferris", Some(&cookie)).body, "ok");
    assert_eq!(server.get("/get/name", Some(&cookie)).body, "ferris");
    assert_eq!(server.get("/remove/name", Some(&cookie)).body, "ok");
    assert_eq!(server.get("/get/name", Some(&cookie)).status, 404);
    assert_eq!(server.get("/fill/3", Some(&cookie)).body, "ok");
    assert_eq!(server.get("/get/blob", Some(&cookie)).body.len(), 3 * 1024);
    assert_eq!(
        server.get("/typed", Some(&cookie)).body,
        "3",
        "/typed counts on with the counter of /counter"
    );
}

#[test]
fn bad_cookies_are_fresh_sessions_logged_at_warn() {
    let server = Server::start(&["--store", "memory"]);
    let cookie = server.get("/counter", None).cookie().unwrap();
    let (name, value) = cookie.split_once('=').unwrap();
    let mut flipped = value.as_bytes().to_vec();
    flipped[47] = if flipped[47] == b'A' { b'B' } else { b'A' };
    let bad = [
        format!("{name}={}", String::from_utf8(flipped).unwrap()),
        format!("{name}={}", &value[..value.len() - 4]),
        format!("{name}=garbage"),
        format!("{name}={}", "x".repeat(6000)),
        format!("{name}=!!not-base64!!"),
    ];
    for c in &bad {
        let res = server.get("/read", Some(c));
        assert_eq!(res.answer(), Answer::ok("0"), "{c:.60}");
    }
    let res = server.get("/counter", Some(&bad[0]));
    assert_eq!(res.body, "1", "a tampered cookie starts over");
    assert_ne!(res.cookie().unwrap(), cookie, "with a new id");
    let log = server.log();
    assert!(log.matches("WARN").count() >= bad.len(), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn cookie_attributes() {
    let server = Server::start(&["--store", "memory"]);
    let set = server
        .get("/counter", None)
        .set_cookie()
        .unwrap()
        .to_owned();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(
        !set.contains("Max-Age"),
        "a browser-session cookie without --ttl: {set}"
    );
    let persistent = Server::start(&["--store", "memory", "--ttl", "60"]);
    let set = persistent
        .get("/counter", None)
        .set_cookie()
        .unwrap()
        .to_owned();
    assert!(set.contains("Max-Age=60"), "{set}");
}

#[test]
fn refresh_on_every_request_reissues_on_noop() {
    let server = Server::start(&["--store", "memory", "--ttl", "60", "--refresh", "request"]);
    let cookie = server.get("/counter", None).cookie().unwrap();
    let noop = server.get("/noop", Some(&cookie));
    assert!(
        noop.set_cookie().is_some_and(|c| c.contains("Max-Age=60")),
        "{noop:?}"
    );
}

#[test]
fn renew_kills_the_old_cookie_and_purge_removes_it() {
    let server = Server::start(&["--store", "memory"]);
    let old = server.get("/counter", None).cookie().unwrap();
    server.get("/counter", Some(&old));
    let renewed = server.get("/renew", Some(&old));
    let new = renewed.cookie().expect("renew sets a cookie");
    assert_ne!(new, old);
    assert_eq!(server.get("/read", Some(&new)).body, "2", "same data");
    assert_eq!(
        server.get("/read", Some(&old)).body,
        "0",
        "the old cookie is dead"
    );

    let purged = server.get("/purge", Some(&new));
    let removal = purged.set_cookie().expect("a removal cookie").to_owned();
    assert!(removal.starts_with("session=;"), "{removal}");
    assert!(
        removal.contains("Max-Age=0") && removal.contains("Path=/"),
        "{removal}"
    );
    assert_eq!(
        server.get("/read", Some(&new)).body,
        "0",
        "the purged session is gone"
    );
}

#[test]
fn concurrent_requests_changing_different_keys_are_all_kept() {
    let server = Server::start(&["--store", "memory", "--workers", "2"]);
    let cookie = server.get("/counter", None).cookie().unwrap();
    let port = server.port;
    thread::scope(|s| {
        for i in 0..16 {
            let cookie = &cookie;
            s.spawn(move || {
                let res = support::get(port, &format!("/set/k{i}/v{i}"), Some(cookie));
                assert_eq!(res.status, 200);
            });
        }
    });
    for i in 0..16 {
        assert_eq!(
            server.get(&format!("/get/k{i}"), Some(&cookie)).body,
            format!("v{i}")
        );
    }
    assert_eq!(server.get("/read", Some(&cookie)).body, "1");
}

#[test]
fn cookie_store_serves_the_same_routes() {
    let server = Server::start(&["--store", "cookie"]);
    let mut cookie = server.get("/counter", None).cookie().unwrap();
    for expected in ["2", "3"] {
        let res = server.get("/counter", Some(&cookie));
        assert_eq!(res.body, expected);
        cookie = res.cookie().unwrap();
    }
    let res = server.get("/fill/5", Some(&cookie));
    assert_eq!(res.status, 500, "5 KiB cannot fit in a cookie");
    assert!(
        server
            .log()
            .contains("over the browsers' limit of 4096 bytes"),
        "{}",
        server.log()
    );
    assert_eq!(
        server.get("/read", Some(&cookie)).body,
        "3",
        "the failed write kept nothing"
    );
}

#[test]
fn bad_arguments_are_refused_with_usage() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench-server"))
        .args(["--store", "nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not available"));
}

/// What a browser sends when a sibling subdomain planted a cookie of the same name with a
/// longer `Path`: the planted one first. The real session is read, nothing is removed, and
/// token-setting answers are not for caches.
#[test]
fn a_planted_cookie_before_the_real_one_is_skipped_not_removed() {
    let server = Server::start(&["--store", "memory"]);
    let first = server.get("/counter", None);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    let cookie = first.cookie().unwrap();
    server.get("/counter", Some(&cookie));
    let planted = format!("session=tossed; {cookie}");
    let read = server.get("/read", Some(&planted));
    assert_eq!(read.answer(), Answer::ok("2"), "the valid session is read");
    assert!(read.set_cookie().is_none(), "no removal of the real cookie");
    let emptied = format!("session=; {cookie}");
    assert_eq!(server.get("/read", Some(&emptied)).body, "2");
}

/// `--import-actix-session cookie --import-key-hex HEX`: a session of an actix-session app
/// with default settings (cookie `id`, private) under that key continues; the old cookie is
/// removed. A bad key is refused at start.
#[test]
fn imports_actix_session_cookie_store_sessions() {
    use actix_web::cookie::{Cookie, CookieJar, Key};

    let key = [7u8; 64];
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let server = Server::start(&[
        "--store",
        "memory",
        "--import-actix-session",
        "cookie",
        "--import-key-hex",
        &hex,
    ]);
    let mut jar = CookieJar::new();
    let state = r#"{"counter":"41","actix_identity.user_id":"\"ada\""}"#;
    jar.private_mut(&Key::from(&key))
        .add(Cookie::new("id", state));
    let old = jar.delta().next().unwrap().encoded().to_string();

    let res = server.get("/counter", Some(&old));
    assert_eq!(res.answer(), Answer::ok("42"));
    let set: Vec<_> = res
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        set.iter()
            .any(|c| c.starts_with("id=;") && c.contains("Max-Age=0")),
        "{set:?}"
    );
    let ours = set
        .iter()
        .find(|c| c.starts_with("session="))
        .expect("our cookie");
    let ours = ours.split(';').next().unwrap();
    assert_eq!(server.get("/whoami", Some(ours)).body, "ada");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench-server"))
        .args([
            "--store",
            "memory",
            "--import-actix-session",
            "cookie",
            "--import-key-hex",
            "07",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--import-key-hex"));
}

/// The test support's retry on a taken port rests on this: a port another process holds makes
/// bench-server exit saying so, and the support does not mistake the other process for it.
#[test]
fn a_port_in_use_is_reported_not_mistaken_for_the_server() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let Err(log) = Server::try_start_on(port, &["--store", "memory"]) else {
        panic!("bench-server on a taken port counted as started");
    };
    assert!(log.contains("in use"), "{log}");
}
