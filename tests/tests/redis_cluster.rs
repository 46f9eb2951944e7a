//! The Redis store on a real local Redis Cluster: 3 masters with a replica each.

use std::{
    cell::{Cell, RefCell},
    time::{Duration, Instant},
};

use actix_typed_session::{
    store::{RedisConfigError, RedisPool, RedisStore},
    testing::{self, body, get, set_cookie, Capabilities},
    SessionMiddleware,
};
use actix_web::{
    body::MessageBody,
    cookie::{Cookie, Key},
    dev::{Service, ServiceResponse},
};
use session_tests::redis_server::{reshard, RedisCluster};

mod redis_support;

fn store(cluster: &RedisCluster) -> RedisStore {
    let pool = RedisPool::cluster_builder(cluster.urls())
        .connect_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    RedisStore::new(pool)
}

fn middleware(store: &RedisStore, key: &Key) -> SessionMiddleware {
    SessionMiddleware::builder(store.clone(), key.clone())
        .cookie_secure(false)
        .build()
}

#[actix_web::test]
async fn passes_the_store_suite_on_a_cluster() {
    let cluster = RedisCluster::start(3, 1);
    testing::store_suite(&store(&cluster), Capabilities::server_side()).await;
}

#[actix_web::test]
async fn passes_the_http_suite_on_a_cluster() {
    let cluster = RedisCluster::start(3, 1);
    let store = store(&cluster);
    let key = Key::generate();
    testing::http_suite(|| middleware(&store, &key), Capabilities::server_side()).await;
}

#[actix_web::test]
async fn sessions_spread_over_all_masters() {
    let cluster = RedisCluster::start(3, 1);
    let store = store(&cluster);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    for _ in 0..300 {
        let res = get(&app, "/counter", None).await;
        assert_eq!(res.status(), 200);
        assert!(set_cookie(&res).is_some());
    }
    let per_master = cluster.keys_per_master();
    eprintln!("sessions per master: {per_master:?}");
    assert_eq!(per_master.len(), 3, "three masters own slots");
    assert_eq!(per_master.values().sum::<u64>(), 300);
    for (port, n) in &per_master {
        assert!(*n >= 50, "master {port} holds {n} of 300 sessions");
    }
}

#[actix_web::test]
async fn round_trips_per_request_on_a_cluster() {
    let cluster = RedisCluster::start(3, 1);
    let store = store(&cluster);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    // Renewal moves a session between slots: `DEL` of the old key, then the save script on
    // the new one, plus the load: three commands instead of two.
    let report =
        redis_support::check_round_trips(&app, &cluster.masters(), &redis_support::budgets(3))
            .await;
    eprintln!("{}", report.join("\n"));
}

/// One request pair of a [`Load`].
#[derive(Debug)]
struct Outcome {
    at: Duration,
    ok: bool,
}

/// `/counter` then `/get/owner` on many sessions from several workers, recording outcomes and
/// checking that every read is the session's own data or a clean 503.
struct Load {
    started: Instant,
    outcomes: RefCell<Vec<Outcome>>,
    done: Cell<bool>,
}

impl Load {
    const WORKERS: usize = 8;

    fn new() -> Self {
        Self {
            started: Instant::now(),
            outcomes: RefCell::new(Vec::new()),
            done: Cell::new(false),
        }
    }

    async fn run<S, B>(&self, app: &S, cookies: &[Cookie<'static>])
    where
        S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody,
    {
        let worker = |w: usize| async move {
            let mut n = w;
            while !self.done.get() {
                let i = n % cookies.len();
                n += Self::WORKERS;
                let cookie = Some(&cookies[i]);
                let counted = get(app, "/counter", cookie).await.status();
                let res = get(app, "/get/owner", cookie).await;
                let status = res.status();
                let text = body(res).await;
                // Its own data, or a clean 503: never another session's data, never "absent".
                assert!(
                    status.is_success() && text == format!("s{i}")
                        || status == 503 && text == "Service Unavailable",
                    "session s{i} read {status} {text:?}"
                );
                assert!(
                    counted.is_success() || counted.is_server_error(),
                    "/counter answered {counted}"
                );
                self.outcomes.borrow_mut().push(Outcome {
                    at: self.started.elapsed(),
                    ok: status.is_success() && counted.is_success(),
                });
            }
        };
        futures_util::future::join_all((0..Self::WORKERS).map(worker)).await;
    }

    /// Waits until `quiet` has passed without a failure, at least `settle` after `since`.
    ///
    /// # Panics
    /// When that takes longer than `give_up` after `since`.
    async fn until_recovered(&self, since: Duration, settle: Duration, give_up: Duration) {
        let quiet = Duration::from_secs(2);
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.started.elapsed();
            let last_failure = self.failed().last().copied();
            let calm = last_failure.is_none_or(|t| now - t >= quiet);
            if now - since >= settle && calm {
                break;
            }
            assert!(now - since < give_up, "no recovery within {give_up:?}");
        }
        self.done.set(true);
    }

    fn failed(&self) -> Vec<Duration> {
        let outcomes = self.outcomes.borrow();
        outcomes.iter().filter(|o| !o.ok).map(|o| o.at).collect()
    }

    fn report(&self, since: Duration) -> String {
        let failed = self.failed();
        let window = match (failed.first(), failed.last()) {
            (Some(first), Some(last)) => format!(
                "failures from {:?} to {:?} after the disruption",
                first.saturating_sub(since),
                last.saturating_sub(since)
            ),
            _ => "no failures".to_owned(),
        };
        format!(
            "{} request pairs, {} failed; {window}",
            self.outcomes.borrow().len(),
            failed.len()
        )
    }
}

/// A cluster with `SESSIONS` sessions, each holding `owner = s{i}`, replicated.
async fn sessions_on<S, B>(cluster: &RedisCluster, app: &S) -> Vec<Cookie<'static>>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    const SESSIONS: usize = 30;
    let mut cookies = Vec::new();
    for i in 0..SESSIONS {
        let res = get(app, &format!("/set/owner/s{i}"), None).await;
        cookies.push(set_cookie(&res).unwrap());
    }
    cluster.wait_for_replication(Duration::from_secs(10));
    cookies
}

#[actix_web::test]
async fn a_master_killed_under_load_fails_over_without_restarting_the_app() {
    let mut cluster = RedisCluster::start(3, 1);
    let store = store(&cluster);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let cookies = sessions_on(&cluster, &app).await;
    let victim = cluster.master_ports()[0];

    let load = Load::new();
    let killed_at = Cell::new(Duration::ZERO);
    let disrupt = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.node_mut(victim).kill();
        killed_at.set(load.started.elapsed());
        load.until_recovered(
            killed_at.get(),
            Duration::from_secs(3),
            Duration::from_secs(40),
        )
        .await;
    };
    futures_util::future::join(load.run(&app, &cookies), disrupt).await;
    let killed = killed_at.get();
    eprintln!("master killed under load: {}", load.report(killed));
    assert!(
        load.failed().iter().all(|&at| at >= killed),
        "nothing failed before the kill"
    );
    assert!(
        load.outcomes
            .borrow()
            .iter()
            .any(|o| o.ok && o.at > killed + Duration::from_secs(3)),
        "requests succeed after the failover"
    );
    // Every session written before the kill survived on the promoted replica.
    for (i, cookie) in cookies.iter().enumerate() {
        let res = get(&app, "/get/owner", Some(cookie)).await;
        assert_eq!(
            body(res).await,
            format!("s{i}"),
            "session s{i} after the failover"
        );
    }
    assert!(
        !cluster.master_ports().contains(&victim),
        "the killed master was replaced"
    );
}

#[actix_web::test]
async fn resharding_under_load_keeps_every_session() {
    let cluster = RedisCluster::start(3, 1);
    let store = store(&cluster);
    let app = testing::serve(testing::routes, middleware(&store, &Key::generate())).await;
    let cookies = sessions_on(&cluster, &app).await;
    // Placement only: with ~100 sessions on the source master, the 2000 moved slots (of its
    // ~5461) hold at least one of them but with odds of about 0.634^100. With the load's 30
    // sessions alone, "none moved" happened about one run in 25.
    for _ in 0..300 {
        get(&app, "/set/pad/x", None).await;
    }
    let masters = cluster.master_ports();
    let (from, to) = (masters[0], masters[1]);
    let before = cluster.keys_per_master();

    let load = Load::new();
    let disrupt = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let began = load.started.elapsed();
        tokio::task::spawn_blocking(move || reshard(from, to, 2000))
            .await
            .unwrap();
        load.until_recovered(began, Duration::ZERO, Duration::from_secs(60))
            .await;
        began
    };
    let ((), began) = futures_util::future::join(load.run(&app, &cookies), disrupt).await;
    let after = cluster.keys_per_master();
    eprintln!(
        "2000 slots resharded under load: {}; keys per master {before:?} -> {after:?}",
        load.report(began)
    );
    assert!(
        after[&to] > before[&to],
        "sessions moved to the receiving master"
    );
    assert!(
        load.failed().is_empty(),
        "MOVED/ASK are followed without failing requests: {}",
        load.report(began)
    );
    for (i, cookie) in cookies.iter().enumerate() {
        let res = get(&app, "/get/owner", Some(cookie)).await;
        assert_eq!(
            body(res).await,
            format!("s{i}"),
            "session s{i} after resharding"
        );
    }
}

#[actix_web::test]
async fn a_cluster_needs_valid_node_urls() {
    let none: [&str; 0] = [];
    assert!(matches!(
        RedisPool::cluster(none),
        Err(RedisConfigError::NoNodes)
    ));
    assert!(matches!(
        RedisPool::cluster(["redis://127.0.0.1:7000", "nope://"]),
        Err(RedisConfigError::Url(_))
    ));
    assert!(RedisPool::cluster(["redis://127.0.0.1:7000"])
        .unwrap()
        .is_cluster());
    assert!(!RedisPool::new("redis://127.0.0.1:7000")
        .unwrap()
        .is_cluster());
}
