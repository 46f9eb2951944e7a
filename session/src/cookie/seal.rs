//! Signing and encryption of cookie values with the `cookie` crate's signed (HMAC-SHA256) and
//! private (AES-256-GCM) jars, with key rotation: the first key seals, every key opens.

use actix_web::cookie::{Cookie, CookieJar, Key};

/// How a cookie value is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    Signed,
    Encrypted,
}

/// Seals `plain` under the cookie `name` with `key`. The result is cookie-safe text.
pub(crate) fn seal(protection: Protection, key: &Key, name: &str, plain: String) -> String {
    let mut jar = CookieJar::new();
    let cookie = Cookie::new(name.to_owned(), plain);
    match protection {
        Protection::Signed => jar.signed_mut(key).add(cookie),
        Protection::Encrypted => jar.private_mut(key).add(cookie),
    }
    jar.get(name)
        .map(|c| c.value().to_owned())
        .expect("a cookie just added to a jar is in it")
}

/// Opens a sealed value with the first of `keys` that authenticates it; returns the plain text
/// and whether a key other than the current one was needed (so it should be re-sealed).
pub(crate) fn open(
    protection: Protection,
    keys: &[Key],
    name: &str,
    sealed: &str,
) -> Option<(String, bool)> {
    // `verify`/`decrypt` on an empty jar: no insertion into it, no lookup, no copy kept.
    let jar = CookieJar::new();
    keys.iter().enumerate().find_map(|(i, key)| {
        let cookie = Cookie::new(name.to_owned(), sealed.to_owned());
        let opened = match protection {
            Protection::Signed => jar.signed(key).verify(cookie),
            Protection::Encrypted => jar.private(key).decrypt(cookie),
        };
        opened.map(|c| (c.value().to_owned(), i > 0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rotates() {
        let old = Key::generate();
        let new = Key::generate();
        for p in [Protection::Signed, Protection::Encrypted] {
            let sealed = seal(p, &old, "s", "hello".into());
            assert_eq!(
                open(p, std::slice::from_ref(&old), "s", &sealed),
                Some(("hello".into(), false))
            );
            assert_eq!(
                open(p, &[new.clone(), old.clone()], "s", &sealed),
                Some(("hello".into(), true))
            );
            assert_eq!(open(p, std::slice::from_ref(&new), "s", &sealed), None);
        }
    }

    #[test]
    fn refuses_tampering_and_mode_swaps() {
        let key = Key::generate();
        let signed = seal(Protection::Signed, &key, "s", "hello".into());
        let encrypted = seal(Protection::Encrypted, &key, "s", "hello".into());
        let keys = [key];
        assert_eq!(open(Protection::Encrypted, &keys, "s", &signed), None);
        assert_eq!(open(Protection::Signed, &keys, "s", &encrypted), None);
        for sealed in [&signed, &encrypted] {
            for i in 0..sealed.len() {
                let mut bytes = sealed.clone().into_bytes();
                bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                let tampered = String::from_utf8(bytes).unwrap();
                for p in [Protection::Signed, Protection::Encrypted] {
                    assert_eq!(open(p, &keys, "s", &tampered), None, "byte {i} of {sealed}");
                }
            }
            assert_eq!(
                open(Protection::Signed, &keys, "s", &sealed[..sealed.len() - 1]),
                None
            );
        }
    }
}
