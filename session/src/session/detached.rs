//! Sessions outside any middleware: for examples, unit tests, and requests that never went
//! through [`SessionMiddleware`](crate::SessionMiddleware).

use std::sync::Arc;

use actix_web::cookie::Key;

use super::{state::Loaded, Backend, Session, Storage};
use crate::{
    config::Config,
    cookie::Tokens,
    store::{Entries, MemoryStore},
    transport::Carrier,
};

impl Session {
    /// Creates a working, empty session of its own, in memory and outside any request: reads and
    /// writes work at once (no [`load`](Self::load) needed, though it succeeds), and nothing is
    /// saved anywhere. Use it in examples and in unit tests of code that takes a `Session`;
    /// [`SessionExt::get_session`](crate::SessionExt::get_session) gives one to a request that did
    /// not pass through [`SessionMiddleware`](crate::SessionMiddleware).
    ///
    /// ```
    /// use actix_typed_session::{Session, SessionStatus};
    ///
    /// let session = Session::detached();
    /// assert_eq!(session.get::<u64>("user_id").unwrap(), None);
    /// session.insert("user_id", 42u64).unwrap();
    /// assert_eq!(session.get::<u64>("user_id").unwrap(), Some(42));
    /// assert_eq!(session.status(), SessionStatus::Changed);
    /// ```
    #[must_use]
    pub fn detached() -> Self {
        Self::fixture(Entries::new(), false)
    }

    /// A loaded session holding `entries`, with a throwaway backend: loads succeed (there is
    /// nothing more to load) and changes are only recorded. `stored` says whether it counts as
    /// a session its store holds (one with an id) or as a new one.
    pub(crate) fn fixture(entries: Entries, stored: bool) -> Self {
        let backend = Backend {
            config: Config::new(Key::generate()),
            storage: Storage::Server(Arc::new(MemoryStore::new())),
            import: None,
        };
        let session = Self::new(
            Some(Arc::new(backend)),
            Tokens::default(),
            Carrier::Cookie,
            Tokens::default(),
        );
        {
            let mut state = session.state();
            for (key, value) in entries {
                state.put_loaded(key, value.into());
            }
            state.loaded = Loaded::All;
            state.exists = Some(stored);
            // Already loaded, as far as guards and the refresh policy can tell.
            state.accessed = true;
        }
        session
    }
}
