//! `bench-server --metrics`: scripted traffic through a real process, then `/metrics` in the
//! Prometheus text format counts it: sessions created and ended, tampered cookies refused,
//! and the store errors of a Redis outage.

mod support;

use session_tests::redis_server::RedisServer;
use support::{Answer, Server};

/// The sum of the samples of `name` whose labels contain every one of `labels` (`key="value"`).
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name && labels.iter().all(|l| rest.contains(l)))
                .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// `cookie` with a character of its signature changed.
fn tampered(cookie: &str) -> String {
    let (name, value) = cookie.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    bytes[47] = if bytes[47] == b'A' { b'B' } else { b'A' };
    format!("{name}={}", String::from_utf8(bytes).unwrap())
}

#[test]
fn metrics_count_scripted_traffic() {
    let mut redis = RedisServer::start();
    let server = Server::start(&["--store", "redis", "--redis", &redis.url(), "--metrics"]);
    let scrape = || {
        let res = server.get("/metrics", None);
        assert_eq!(res.status, 200, "{res:?}");
        assert!(res.set_cookie().is_none(), "/metrics makes no session");
        res.body
    };
    let before = scrape();
    assert_eq!(sample(&before, "actix_session_created_total", &[]), 0.0);

    let cookies: Vec<String> = (0..5)
        .map(|_| {
            let res = server.get("/counter", None);
            assert_eq!(res.answer(), Answer::ok("1"));
            res.cookie().expect("a new session's cookie")
        })
        .collect();
    assert_eq!(server.get("/counter", Some(&cookies[1])).body, "2");
    assert_eq!(server.get("/purge", Some(&cookies[0])).status, 200);
    for cookie in &cookies[1..4] {
        let res = server.get("/read", Some(&tampered(cookie)));
        assert_eq!(
            res.answer(),
            Answer::ok("0"),
            "a tampered cookie is no session"
        );
    }

    let text = scrape();
    assert_eq!(
        sample(&text, "actix_session_created_total", &[]),
        5.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "actix_session_ended_total", &["reason=\"purge\""]),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "actix_session_refused_total",
            &["reason=\"bad_signature\""]
        ),
        3.0,
        "{text}"
    );
    let loads = sample(
        &text,
        "actix_session_store_call_duration_seconds_count",
        &["store=\"redis\"", "operation=\"load\""],
    );
    assert_eq!(loads, 2.0, "the two reads of a valid cookie: {text}");
    assert!(
        text.contains("# HELP actix_session_created_total"),
        "{text}"
    );
    assert_eq!(
        sample(&text, "actix_session_store_errors_total", &[]),
        0.0,
        "{text}"
    );

    redis.kill();
    let res = server.get("/read", Some(&cookies[4]));
    assert_eq!(res.status, 503, "{res:?}");
    let text = scrape();
    assert!(
        sample(
            &text,
            "actix_session_store_errors_total",
            &["store=\"redis\""]
        ) >= 1.0,
        "{text}"
    );
}

/// Without `--metrics` there is no `/metrics`.
#[test]
fn metrics_are_served_only_when_asked() {
    let server = Server::start(&["--store", "memory"]);
    assert_eq!(server.get("/metrics", None).status, 404);
}
