//! Shared by the single-node and cluster Redis tests: the round-trip budget check.

use actix_typed_session::testing::{get, set_cookie};
use actix_web::{
    body::MessageBody,
    dev::{Service, ServiceResponse},
};
use session_tests::redis_server::{count_commands, RedisServer};

/// Requests per route.
pub const REQUESTS: usize = 100;

/// What one request to a route costs: exactly `round_trips` round trips to Redis.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub uri: &'static str,
    pub round_trips: usize,
}

/// The budgets of DESIGN.md's routes: untouched 0, read 1, change 2 (load, then save), purge 2
/// (load, then delete), and `renew` round trips for a renewal.
pub fn budgets(renew: usize) -> [Budget; 5] {
    let budget = |uri, round_trips| Budget { uri, round_trips };
    [
        budget("/noop", 0),
        budget("/read", 1),
        budget("/counter", 2),
        budget("/renew", renew),
        budget("/purge", 2),
    ]
}

/// Sends [`REQUESTS`] requests to each route of `budgets` through `app` and checks the commands
/// `servers` received, counted with `MONITOR` and `INFO commandstats`. Returns one report line
/// per route.
///
/// # Panics
/// When a route exceeds its budget or a steady-state request sends `PING`, `UNWATCH` or
/// `SCRIPT`.
pub async fn check_round_trips<S, B>(
    app: &S,
    servers: &[&RedisServer],
    budgets: &[Budget],
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
        let res = get(app, uri, Some(&cookie)).await;
        assert_eq!(res.status(), 200, "{uri}");
        cookie = set_cookie(&res).unwrap_or(cookie);
    }
    let mut report = Vec::new();
    for &Budget {
        uri,
        round_trips: budget,
    } in budgets
    {
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
                let res = get(app, uri, Some(cookies.get(i).unwrap_or(&cookie))).await;
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
        assert_eq!(trips, budget * REQUESTS, "{uri}: {count:?}");
        report.push(format!(
            "{uri}: {:.2} commands sent/request {:?}; INFO commandstats incl. script internals {:.2}/request",
            trips as f64 / REQUESTS as f64,
            count.sent,
            count.commandstats as f64 / REQUESTS as f64
        ));
    }
    report
}
