//! The derive macro behind `session`'s typed sessions. Use it through `session::SessionData`.
