//! Signing (HMAC-SHA256) and encryption (AES-256-GCM) of cookie values, with key rotation: the
//! first key seals, every key opens.
//!
//! Each purpose has its own subkey (`crate::key`), so a value sealed for one purpose, or by the
//! app's own jars, opens for no other. Within a purpose the cookie's name is bound too: it is
//! MACed with the value, or is the AES-GCM associated data.
//!
//! Sealed values are URL-safe base64 (no padding): signed, the 43-character MAC then the plain
//! text as it is; encrypted, nonce ‖ ciphertext ‖ tag.

#[cfg(feature = "testing")]
use actix_web::cookie::Key;
use aes_gcm::{aead::AeadInPlace, Nonce, Tag};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::Mac;

use crate::key::{Protection, Purpose, SealKey, SealKeys};

const MAC_LEN: usize = 32;
/// Base64 characters of a MAC: 32 bytes without padding.
const MAC_B64_LEN: usize = 43;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Seals `plain` for `purpose` under the cookie `name` with `key`. The result is cookie-safe
/// text when `plain` is (encrypted results always are).
pub(crate) fn seal(purpose: Purpose, key: &SealKey, name: &str, plain: String) -> String {
    match key.mac(purpose, name) {
        Some(mut mac) => {
            mac.update(plain.as_bytes());
            let mut out = String::with_capacity(MAC_B64_LEN + plain.len());
            URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut out);
            out.push_str(&plain);
            out
        }
        None => {
            let mut data = vec![0u8; NONCE_LEN + plain.len() + TAG_LEN];
            let (nonce, rest) = data.split_at_mut(NONCE_LEN);
            let (body, tag) = rest.split_at_mut(plain.len());
            getrandom::fill(nonce).expect("the operating system's random source failed");
            body.copy_from_slice(plain.as_bytes());
            let sealed_tag = key
                .cipher()
                .encrypt_in_place_detached(Nonce::from_slice(nonce), name.as_bytes(), body)
                .expect("a cookie is far below AES-GCM's message size limit");
            tag.copy_from_slice(&sealed_tag);
            URL_SAFE_NO_PAD.encode(data)
        }
    }
}

/// Opens a value sealed for `purpose` with the first of `keys` that authenticates it; returns
/// the plain text and whether a key other than the current one was needed (so it should be
/// re-sealed).
pub(crate) fn open(
    purpose: Purpose,
    keys: &SealKeys,
    name: &str,
    sealed: &str,
) -> Option<(String, bool)> {
    let mut keys = keys.iter().enumerate();
    if let Purpose::CookieStore(Protection::Encrypted) = purpose {
        let data = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        return keys.find_map(|(i, key)| Some((decrypt(key, name, &data)?, i > 0)));
    }
    let (mac_text, plain) = sealed.split_at_checked(MAC_B64_LEN)?;
    let mut given = [0u8; MAC_LEN + 1];
    if URL_SAFE_NO_PAD.decode_slice(mac_text, &mut given).ok()? != MAC_LEN {
        return None;
    }
    keys.find_map(|(i, key)| {
        let mut mac = key.mac(purpose, name)?;
        mac.update(plain.as_bytes());
        // Constant time: timing says nothing about how much of a forged MAC was right.
        mac.verify_slice(&given[..MAC_LEN]).ok()?;
        Some((plain.to_owned(), i > 0))
    })
}

/// Decrypts nonce ‖ ciphertext ‖ tag, authenticating `name` with it.
fn decrypt(key: &SealKey, name: &str, data: &[u8]) -> Option<String> {
    let (nonce, rest) = data.split_at_checked(NONCE_LEN)?;
    let (body, tag) = rest.split_at_checked(rest.len().checked_sub(TAG_LEN)?)?;
    let mut plain = body.to_vec();
    key.cipher()
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            name.as_bytes(),
            &mut plain,
            Tag::from_slice(tag),
        )
        .ok()?;
    String::from_utf8(plain).ok()
}

/// Seals `plain` (`{id}.{created}.{ttl}`) exactly as the middleware seals a server-side
/// session's cookie named `name`: for tests that need a cookie that passes the signature check
/// yet carries a hostile id. Not public API.
#[cfg(feature = "testing")]
pub fn seal_server_cookie(key: &Key, name: &str, plain: String) -> String {
    seal(Purpose::ServerCookie, &SealKey::new(key), name, plain)
}

#[cfg(test)]
mod tests {
    use actix_web::cookie::{Cookie, CookieJar, Key};

    use super::*;

    const PURPOSES: [Purpose; 3] = [
        Purpose::ServerCookie,
        Purpose::CookieStore(Protection::Signed),
        Purpose::CookieStore(Protection::Encrypted),
    ];

    fn keys(keys: &[&Key]) -> SealKeys {
        let mut all = SealKeys::new(keys[0]);
        all.extend(keys[1..].iter().map(|&k| k.clone()));
        all
    }

    #[test]
    fn round_trips_and_rotates() {
        let old = Key::generate();
        let new = Key::generate();
        for p in PURPOSES {
            let sealed = seal(p, &SealKey::new(&old), "s", "hello".into());
            assert_eq!(
                open(p, &keys(&[&old]), "s", &sealed),
                Some(("hello".into(), false))
            );
            assert_eq!(
                open(p, &keys(&[&new, &old]), "s", &sealed),
                Some(("hello".into(), true)),
                "{p:?}: a previous key opens, and says so"
            );
            assert_eq!(open(p, &keys(&[&new]), "s", &sealed), None);
            assert_eq!(
                open(
                    p,
                    &keys(&[&old]),
                    "s",
                    &seal(p, &SealKey::new(&old), "s", "".into())
                ),
                Some((String::new(), false)),
                "{p:?}: empty plain text"
            );
        }
    }

    #[test]
    fn sealed_values_are_cookie_safe_base64() {
        let key = SealKey::new(&Key::generate());
        for p in PURPOSES {
            let sealed = seal(p, &key, "s", "a.b-c_d".into());
            assert!(
                sealed
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
                "{p:?}: {sealed}"
            );
        }
    }

    #[test]
    fn refuses_tampering_and_purpose_swaps() {
        let key = Key::generate();
        let keys = keys(&[&key]);
        for sealed_for in PURPOSES {
            let sealed = seal(sealed_for, keys.current(), "s", "hello".into());
            for other in PURPOSES.into_iter().filter(|&p| p != sealed_for) {
                assert_eq!(
                    open(other, &keys, "s", &sealed),
                    None,
                    "sealed for {sealed_for:?}, opened as {other:?}"
                );
            }
            for i in 0..sealed.len() {
                let mut bytes = sealed.clone().into_bytes();
                bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                let tampered = String::from_utf8(bytes).unwrap();
                for p in PURPOSES {
                    assert_eq!(open(p, &keys, "s", &tampered), None, "byte {i} of {sealed}");
                }
            }
            assert_eq!(
                open(sealed_for, &keys, "s", &sealed[..sealed.len() - 1]),
                None
            );
        }
    }

    #[test]
    fn the_cookie_name_is_bound() {
        let key = Key::generate();
        let keys = keys(&[&key]);
        for p in PURPOSES {
            let sealed = seal(p, keys.current(), "session", "hello".into());
            assert_eq!(open(p, &keys, "lang", &sealed), None, "{p:?}");
            // Name and value cannot be re-split: ("ab", "c…") is not ("a", "bc…").
            let sealed = seal(p, keys.current(), "ab", "chello".into());
            let moved = match p {
                Purpose::CookieStore(Protection::Encrypted) => sealed.clone(),
                _ => format!("{}b{}", &sealed[..MAC_B64_LEN], &sealed[MAC_B64_LEN..]),
            };
            assert_eq!(open(p, &keys, "a", &moved), None, "{p:?}");
        }
    }

    /// What an application seals with the same `Key` through the `cookie` crate's jars, under
    /// any name, opens for no purpose of ours.
    #[test]
    fn the_apps_own_signed_and_private_cookies_open_nothing() {
        let key = Key::generate();
        let keys = keys(&[&key]);
        let mut jar = CookieJar::new();
        jar.signed_mut(&key).add(Cookie::new("session", "hello"));
        jar.private_mut(&key).add(Cookie::new("private", "hello"));
        for theirs in [jar.get("session").unwrap(), jar.get("private").unwrap()] {
            for p in PURPOSES {
                assert_eq!(open(p, &keys, "session", theirs.value()), None, "{p:?}");
                assert_eq!(open(p, &keys, theirs.name(), theirs.value()), None, "{p:?}");
            }
        }
    }

    #[test]
    fn a_key_list_never_loses_its_current_key() {
        let key = Key::generate();
        let mut all = keys(&[&key, &Key::generate()]);
        all.truncate(0);
        assert_eq!(all.len(), 1);
        let sealed = seal(Purpose::ServerCookie, &SealKey::new(&key), "s", "x".into());
        assert!(open(Purpose::ServerCookie, &all, "s", &sealed).is_some());
    }
}
