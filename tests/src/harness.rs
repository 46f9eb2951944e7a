//! A model-checked concurrency harness: many client threads drive real HTTP against a real
//! server on a few shared sessions (gets, sets, removes, renewals, purges, reads with a past
//! cookie, sign-ins and log-outs everywhere), a history is recorded, and [`checker::check`]
//! verifies the promises against it (no lost acknowledged write, no resurrected session,
//! only the opaque 503 of an outage, and only during faults; no hang).
//!
//! Each run prints its seed; `HARNESS_SEED=<seed>` replays the same operations per client
//! (timing, and so interleaving, is the machine's). `HARNESS_SECS` lengthens runs (soak).

pub mod checker;
pub mod client;
pub mod server;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

pub use checker::{check, check_tokens, Fault, Kind, Loss, Op, Report, Tokens};
use client::{Client, CookieChange};

/// How a run is shaped.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client threads.
    pub tasks: usize,
    /// Shared sessions (each client uses one; several clients share each).
    pub sessions: usize,
    /// Keys per session.
    pub keys: usize,
    /// How long clients send requests (unless `requests` says how many).
    pub duration: Duration,
    /// When set, each client sends exactly this many requests and `duration` is ignored: a
    /// run that does the same work on any machine, however busy.
    pub requests: Option<usize>,
    /// The seed of every client's choices.
    pub seed: u64,
    /// A request not answered within this is a hang.
    pub client_timeout: Duration,
    /// Users the sessions sign in as (slot `i`'s clients sign in as user `i % users`, so each
    /// user has several sessions at once); 0: no sign-in or log-out-everywhere.
    pub users: usize,
}

impl Config {
    /// The short form: 1.5 s (or `HARNESS_SECS`), 120 clients on 24 sessions of 4 keys, the
    /// sessions signing in as 6 users (4 sessions each).
    #[must_use]
    pub fn short(seed: u64) -> Self {
        let duration = std::env::var("HARNESS_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map_or(Duration::from_millis(1500), Duration::from_secs_f64);
        Self {
            tasks: 120,
            sessions: 24,
            keys: 4,
            duration,
            requests: None,
            seed,
            client_timeout: Duration::from_secs(5),
            users: 6,
        }
    }
}

/// The seeds a test runs: `HARNESS_SEED` alone when set; otherwise the fixed `fixed` and one
/// random seed. Each is printed so a failure can be replayed.
#[must_use]
pub fn seeds(fixed: &[u64]) -> Vec<u64> {
    if let Some(seed) = std::env::var("HARNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let random = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let mut seeds = fixed.to_vec();
    seeds.push(random);
    seeds
}

/// `SplitMix64`: small, seedable, good enough to pick test operations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Microseconds since the run began: the time base of the history and of faults.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    /// Now, in microseconds since the run began.
    #[must_use]
    pub fn now(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// Injects faults during a run (called on its own thread once clients are running) and
/// returns what it injected.
pub type Injector = Box<dyn FnOnce(Clock) -> Vec<Fault> + Send>;

/// Runs `config` against the servers at `addrs` (client `i` talks to `addrs[i % len]`; cookie
/// `cookie_name`), with `inject` on its own thread, and returns the history and the faults. Every session is created first; after the
/// clients stop, every key of every session is read once more.
///
/// # Panics
/// When a session cannot be created before the run.
#[must_use]
pub fn run(
    addrs: &[SocketAddr],
    cookie_name: &str,
    config: &Config,
    inject: Option<Injector>,
) -> (Vec<Op>, Vec<Fault>) {
    let clock = Clock(Instant::now());
    let history = Arc::new(Mutex::new(Vec::new()));
    let slots: Arc<Vec<Mutex<Slot>>> =
        Arc::new((0..config.sessions).map(|_| Mutex::default()).collect());
    let keys: Vec<String> = (0..config.keys).map(|k| format!("k{k}")).collect();

    let mut setup = Client::new(addrs[0], config.client_timeout, cookie_name);
    for slot in 0..config.sessions {
        let value = Some(format!("init-{slot}"));
        let op = request(
            &mut setup,
            clock,
            usize::MAX,
            slot,
            &slots,
            Kind::Set,
            "k0",
            value,
            None,
        );
        assert!(op.status == Some(200), "could not create a session: {op:?}");
        history.lock().unwrap().push(op);
    }

    let deadline = Instant::now() + config.duration;
    let faults = thread::scope(|scope| {
        for task in 0..config.tasks {
            let (history, slots, keys) = (history.clone(), slots.clone(), keys.clone());
            let seed = config.seed ^ (task as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F);
            let (timeout, users) = (config.client_timeout, config.users);
            let addr = addrs[task % addrs.len()];
            scope.spawn(move || {
                let mut rng = Rng::new(seed);
                let mut client = Client::new(addr, timeout, cookie_name);
                let slot = task % slots.len();
                let mut n = 0u64;
                let mut mine = Vec::new();
                let user = (users > 0).then(|| format!("u{}", slot % users));
                while match config.requests {
                    Some(requests) => mine.len() < requests,
                    None => Instant::now() < deadline,
                } {
                    let mut key = &keys[rng.below(keys.len() as u64) as usize];
                    let mut stale = false;
                    let (kind, value) = match rng.below(100) {
                        0..47 => (Kind::Get, None),
                        47..50 => {
                            // A cookie the session had before (another tab, an attacker).
                            stale = true;
                            (Kind::Get, None)
                        }
                        50..80 => {
                            n += 1;
                            (Kind::Set, Some(format!("t{task}n{n}")))
                        }
                        80..90 => (Kind::Remove, None),
                        90..95 => (Kind::Renew, None),
                        95..97 => (Kind::Purge, None),
                        97..99 if user.is_some() => {
                            key = user.as_ref().unwrap();
                            (Kind::Login, None)
                        }
                        99 if user.is_some() => (Kind::LogoutEverywhere, None),
                        _ => (Kind::Purge, None),
                    };
                    let pick = rng.next_u64();
                    let op = request(
                        &mut client,
                        clock,
                        task,
                        slot,
                        &slots,
                        kind,
                        key,
                        value,
                        stale.then_some(pick),
                    );
                    if op.error.is_some() {
                        // The server is down (a fault): do not spin on refused connections.
                        thread::sleep(Duration::from_millis(10));
                    }
                    mine.push(op);
                }
                history.lock().unwrap().extend(mine);
            });
        }
        inject.map(|f| scope.spawn(move || f(clock)).join().expect("the injector"))
    })
    .unwrap_or_default();

    // Every key of every session once more, with nothing else running, on a new connection
    // (a fault may have killed the server the setup connection was open to).
    let mut setup = Client::new(addrs[0], config.client_timeout, cookie_name);
    for slot in 0..config.sessions {
        for key in &keys {
            let op = request(
                &mut setup,
                clock,
                usize::MAX,
                slot,
                &slots,
                Kind::Get,
                key,
                None,
                None,
            );
            history.lock().unwrap().push(op);
        }
        // And every cookie the session had before: each must find nothing.
        let past = slots[slot].lock().unwrap().past.len();
        for pick in 0..past as u64 {
            let op = request(
                &mut setup,
                clock,
                usize::MAX,
                slot,
                &slots,
                Kind::Get,
                "k0",
                None,
                Some(pick),
            );
            history.lock().unwrap().push(op);
        }
    }
    let mut ops = std::mem::take(&mut *history.lock().unwrap());
    ops.sort_by_key(|o| o.start);
    (ops, faults)
}

/// A shared session: the cookie its clients send now, and the ones it had before.
#[derive(Debug, Default)]
struct Slot {
    current: Option<String>,
    past: Vec<String>,
}

/// Sends one operation with the slot's cookie (or, given `stale`, one of its past cookies
/// picked by it) and records it.
#[allow(clippy::too_many_arguments)]
fn request(
    client: &mut Client,
    clock: Clock,
    task: usize,
    slot: usize,
    slots: &[Mutex<Slot>],
    kind: Kind,
    key: &str,
    value: Option<String>,
    stale: Option<u64>,
) -> Op {
    let cookie = {
        let s = slots[slot].lock().unwrap();
        match stale {
            Some(pick) if !s.past.is_empty() => {
                Some(s.past[usize::try_from(pick).unwrap_or(0) % s.past.len()].clone())
            }
            _ => s.current.clone(),
        }
    };
    let path = match kind {
        Kind::Get => format!("/get/{key}"),
        Kind::Set => format!("/set/{key}/{}", value.as_deref().unwrap_or("")),
        Kind::Remove => format!("/remove/{key}"),
        Kind::Renew => "/renew".to_owned(),
        Kind::Purge => "/purge".to_owned(),
        Kind::Login => format!("/login/{key}"),
        Kind::LogoutEverywhere => "/logout-everywhere".to_owned(),
    };
    let start = clock.now();
    let res = client.get(&path, cookie.as_deref());
    let end = clock.now();
    let mut op = Op {
        task,
        slot,
        kind,
        key: if matches!(kind, Kind::Renew | Kind::Purge | Kind::LogoutEverywhere) {
            String::new()
        } else {
            key.to_owned()
        },
        value,
        cookie: cookie.clone(),
        start,
        end,
        status: None,
        error: None,
        hung: false,
        found: false,
        set_cookie: None,
        epoch: None,
        body: String::new(),
    };
    match res {
        Ok(res) => {
            // Clients sharing a slot follow the session it moved to, unless one already did.
            if let Some(change) = &res.cookie {
                let mut s = slots[slot].lock().unwrap();
                if s.current == cookie {
                    let new = match change {
                        CookieChange::Set(v) => Some(v.clone()),
                        CookieChange::Remove => None,
                    };
                    if let Some(old) = std::mem::replace(&mut s.current, new) {
                        if s.past.len() == 16 {
                            s.past.remove(0);
                        }
                        s.past.push(old);
                    }
                }
            }
            op.status = Some(res.status);
            op.found = res.found;
            op.epoch = res.epoch;
            op.set_cookie = res.cookie;
            op.body = res.body;
        }
        Err(e) => {
            op.hung = matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            );
            op.error = Some(e.to_string());
        }
    }
    op
}

/// Checks a run, prints its seed and table row, and panics with the shrunk violations.
///
/// # Panics
/// When a promise was broken.
pub fn assert_run(name: &str, seed: u64, ops: &[Op], faults: &[Fault], grace: Duration) -> Report {
    assert_run_tokens(name, seed, ops, faults, grace, Tokens::Server)
}

/// [`assert_run`] for sessions held as `tokens` say.
///
/// # Panics
/// As [`assert_run`].
pub fn assert_run_tokens(
    name: &str,
    seed: u64,
    ops: &[Op],
    faults: &[Fault],
    grace: Duration,
    tokens: Tokens,
) -> Report {
    let grace = u64::try_from(grace.as_micros()).unwrap_or(u64::MAX);
    let report = check_tokens(ops, faults, grace, tokens);
    println!("{}", Report::header());
    println!("{}", report.row(name));
    println!("HARNESS-ROW {}", report.row(name));
    if !report.is_ok() {
        let shown: Vec<&String> = report.violations.iter().take(5).collect();
        panic!(
            "{name}: {} violation(s) (replay with HARNESS_SEED={seed}); faults: {faults:?}\n{}",
            report.violations.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    report
}
