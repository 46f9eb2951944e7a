//! Shared by the single-node and cluster Redis tests: the round-trip budget check.

use actix_typed_session::testing::{get, set_cookie};
use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
};
use session_tests::redis_server::{count_commands, RedisServer};

/// Requests per route.
pub const REQUESTS: usize = 100;

/// Sends [`REQUESTS`] requests to each route of `budgets` (`(uri, most round trips per request,
/// exactly that many?)`) through `app` and checks the commands `servers` received, counted with
/// `MONITOR` and `INFO commandstats`. Returns one report line per route.
///
/// # Panics
/// When a route exceeds its budget or a steady-state request sends `PING`, `UNWATCH` or
/// `SCRIPT`.
pub async fn check_round_trips<S, B>(
    app: &S,
    servers: &[&RedisServer],
    budgets: &[(&str, usize, bool)],
) -> Vec<String>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    // Warm up: open connections and let Redis learn the scripts (`SCRIPT LOAD` happens once per
    // server, not per request).
    let res = get(app, "/counter", None).await;
    let mut cookie = set_cookie(&res).expect("a session");
    for uri in ["/counter", "/read", "/renew"] {
        let res = get(app, uri, Some(cookie.clone())).await;
        assert_eq!(res.status(), 200, "{uri}");
        cookie = set_cookie(&res).unwrap_or(cookie);
    }
    let mut report = Vec::new();
    for &(uri, budget, exact) in budgets {
        // Purge ends its session: give it a fresh one each time.
        let mut cookies = Vec::new();
        for _ in 0..REQUESTS {
            if uri == "/purge" {
                let res = get(app, "/counter", None).await;
                cookies.push(set_cookie(&res).expect("a session"));
            }
        }
        let count = count_commands(servers, async {
            for i in 0..REQUESTS {
                let c = cookies.get(i).unwrap_or(&cookie).clone();
                let res = get(app, uri, Some(c)).await;
                assert_eq!(res.status(), 200, "{uri}");
                if uri == "/renew" {
                    cookie = set_cookie(&res).expect("renew sets a cookie");
                }
            }
        })
        .await;
        for forbidden in ["ping", "unwatch", "script"] {
            assert!(
                !count.sent.contains_key(forbidden),
                "{uri}: no `{forbidden}` on steady-state requests: {count:?}"
            );
        }
        let trips = count.round_trips();
        if exact {
            assert_eq!(trips, budget * REQUESTS, "{uri}: {count:?}");
        } else {
            assert!(trips <= budget * REQUESTS, "{uri}: {count:?}");
        }
        report.push(format!(
            "{uri}: {:.2} commands sent/request {:?}; INFO commandstats incl. script internals {:.2}/request",
            trips as f64 / REQUESTS as f64,
            count.sent,
            count.commandstats as f64 / REQUESTS as f64
        ));
    }
    report
}
