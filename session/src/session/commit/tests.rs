//! The commit plan, row by row.

use super::*;
use crate::{cookie::CookieFacts, session::state::Loaded, store::USER_KEY};

/// One row of the commit table: a request's state and cookie, and the plan they must give.
struct Case {
    name: &'static str,
    cookie: Presented,
    setup: fn(&mut SessionState, &SessionId),
    config: fn(&mut Config),
    expect: fn(&SessionId, &SessionId) -> ServerAction,
}

#[derive(Clone, Copy)]
enum Presented {
    Nothing,
    Rejected,
    Verified { stale_key: bool },
}

const NOW: u64 = 1_000_000;
const COOKIE_META: Meta = Meta {
    created: NOW - 50,
    ttl: Duration::from_secs(7200),
    own_ttl: false,
};

fn loaded(state: &mut SessionState, exists: bool) {
    state.accessed = true;
    state.exists = Some(exists);
    state.loaded = Loaded::All;
    if exists {
        state.entries.insert("k".into(), "1".into());
    }
}

fn upsert(state: &mut SessionState, key: &str, value: &str) {
    state.put_loaded(key.into(), value.into());
    state.changes.insert(key.into());
}

fn server_cases() -> Vec<Case> {
    let keep: fn(&mut Config) = |_| {};
    vec![
        Case {
            name: "untouched, no cookie",
            cookie: Presented::Nothing,
            setup: |_, _| {},
            config: keep,
            expect: |_, _| ServerAction::Nothing,
        },
        Case {
            name: "first write creates",
            cookie: Presented::Nothing,
            setup: |s, _| {
                loaded(s, false);
                upsert(s, "a", "1");
            },
            config: keep,
            expect: |_, _| ServerAction::Create {
                changes: ChangeSet::create().upsert("a", "1"),
            },
        },
        Case {
            name: "a removal alone creates nothing",
            cookie: Presented::Nothing,
            setup: |s, _| {
                loaded(s, false);
                s.changes.insert("a".into());
            },
            config: keep,
            expect: |_, _| ServerAction::Nothing,
        },
        Case {
            name: "a change to a live session saves only the change",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| {
                loaded(s, true);
                upsert(s, "a", "2");
            },
            config: keep,
            expect: |id, _| ServerAction::Save {
                id: id.clone(),
                changes: ChangeSet::update().upsert("a", "2"),
            },
        },
        Case {
            name: "a change without a load saves too",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| upsert(s, "a", "2"),
            config: keep,
            expect: |id, _| ServerAction::Save {
                id: id.clone(),
                changes: ChangeSet::update().upsert("a", "2"),
            },
        },
        Case {
            name: "a change to a vanished session creates a new one",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| {
                loaded(s, false);
                upsert(s, "a", "2");
            },
            config: keep,
            expect: |_, _| ServerAction::Create {
                changes: ChangeSet::create().upsert("a", "2"),
            },
        },
        Case {
            name: "purge deletes",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| {
                loaded(s, true);
                s.purged = true;
            },
            config: keep,
            expect: |id, _| ServerAction::Purge {
                old: Some(id.clone()),
                fresh: None,
            },
        },
        Case {
            name: "purge then insert starts a new session",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| {
                loaded(s, true);
                s.entries.clear();
                s.purged = true;
                upsert(s, "flash", "\"bye\"");
            },
            config: keep,
            expect: |id, _| ServerAction::Purge {
                old: Some(id.clone()),
                fresh: Some(ChangeSet::create().upsert("flash", "\"bye\"")),
            },
        },
        Case {
            name: "renew moves the whole session",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, new| {
                loaded(s, true);
                s.renewed_to = Some(new.clone());
            },
            config: keep,
            expect: |id, new| ServerAction::Renew {
                old: Some(id.clone()),
                new: new.clone(),
                changes: ChangeSet::create().upsert("k", "1"),
            },
        },
        Case {
            name: "renew of a vanished session has nothing to move from",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, new| {
                loaded(s, false);
                s.renewed_to = Some(new.clone());
            },
            config: keep,
            expect: |_, new| ServerAction::Renew {
                old: None,
                new: new.clone(),
                changes: ChangeSet::create(),
            },
        },
        Case {
            name: "a read refreshes nothing on update",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| loaded(s, true),
            config: keep,
            expect: |_, _| ServerAction::Nothing,
        },
        Case {
            name: "a read refreshes on access",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| loaded(s, true),
            config: |c| c.refresh = TtlRefresh::OnAccess,
            expect: |id, _| ServerAction::Refresh { id: id.clone() },
        },
        Case {
            name: "a refreshing load leaves only the cookie to re-issue",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| {
                loaded(s, true);
                s.refreshed = true;
            },
            config: |c| c.refresh = TtlRefresh::OnAccess,
            expect: |id, _| ServerAction::Reissue { id: id.clone() },
        },
        Case {
            name: "every request refreshes without a load",
            cookie: Presented::Verified { stale_key: false },
            setup: |_, _| {},
            config: |c| c.refresh = TtlRefresh::OnEveryRequest,
            expect: |id, _| ServerAction::Refresh { id: id.clone() },
        },
        Case {
            name: "a read under a previous key re-seals",
            cookie: Presented::Verified { stale_key: true },
            setup: |s, _| loaded(s, true),
            config: keep,
            expect: |id, _| ServerAction::Reseal { id: id.clone() },
        },
        Case {
            name: "a vanished session under a previous key is not re-sealed",
            cookie: Presented::Verified { stale_key: true },
            setup: |s, _| loaded(s, false),
            config: keep,
            expect: |_, _| ServerAction::Nothing,
        },
        Case {
            name: "a rejected cookie is removed",
            cookie: Presented::Rejected,
            setup: |s, _| loaded(s, false),
            config: keep,
            expect: |_, _| ServerAction::Reject,
        },
        Case {
            name: "a rejected cookie is replaced by a write",
            cookie: Presented::Rejected,
            setup: |s, _| {
                loaded(s, false);
                upsert(s, "a", "1");
            },
            config: keep,
            expect: |_, _| ServerAction::Create {
                changes: ChangeSet::create().upsert("a", "1"),
            },
        },
        Case {
            name: "a vanished session's cookie is never removed",
            cookie: Presented::Verified { stale_key: false },
            setup: |s, _| loaded(s, false),
            config: keep,
            expect: |_, _| ServerAction::Nothing,
        },
    ]
}

fn incoming(presented: Presented, id: &SessionId) -> (Option<Incoming>, RequestCookie<'_>) {
    let incoming = match presented {
        Presented::Verified { stale_key } => Some(Incoming::Id {
            id: id.clone(),
            meta: COOKIE_META,
            stale_key,
        }),
        _ => None,
    };
    let cookie = RequestCookie {
        presented: !matches!(presented, Presented::Nothing),
        verified: Some(None),
    };
    (incoming, cookie)
}

#[test]
fn the_commit_plan_is_the_least_each_request_needs() {
    let id = SessionId::generate();
    let new = SessionId::generate();
    for case in server_cases() {
        let mut state = SessionState::new(NOW);
        (case.setup)(&mut state, &new);
        let mut config = Config::new(actix_web::cookie::Key::generate());
        (case.config)(&mut config);
        let (incoming, mut cookie) = incoming(case.cookie, &id);
        cookie.verified = Some(incoming.as_ref());
        let plan = plan_server(&state, cookie, &config, NOW);
        assert_eq!(plan.action, (case.expect)(&id, &new), "{}", case.name);
    }
}

#[test]
fn the_commit_plan_carries_the_right_lifetime_facts() {
    let id = SessionId::generate();
    let (incoming, mut cookie) = incoming(Presented::Verified { stale_key: false }, &id);
    cookie.verified = Some(incoming.as_ref());
    let mut config = Config::new(actix_web::cookie::Key::generate());
    config.ttl = Duration::from_secs(3600);
    config.max_lifetime = Some(Duration::from_secs(100));
    let plan_of = |setup: fn(&mut SessionState)| {
        let mut state = SessionState::new(NOW);
        setup(&mut state);
        plan_server(&state, cookie, &config, NOW)
    };

    let live = plan_of(|s| {
        loaded(s, true);
        upsert(s, "a", "1");
    });
    assert_eq!(
        live.meta, COOKIE_META,
        "a live session keeps its cookie's facts"
    );
    assert_eq!(
        live.ttl,
        Duration::from_secs(50),
        "capped by the lifetime left"
    );
    assert!(!live.resend);

    let fresh = plan_of(|s| {
        loaded(s, false);
        upsert(s, "a", "1");
    });
    assert_eq!(
        (fresh.meta.created, fresh.meta.ttl, fresh.ttl),
        (NOW, Duration::from_secs(3600), Duration::from_secs(100)),
        "a fresh session has its own age, the configured TTL and a whole lifetime"
    );

    let purged = plan_of(|s| {
        loaded(s, true);
        s.purged = true;
        upsert(s, "a", "1");
    });
    assert_eq!(purged.meta.created, NOW, "purge then insert starts afresh");

    let restarted = plan_of(|s| {
        loaded(s, true);
        s.restarted = true;
        s.cleared = true;
        s.renewed_to = Some(SessionId::generate());
        upsert(s, "a", "1");
    });
    assert_eq!(
        (restarted.meta.created, restarted.meta.ttl, restarted.ttl),
        (NOW, Duration::from_secs(3600), Duration::from_secs(100)),
        "a sign-in over another user's session inherits nothing of it"
    );
    assert!(!restarted.meta.own_ttl);

    let remembered = plan_of(|s| {
        loaded(s, true);
        s.ttl_set = Some(Duration::from_secs(30 * 86_400));
    });
    assert_eq!(remembered.meta.ttl, Duration::from_secs(30 * 86_400));
    assert_eq!(remembered.ttl, Duration::from_secs(50), "still capped");
    assert!(remembered.resend, "a new TTL re-sends the cookie");
}

#[test]
fn a_renewal_of_a_signed_in_session_lists_its_new_id_in_the_plan() {
    let id = SessionId::generate();
    let (incoming, mut cookie) = incoming(Presented::Verified { stale_key: false }, &id);
    cookie.verified = Some(incoming.as_ref());
    let mut config = Config::new(actix_web::cookie::Key::generate());
    config.max_sessions_per_user = Some(7);
    let plan_of = |setup: fn(&mut SessionState)| {
        let mut state = SessionState::new(NOW);
        loaded(&mut state, true);
        setup(&mut state);
        plan_server(&state, cookie, &config, NOW)
    };
    let sign_in = plan_of(|s| {
        upsert(s, USER_KEY, r#"{"user":"ada","at":1,"ttl":60}"#);
        s.signing_in = Some("ada".into());
        s.renewed_to = Some(SessionId::generate());
    });
    assert!(matches!(sign_in.action, ServerAction::Renew { .. }));
    let listing = |user: &str, sign_in, cap| {
        Some(Listing {
            user: user.into(),
            sign_in,
            cap,
        })
    };
    assert_eq!(
        sign_in.listing,
        listing("ada", true, Some(7)),
        "listed, then capped"
    );

    let renewal = plan_of(|s| {
        upsert(s, USER_KEY, r#"{"user":"ada","at":1,"ttl":60}"#);
        s.changes.clear();
        s.renewed_to = Some(SessionId::generate());
    });
    assert_eq!(
        renewal.listing,
        listing("ada", false, None),
        "listed, not capped"
    );

    for (name, setup) in [
        (
            "an anonymous renewal",
            (|s| s.renewed_to = Some(SessionId::generate())) as fn(&mut SessionState),
        ),
        ("a signed-in session's save", |s| {
            upsert(s, USER_KEY, r#"{"user":"ada","at":1,"ttl":60}"#);
        }),
        ("a sign-in purged afterwards", |s| {
            upsert(s, USER_KEY, r#"{"user":"ada","at":1,"ttl":60}"#);
            s.signing_in = Some("ada".into());
            s.purged = true;
        }),
    ] {
        assert_eq!(plan_of(setup).listing, None, "{name}");
    }
}

#[test]
fn the_cookie_store_plan_seals_removes_or_keeps() {
    let config = Config::new(actix_web::cookie::Key::generate());
    let sealed = Incoming::Sealed;
    let facts = |stale_key| CookieFacts {
        meta: COOKIE_META,
        stale_key,
    };
    let with_cookie = RequestCookie {
        presented: true,
        verified: Some(Some(&sealed)),
    };
    let without = RequestCookie {
        presented: false,
        verified: Some(None),
    };
    let seal = CookiePlan::Seal {
        meta: COOKIE_META,
        ttl: COOKIE_META.ttl,
    };
    type Setup = fn(&mut SessionState, CookieFacts, CookieFacts);
    let cases: [(&str, RequestCookie<'_>, Setup, CookiePlan); 7] = [
        ("untouched", with_cookie, |_, _, _| {}, CookiePlan::Keep),
        (
            "a read",
            with_cookie,
            |s, f, _| {
                loaded(s, true);
                s.sealed = Some(f);
            },
            CookiePlan::Keep,
        ),
        (
            "a change",
            with_cookie,
            |s, f, _| {
                loaded(s, true);
                s.sealed = Some(f);
                upsert(s, "a", "1");
            },
            seal,
        ),
        (
            "a read under a previous key",
            with_cookie,
            |s, _, stale| {
                loaded(s, true);
                s.sealed = Some(stale);
            },
            seal,
        ),
        (
            "a purge",
            with_cookie,
            |s, f, _| {
                loaded(s, true);
                s.sealed = Some(f);
                s.purged = true;
            },
            CookiePlan::Remove,
        ),
        (
            "a cookie that did not open",
            with_cookie,
            |s, _, _| loaded(s, false),
            CookiePlan::Remove,
        ),
        (
            "a read without a cookie",
            without,
            |s, _, _| loaded(s, false),
            CookiePlan::Keep,
        ),
    ];
    for (name, cookie, setup, expect) in cases {
        let mut state = SessionState::new(NOW);
        setup(&mut state, facts(false), facts(true));
        assert_eq!(plan_cookie(&state, cookie, &config, NOW), expect, "{name}");
    }
}
