//! The history of a run and the checker of the promises against it.
//!
//! Sessions are named by the cookie value the server set for them (a new value only on
//! creation and renewal). A response's session is the one its request's cookie named when the
//! server found it (`x-found: 1`), or the one its `Set-Cookie` created. Renewal links the new
//! session to the old one (same data), so reads of a session also answer for the writes made
//! under its ancestors before each renewal began. A sign-in is a renewal that also binds a
//! user: the new session, and every session renewed from it, is that user's from the end of
//! the request that created it, under the credential version (epoch) the sign-in reported. A
//! log-out-everywhere moves its user to a new epoch and ends every session of its user bound
//! before it began, and every session bound under an older epoch, whenever it was made (a
//! renewal racing it, whose new id the store lists too late, included); any of them answering
//! after it is a resurrection. Only a sign-in made under the new epoch survives it.

use std::{
    collections::{BTreeSet, HashMap},
    fmt::Write as _,
};

use super::client::CookieChange;

/// What an operation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/get/{k}`.
    Get,
    /// `/set/{k}/{v}`.
    Set,
    /// `/remove/{k}`.
    Remove,
    /// `/renew`.
    Renew,
    /// `/purge`.
    Purge,
    /// `/login/{user}` (the user in [`Op::key`]).
    Login,
    /// `/logout-everywhere` (the user it ended in the body).
    LogoutEverywhere,
}

/// One request and what came back. Times are microseconds since the run began.
#[derive(Debug, Clone)]
pub struct Op {
    /// The client task.
    pub task: usize,
    /// The shared session slot the task used.
    pub slot: usize,
    /// What it did.
    pub kind: Kind,
    /// The key, for `Get`/`Set`/`Remove`; the user, for `Login`.
    pub key: String,
    /// The value written by `Set` (unique in the run).
    pub value: Option<String>,
    /// The cookie value sent.
    pub cookie: Option<String>,
    /// When the request was sent.
    pub start: u64,
    /// When the response (or the error) arrived.
    pub end: u64,
    /// The status, unless the request failed.
    pub status: Option<u16>,
    /// The client error (timeout, broken connection), if any.
    pub error: Option<String>,
    /// The error was the client's timeout: the server hung.
    pub hung: bool,
    /// `x-found: 1`.
    pub found: bool,
    /// The session cookie's `Set-Cookie`, if any.
    pub set_cookie: Option<CookieChange>,
    /// `x-epoch`: the credential version a sign-in was bound to, or the one a
    /// log-out-everywhere moved its user to.
    pub epoch: Option<u64>,
    /// The body.
    pub body: String,
}

impl Op {
    fn acked(&self) -> bool {
        self.status == Some(200)
    }

    /// The session this request acted on, when it is known.
    fn session(&self) -> Option<&str> {
        if !self.acked() && self.status != Some(404) {
            // A failed request may have acted on its cookie's session.
            return self.cookie.as_deref();
        }
        match &self.set_cookie {
            Some(CookieChange::Set(v)) if Some(v.as_str()) != self.cookie.as_deref() => Some(v),
            _ if self.found => self.cookie.as_deref(),
            _ => None,
        }
    }

    fn read(&self) -> Option<Option<&str>> {
        match self.status {
            Some(200) => Some(Some(&self.body)),
            Some(404) => Some(None),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        let short = |c: &Option<String>| {
            c.as_deref()
                .map_or("-".to_owned(), |c| c.chars().take(10).collect::<String>())
        };
        let outcome = match (&self.status, &self.error) {
            (_, Some(e)) => format!("error {e}"),
            (Some(s), None) => format!("{s} {:?}", self.body),
            (None, None) => "?".to_owned(),
        };
        let set = match &self.set_cookie {
            Some(CookieChange::Set(v)) => format!(" set-cookie={}", short(&Some(v.clone()))),
            Some(CookieChange::Remove) => " set-cookie=removed".to_owned(),
            None => String::new(),
        };
        format!(
            "[{:>9}..{:>9}us] task {:>3} cookie={} {:?} {} {} -> {outcome} found={}{set}",
            self.start,
            self.end,
            self.task,
            short(&self.cookie),
            self.kind,
            self.key,
            self.value.as_deref().unwrap_or(""),
            self.found,
        )
    }
}

/// A fault injected during the run, in microseconds since the run began.
#[derive(Debug, Clone)]
pub struct Fault {
    /// What it was.
    pub name: String,
    /// When it began.
    pub start: u64,
    /// When the store was back.
    pub end: u64,
    /// What the store may lose to it.
    pub loss: Loss,
}

/// What a fault may lose: the checker holds the store to exactly this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Nothing: everything acknowledged before is there afterwards.
    Nothing,
    /// Every session (Redis restarted without persistence): each session that existed before
    /// the fault is gone afterwards, as if purged at its end.
    Everything,
    /// Changes acknowledged within `before` µs before the fault's start, or during it (a Redis
    /// Cluster failover: replication is asynchronous, so the promoted replica may lack the
    /// newest writes, removals and purges).
    Recent {
        /// How long before the fault a change may still be lost.
        before: u64,
    },
}

/// What the checker found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Requests in the history.
    pub operations: usize,
    /// Distinct sessions seen.
    pub sessions: usize,
    /// Faults injected.
    pub faults: usize,
    /// Acknowledged writes and removals that some later read was obliged to see.
    pub acked_writes_checked: usize,
    /// Reads that missed an acknowledged write (or saw a value never written there).
    pub lost_writes: usize,
    /// Requests that found a purged, renewed-away or wiped session.
    pub resurrections: usize,
    /// 5xx responses outside faults, and any but the opaque 503 of an outage within one.
    pub errors_outside_faults: usize,
    /// Requests not answered within the client timeout.
    pub hangs: usize,
    /// Every violation, shrunk to the operations that show it.
    pub violations: Vec<String>,
}

impl Report {
    /// True when no promise was broken.
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The table header matching [`row`](Self::row).
    #[must_use]
    pub fn header() -> &'static str {
        "| run | operations | sessions | faults | acked writes checked | lost writes | resurrections | 5xx outside faults | hangs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    }

    /// One markdown table row.
    #[must_use]
    pub fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
            self.operations,
            self.sessions,
            self.faults,
            self.acked_writes_checked,
            self.lost_writes,
            self.resurrections,
            self.errors_outside_faults,
            self.hangs
        )
    }
}

/// The opaque body of every internal failure.
pub const OPAQUE_500: &str = "Internal Server Error";
/// The opaque body of the 503 a store outage or timeout answers.
pub const OPAQUE_503: &str = "Service Unavailable";

/// Where sessions live, and so which promises hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tokens {
    /// The cookie names a session in the store: a purged or renewed-away id finds nothing.
    Server,
    /// The cookie is the session (the cookie store): every change answers a new cookie that
    /// carries the old one's contents, and an old cookie still opens (nothing can revoke it)
    /// unless a log-out-everywhere moved its user to a newer epoch.
    Sealed,
}

/// Checks `ops` of server-side sessions against the promises; `grace` (µs) after a fault's
/// end still counts as the fault (requests in flight, connections being re-established).
#[must_use]
pub fn check(ops: &[Op], faults: &[Fault], grace: u64) -> Report {
    check_tokens(ops, faults, grace, Tokens::Server)
}

/// [`check`] for sessions held as `tokens` say.
#[must_use]
pub fn check_tokens(ops: &[Op], faults: &[Fault], grace: u64, tokens: Tokens) -> Report {
    let mut report = Report {
        operations: ops.len(),
        faults: faults.len(),
        ..Report::default()
    };
    let in_fault = |op: &Op| {
        faults
            .iter()
            .any(|f| op.start <= f.end + grace && op.end >= f.start)
    };

    // A change that ended at `end` may have been lost, as seen from a request at `later`.
    let maybe_lost = |end: u64, later: u64| {
        faults.iter().any(|f| match f.loss {
            Loss::Recent { before } => {
                end >= f.start.saturating_sub(before) && end <= f.end && later > f.start
            }
            _ => false,
        })
    };
    // Births, renewals and deaths.
    let mut birth: HashMap<&str, u64> = HashMap::new();
    let mut parent: HashMap<&str, (&str, usize)> = HashMap::new();
    let mut death: HashMap<&str, (u64, usize)> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(s) = op.session() {
            let b = birth.entry(s).or_insert(op.start);
            *b = (*b).min(op.start);
        }
        if !op.acked() || !op.found {
            continue;
        }
        let Some(old) = op.cookie.as_deref() else {
            continue;
        };
        let server = tokens == Tokens::Server;
        let ended = match (op.kind, &op.set_cookie) {
            (Kind::Renew | Kind::Login, Some(CookieChange::Set(new))) if new != old => {
                parent.insert(new, (old, i));
                server
            }
            // A sealed session's every change is a new cookie holding the old one's contents.
            (_, Some(CookieChange::Set(new))) if !server && new != old => {
                parent.insert(new, (old, i));
                false
            }
            (Kind::Purge, Some(CookieChange::Remove)) => server,
            (Kind::LogoutEverywhere, Some(CookieChange::Remove)) => true,
            _ => false,
        };
        if ended {
            let d = death.entry(old).or_insert((op.end, i));
            if op.end < d.0 {
                *d = (op.end, i);
            }
        }
    }
    let users = signed_in(ops);
    // A log-out-everywhere ends every session bound to its user before it began, and every
    // one bound under an older epoch than the one it moved the user to.
    for (i, op) in ops.iter().enumerate() {
        if op.kind != Kind::LogoutEverywhere || !op.acked() {
            continue;
        }
        for (&s, &(user, since, _, epoch)) in &users {
            let before = since < op.start && !maybe_lost(since, op.start);
            let outdated = matches!((epoch, op.epoch), (Some(e), Some(now)) if e < now);
            if user == op.body && (before || outdated) {
                let d = death.entry(s).or_insert((op.end, i));
                if op.end < d.0 {
                    *d = (op.end, i);
                }
            }
        }
    }
    for f in faults.iter().filter(|f| f.loss == Loss::Everything) {
        for (&s, &b) in &birth {
            if b < f.start {
                let d = death.entry(s).or_insert((f.end, usize::MAX));
                if f.end < d.0 {
                    *d = (f.end, usize::MAX);
                }
            }
        }
    }
    report.sessions = birth.len();

    let violation = |report: &mut Report, what: String, involved: &[usize]| {
        let mut text = format!("{what}\n  minimal history:");
        let mut involved = involved.to_vec();
        involved.sort_by_key(|&i| ops[i].start);
        for i in involved {
            let _ = write!(text, "\n    {}", ops[i].describe());
        }
        report.violations.push(text);
    };

    for (i, op) in ops.iter().enumerate() {
        // Answers: on time, with an expected status, 5xx only in faults and only the opaque 503
        // of an outage (a store fault is an outage: a 500 there means it was misclassified).
        if let Some(e) = &op.error {
            if op.hung {
                report.hangs += 1;
                violation(&mut report, format!("no answer in time: {e}"), &[i]);
            } else if !in_fault(op) {
                // A connection refused or cut is an answer only from a killed server.
                report.errors_outside_faults += 1;
                violation(
                    &mut report,
                    format!("no answer outside any fault: {e}"),
                    &[i],
                );
            }
            continue;
        }
        let status = op.status.unwrap_or(0);
        if status >= 500 {
            if !in_fault(op) {
                report.errors_outside_faults += 1;
                violation(&mut report, "a 5xx outside any fault".into(), &[i]);
            } else if status != 503 || op.body != OPAQUE_503 {
                report.errors_outside_faults += 1;
                violation(
                    &mut report,
                    "a 5xx in a fault that is not the opaque 503 of an outage".into(),
                    &[i],
                );
            }
            continue;
        }
        let expected = status == 200
            || (matches!(op.kind, Kind::Get | Kind::LogoutEverywhere) && status == 404);
        if !expected {
            violation(&mut report, format!("unexpected status {status}"), &[i]);
            continue;
        }
        // No resurrection: a session's cookie finds nothing once it was purged or renewed.
        if let Some((d, by)) = op.cookie.as_deref().and_then(|c| death.get(c)) {
            let answered = op.found || (op.kind == Kind::Get && status == 200);
            if op.start > *d && answered && !maybe_lost(*d, op.start) {
                report.resurrections += 1;
                let mut inv = vec![i];
                if *by != usize::MAX {
                    inv.push(*by);
                    if ops[*by].kind == Kind::LogoutEverywhere {
                        // The sign-in that made it the user's, and the renewals since.
                        let bound = op.cookie.as_deref().and_then(|c| users.get(c));
                        inv.extend(bound.map(|u| u.2));
                        let mut cur = op.cookie.as_deref();
                        while let Some(&(p, renewal)) = cur.and_then(|c| parent.get(c)) {
                            if bound.is_none_or(|u| renewal <= u.2) || inv.len() > 64 {
                                break;
                            }
                            inv.push(renewal);
                            cur = Some(p);
                        }
                    }
                }
                violation(&mut report, "a dead session answered".into(), &inv);
                continue;
            }
        }
        // A log-out-everywhere sees the user its session was signed in as before it began.
        if op.kind == Kind::LogoutEverywhere && op.found {
            if let Some(&(user, since, by, _)) = op.cookie.as_deref().and_then(|c| users.get(c)) {
                let bound = since < op.start && !maybe_lost(since, op.start);
                let seen = (status == 200).then_some(op.body.as_str());
                if (bound && seen != Some(user)) || seen.is_some_and(|u| u != user) {
                    report.lost_writes += 1;
                    violation(
                        &mut report,
                        format!("log-out-everywhere saw user {seen:?} on a session signed in as {user:?}"),
                        &[i, by],
                    );
                }
            }
        }
        if op.kind == Kind::Get && !op.found && status == 200 {
            report.resurrections += 1;
            violation(&mut report, "a fresh session held data".into(), &[i]);
        }
    }

    // Writes and removals by (session, key), in any outcome: all may have taken effect.
    let mut writes: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        if matches!(op.kind, Kind::Set | Kind::Remove)
            && op.status.is_none_or(|s| s >= 500 || s == 200)
        {
            if let Some(s) = op.session() {
                writes.entry((s, &op.key)).or_default().push(i);
            }
        }
    }

    let mut checked: BTreeSet<usize> = BTreeSet::new();
    for (r, read) in ops.iter().enumerate() {
        if read.kind != Kind::Get || !read.found || read.error.is_some() {
            continue;
        }
        let Some(seen) = read.read() else { continue };
        let Some(s) = read.cookie.as_deref() else {
            continue;
        };
        // The session and its ancestors, each with the time it stopped taking writes for
        // this read (the start of the renewal that moved it on).
        let mut chain: Vec<(&str, u64, Option<usize>)> = vec![(s, read.start, None)];
        let mut cur = s;
        while let Some(&(p, renewal)) = parent.get(cur) {
            if chain.len() > 10_000 || chain.iter().any(|c| c.0 == p) {
                break;
            }
            chain.push((p, ops[renewal].start, Some(renewal)));
            cur = p;
        }
        let mut candidates = Vec::new();
        let mut obliged = Vec::new();
        for &(sess, cut, _) in &chain {
            for &w in writes.get(&(sess, read.key.as_str())).into_iter().flatten() {
                let op = &ops[w];
                if op.start >= read.end {
                    continue;
                }
                candidates.push(w);
                if op.acked()
                    && op.end < cut
                    && op.end < read.start
                    && !maybe_lost(op.end, read.start)
                {
                    obliged.push(w);
                }
            }
        }
        let renewals: Vec<usize> = chain.iter().filter_map(|c| c.2).collect();
        let superseded = |src: usize| {
            obliged
                .iter()
                .copied()
                .find(|&o| ops[o].start > ops[src].end)
        };
        match seen {
            Some(value) => {
                let src = candidates
                    .iter()
                    .copied()
                    .find(|&w| ops[w].kind == Kind::Set && ops[w].value.as_deref() == Some(value));
                match src {
                    None => {
                        report.lost_writes += 1;
                        let mut inv = vec![r];
                        inv.extend(ops.iter().position(|o| o.value.as_deref() == Some(value)));
                        violation(
                            &mut report,
                            format!("read {value:?}, which was not written to this session before the read ended"),
                            &inv,
                        );
                    }
                    Some(src) => {
                        if let Some(o) = superseded(src) {
                            report.lost_writes += 1;
                            let mut inv = vec![r, src, o];
                            inv.extend(&renewals);
                            violation(&mut report, "read a value overwritten by an acknowledged write that ended before the read began".into(), &inv);
                        }
                    }
                }
            }
            None => {
                let removal_ok = candidates
                    .iter()
                    .any(|&w| ops[w].kind == Kind::Remove && superseded(w).is_none());
                if !obliged.is_empty() && !removal_ok {
                    report.lost_writes += 1;
                    let latest = *obliged.iter().max_by_key(|&&o| ops[o].end).unwrap();
                    let mut inv = vec![r, latest];
                    inv.extend(&renewals);
                    violation(
                        &mut report,
                        "read nothing after an acknowledged write that ended before the read began"
                            .into(),
                        &inv,
                    );
                }
            }
        }
        checked.extend(obliged);
    }
    report.acked_writes_checked = checked.len();
    report
}

/// Who each session is signed in as: `(user, since, the sign-in, its epoch)` for the sessions
/// a sign-in created and those renewed from them (the renewal moved the binding, epoch
/// included, with the data), bound from the end of the request that created them. `ops` are in
/// order of start, so a session's creation comes before any request with its cookie.
/// A session's user, since when, the sign-in that bound it, and its epoch.
type Binding<'a> = (&'a str, u64, usize, Option<u64>);

fn signed_in(ops: &[Op]) -> HashMap<&str, Binding<'_>> {
    let mut users: HashMap<&str, Binding<'_>> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        let Some(CookieChange::Set(new)) = &op.set_cookie else {
            continue;
        };
        if !op.acked() || op.cookie.as_deref() == Some(new.as_str()) {
            continue;
        }
        match op.kind {
            Kind::Login => {
                users.insert(new, (&op.key, op.end, i, op.epoch));
            }
            // A renewal (or, for a sealed session, any change) moves the binding along.
            Kind::Renew | Kind::Get | Kind::Set | Kind::Remove if op.found => {
                if let Some(&(user, since, by, epoch)) =
                    op.cookie.as_deref().and_then(|c| users.get(c))
                {
                    users.insert(new, (user, since.max(op.end), by, epoch));
                }
            }
            _ => {}
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An operation on session cookie `c` over `[start, end]`, answered `status`.
    fn op(kind: Kind, c: &str, key: &str, span: (u64, u64), status: u16, body: &str) -> Op {
        Op {
            task: 0,
            slot: 0,
            kind,
            key: key.to_owned(),
            value: (kind == Kind::Set).then(|| body.to_owned()),
            cookie: Some(c.to_owned()),
            start: span.0,
            end: span.1,
            status: Some(status),
            error: None,
            hung: false,
            found: true,
            set_cookie: None,
            epoch: None,
            body: if kind == Kind::Set {
                String::new()
            } else {
                body.to_owned()
            },
        }
    }
    fn set(c: &str, span: (u64, u64), v: &str) -> Op {
        op(Kind::Set, c, "k", span, 200, v)
    }
    fn get(c: &str, span: (u64, u64), seen: Option<&str>) -> Op {
        op(
            Kind::Get,
            c,
            "k",
            span,
            if seen.is_some() { 200 } else { 404 },
            seen.unwrap_or(""),
        )
    }
    fn renew(from: &str, to: &str, span: (u64, u64)) -> Op {
        let mut o = op(Kind::Renew, from, "", span, 200, "");
        o.set_cookie = Some(CookieChange::Set(to.to_owned()));
        o
    }
    fn run(ops: &[Op]) -> Report {
        check(ops, &[], 0)
    }

    #[test]
    fn overlapping_writes_may_be_read_in_either_order() {
        let r = run(&[
            set("x", (0, 10), "a"),
            set("x", (5, 15), "b"),
            get("x", (20, 30), Some("a")),
        ]);
        assert!(r.is_ok(), "{:?}", r.violations);
        assert_eq!(r.acked_writes_checked, 2);
    }

    #[test]
    fn a_value_overwritten_before_the_read_began_is_a_lost_write() {
        let r = run(&[
            set("x", (0, 10), "a"),
            set("x", (11, 20), "b"),
            get("x", (21, 30), Some("a")),
        ]);
        assert_eq!(r.lost_writes, 1);
        assert!(
            r.violations[0].contains("task"),
            "prints the shrunk history"
        );
    }

    #[test]
    fn nothing_after_an_acknowledged_write_is_a_lost_write() {
        let r = run(&[set("x", (0, 10), "a"), get("x", (11, 20), None)]);
        assert_eq!(r.lost_writes, 1);
    }

    #[test]
    fn a_removal_explains_nothing() {
        let r = run(&[
            set("x", (0, 10), "a"),
            op(Kind::Remove, "x", "k", (5, 15), 200, ""),
            get("x", (20, 30), None),
        ]);
        assert!(r.is_ok(), "{:?}", r.violations);
    }

    #[test]
    fn a_value_from_the_future_or_another_session_is_caught() {
        assert_eq!(
            run(&[get("x", (0, 10), Some("a")), set("x", (11, 20), "a")]).lost_writes,
            1
        );
        assert_eq!(
            run(&[set("y", (0, 10), "a"), get("x", (11, 20), Some("a"))]).lost_writes,
            1
        );
    }

    #[test]
    fn renewal_carries_earlier_writes_but_may_drop_overlapping_ones() {
        let before = [
            set("x", (0, 10), "a"),
            renew("x", "y", (11, 20)),
            get("y", (21, 30), None),
        ];
        assert_eq!(run(&before).lost_writes, 1);
        let during = [
            set("x", (12, 18), "a"),
            renew("x", "y", (11, 20)),
            get("y", (21, 30), None),
        ];
        assert!(run(&during).is_ok());
    }

    #[test]
    fn a_purged_or_renewed_away_session_must_not_answer() {
        let mut purge = op(Kind::Purge, "x", "", (0, 10), 200, "");
        purge.set_cookie = Some(CookieChange::Remove);
        let r = run(&[purge, get("x", (11, 20), Some("a"))]);
        assert_eq!(r.resurrections, 1);
        let r = run(&[renew("x", "y", (0, 10)), get("x", (11, 20), None)]);
        assert_eq!(r.resurrections, 1, "found=true on the old id");
    }

    fn login(from: Option<&str>, to: &str, user: &str, span: (u64, u64)) -> Op {
        let mut o = op(Kind::Login, from.unwrap_or("-"), user, span, 200, "");
        o.cookie = from.map(str::to_owned);
        o.found = from.is_some();
        o.set_cookie = Some(CookieChange::Set(to.to_owned()));
        o
    }
    fn logout_everywhere(c: &str, user: &str, span: (u64, u64)) -> Op {
        let mut o = op(Kind::LogoutEverywhere, c, "", span, 200, user);
        o.set_cookie = Some(CookieChange::Remove);
        o
    }

    #[test]
    fn a_sign_in_renews_and_log_out_everywhere_ends_the_users_other_sessions() {
        // x signs in as u (to y), then renews (to z); w signs in as u; w logs out everywhere.
        let history = |after: Op| {
            vec![
                set("x", (0, 10), "a"),
                login(Some("x"), "y", "u", (11, 20)),
                renew("y", "z", (21, 30)),
                login(None, "w", "u", (31, 40)),
                logout_everywhere("w", "u", (41, 50)),
                after,
            ]
        };
        let mut gone = get("z", (51, 60), None);
        gone.found = false;
        let r = run(&history(gone));
        assert!(r.is_ok(), "{:?}", r.violations);
        let r = run(&history(get("z", (51, 60), Some("a"))));
        assert_eq!(r.resurrections, 1, "a renewed session of the user lived on");
        assert!(r.violations[0].contains("Login"), "{}", r.violations[0]);
        let r = run(&history(get("x", (51, 60), None)));
        assert_eq!(r.resurrections, 1, "found=true on the pre-sign-in id");
        // The sign-in carried x's data to y.
        let r = run(&[
            set("x", (0, 10), "a"),
            login(Some("x"), "y", "u", (11, 20)),
            get("y", (21, 30), None),
        ]);
        assert_eq!(r.lost_writes, 1);
    }

    /// Without epochs (a history whose server reports none), a sign-in or renewal racing a
    /// log-out-everywhere may survive it: its new id is listed after the move.
    #[test]
    fn without_epochs_a_sign_in_racing_log_out_everywhere_may_survive_it() {
        let racing = [
            login(None, "w", "u", (0, 10)),
            login(None, "y", "u", (15, 30)),
            logout_everywhere("w", "u", (20, 25)),
            get("y", (40, 50), None),
        ];
        assert!(run(&racing).is_ok(), "{:?}", run(&racing).violations);
        let renewing = [
            login(None, "w", "u", (0, 10)),
            login(None, "x", "u", (0, 10)),
            renew("x", "y", (15, 30)),
            logout_everywhere("w", "u", (20, 25)),
            get("y", (40, 50), None),
        ];
        assert!(run(&renewing).is_ok(), "{:?}", run(&renewing).violations);
        let mut other_user = racing.clone();
        other_user[1] = login(None, "y", "v", (0, 10));
        assert!(run(&other_user).is_ok());
        // Answering 404 (not signed in) on a session signed in before: the binding was lost.
        let mut forgot = logout_everywhere("w", "u", (20, 25));
        (forgot.status, forgot.set_cookie) = (Some(404), None);
        let r = run(&[login(None, "w", "u", (0, 10)), forgot]);
        assert_eq!(r.lost_writes, 1);
    }

    fn at(mut o: Op, epoch: u64) -> Op {
        o.epoch = Some(epoch);
        o
    }

    #[test]
    fn a_session_of_an_older_epoch_dies_with_log_out_everywhere_however_it_raced() {
        // w and x sign in as u under epoch 0; x renews to y while w logs out everywhere,
        // moving u to epoch 1. Without epochs the renewal may survive (listed too late).
        let renewing = |after: Op, epoch: u64| {
            vec![
                at(login(None, "w", "u", (0, 10)), 0),
                at(login(None, "x", "u", (0, 10)), 0),
                renew("x", "y", (15, 30)),
                at(logout_everywhere("w", "u", (20, 25)), epoch),
                after,
            ]
        };
        let mut gone = get("y", (40, 50), None);
        gone.found = false;
        assert!(run(&renewing(gone, 1)).is_ok());
        let r = run(&renewing(get("y", (40, 50), None), 1));
        assert_eq!(
            r.resurrections, 1,
            "the renewal carried epoch 0 past the move to 1"
        );
        assert!(r.violations[0].contains("Login"), "{}", r.violations[0]);
        // A sign-in that overlapped it survives only under the new epoch.
        let racing = |epoch| {
            vec![
                at(login(None, "w", "u", (0, 10)), 0),
                at(login(None, "y", "u", (15, 30)), epoch),
                at(logout_everywhere("w", "u", (20, 25)), 1),
                get("y", (40, 50), None),
            ]
        };
        assert!(run(&racing(1)).is_ok(), "{:?}", run(&racing(1)).violations);
        assert_eq!(run(&racing(0)).resurrections, 1);
        // Another user's epoch is not u's.
        let mut other = racing(0);
        other[1] = at(login(None, "y", "v", (15, 30)), 0);
        assert!(run(&other).is_ok());
    }

    #[test]
    fn errors_are_opaque_and_only_during_faults_and_wipes_end_sessions() {
        let failed = op(Kind::Get, "x", "k", (20, 30), 503, OPAQUE_503);
        let fault = Fault {
            name: "f".into(),
            start: 15,
            end: 40,
            loss: Loss::Everything,
        };
        let r = check(
            std::slice::from_ref(&failed),
            std::slice::from_ref(&fault),
            0,
        );
        assert!(r.is_ok(), "{:?}", r.violations);
        assert_eq!(check(&[failed], &[], 0).errors_outside_faults, 1);
        let leaky = op(
            Kind::Set,
            "x",
            "k",
            (20, 30),
            503,
            "redis: connection refused",
        );
        let misclassified = op(Kind::Set, "x", "k", (20, 30), 500, OPAQUE_500);
        for wrong in [leaky, misclassified] {
            assert_eq!(
                check(&[wrong], std::slice::from_ref(&fault), 0).errors_outside_faults,
                1
            );
        }
        let wiped = [set("x", (0, 10), "a"), get("x", (50, 60), Some("a"))];
        assert_eq!(check(&wiped, &[fault], 0).resurrections, 1);
    }
}

#[cfg(test)]
mod loss_tests {
    use super::*;

    #[test]
    fn a_failover_may_lose_only_recent_changes() {
        let mut w = Op {
            task: 0,
            slot: 0,
            kind: Kind::Set,
            key: "k".into(),
            value: Some("a".into()),
            cookie: Some("x".into()),
            start: 0,
            end: 10,
            status: Some(200),
            error: None,
            hung: false,
            found: true,
            set_cookie: None,
            epoch: None,
            body: String::new(),
        };
        let mut r = w.clone();
        (r.kind, r.value, r.status, r.start, r.end) = (Kind::Get, None, Some(404), 200, 210);
        let fault = |before| Fault {
            name: "f".into(),
            start: 100,
            end: 150,
            loss: Loss::Recent { before },
        };
        assert_eq!(
            check(&[w.clone(), r.clone()], &[fault(50)], 0).lost_writes,
            1,
            "too old to lose"
        );
        w.end = 60;
        let lost = check(&[w.clone(), r.clone()], &[fault(50)], 0);
        assert!(lost.is_ok(), "recent enough to lose");
        (w.start, w.end) = (160, 170);
        assert_eq!(
            check(&[w, r], &[fault(50)], 0).lost_writes,
            1,
            "after the fault: held"
        );
    }
}
