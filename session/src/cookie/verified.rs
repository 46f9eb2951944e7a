//! The verified-cookie memory: each distinct server-side cookie is verified once.

use crate::cookie::Incoming;

/// How many verified server-side cookies a middleware remembers by default.
pub(crate) const DEFAULT_VERIFIED_COOKIES: usize = 4096;

/// A browser sends the same server-side cookie with every request of a session, and that
/// cookie's text only ever verifies to the same id, creation time and TTL under the same keys.
/// So each distinct cookie is verified once and its result remembered (bounded, coldest
/// forgotten first); later requests pay a lookup instead of an HMAC. Only authentic cookies are
/// remembered, the maximum lifetime is still checked on every request, and the lookup compares
/// cookie texts in constant time, so timing tells nothing about remembered cookies. A capacity
/// of 0 turns it off (`None`).
pub(crate) struct VerifiedCookies(Option<quick_cache::sync::Cache<CookieText, Incoming>>);

impl VerifiedCookies {
    pub(crate) fn new(capacity: usize) -> Self {
        Self((capacity > 0).then(|| quick_cache::sync::Cache::new(capacity)))
    }

    pub(crate) fn get(&self, cookie: &str) -> Option<Incoming> {
        self.0.as_ref()?.get(&Presented(cookie))
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.as_ref().map_or(0, quick_cache::sync::Cache::len)
    }

    pub(crate) fn remember(&self, cookie: &str, incoming: Incoming) {
        if let Some(cache) = &self.0 {
            cache.insert(CookieText(cookie.to_owned()), incoming);
        }
    }
}

/// A remembered cookie's text.
struct CookieText(String);

/// A presented cookie's text, looked up without a copy.
struct Presented<'a>(&'a str);

/// Equal texts, compared in time that depends only on their lengths (which are public): eight
/// bytes at a time through `subtle`, whose per-element comparison is the expensive part.
fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let word = |chunk: &[u8]| {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        u64::from_le_bytes(word)
    };
    let mut equal = subtle::Choice::from(1);
    for (x, y) in a.chunks(8).zip(b.chunks(8)) {
        equal &= word(x).ct_eq(&word(y));
    }
    bool::from(equal)
}

impl PartialEq for CookieText {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for CookieText {}

impl std::hash::Hash for CookieText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_str().hash(state);
    }
}

impl std::hash::Hash for Presented<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl quick_cache::Equivalent<CookieText> for Presented<'_> {
    fn equivalent(&self, key: &CookieText) -> bool {
        constant_time_eq(self.0, &key.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_equality() {
        let base = "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFGHIJK";
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(constant_time_eq(a, a));
            assert!(!constant_time_eq(a, &base[..len + 1]));
            for at in 0..len {
                let mut other = a.as_bytes().to_vec();
                other[at] ^= 1;
                assert!(!constant_time_eq(a, std::str::from_utf8(&other).unwrap()));
            }
        }
    }

    #[test]
    fn a_capacity_of_zero_remembers_nothing() {
        let id = crate::SessionId::generate();
        let incoming = Incoming::Id {
            id,
            meta: crate::cookie::Meta::from_parts(1, 60).unwrap(),
            stale_key: false,
        };
        let off = VerifiedCookies::new(0);
        off.remember("cookie", incoming.clone());
        assert!(off.get("cookie").is_none());
        assert_eq!(off.len(), 0);
        let on = VerifiedCookies::new(16);
        on.remember("cookie", incoming);
        assert!(on.get("cookie").is_some());
    }
}
