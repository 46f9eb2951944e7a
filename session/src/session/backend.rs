//! What a middleware and every session handle it makes share.

use std::{fmt, sync::Arc};

use crate::{config::Config, store::DynStore, ActixSessionImport};

/// Where sessions live, as the middleware sees it.
pub(crate) enum Storage {
    /// Server-side: the cookie carries a signed id.
    Server(Arc<dyn DynStore>),
    /// Client-side: the cookie carries the sealed session.
    Cookie(Arc<crate::store::CookieStore>),
}

/// Everything a middleware and its session handles share: the settings and the store.
pub(crate) struct Backend {
    pub(crate) config: Config,
    pub(crate) storage: Storage,
    /// The actix-session bridge, when configured.
    pub(crate) import: Option<ActixSessionImport>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let storage = match &self.storage {
            Storage::Server(_) => "server",
            Storage::Cookie(_) => "cookie",
        };
        f.debug_struct("Backend")
            .field("config", &self.config)
            .field("storage", &storage)
            .field("import", &self.import)
            .finish()
    }
}
