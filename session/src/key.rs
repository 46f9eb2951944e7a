//! The application's key: loaded from the environment (with a clear error instead of
//! `Key::from`'s panic), and derived into one subkey per purpose.
//!
//! Applications use their `Key` for their own signed and private cookies too, so a value sealed
//! by `cookie::seal` must never be something the `cookie` crate's jars could produce for the app
//! (its signed jar MACs the value alone, whatever the cookie's name). Each key is therefore only
//! the input of HKDF-SHA256, which derives one subkey per purpose: the server-side session's id
//! cookie, the signed cookie store and the encrypted cookie store.

use actix_web::cookie::Key;
use aes_gcm::{aead::KeyInit, Aes256Gcm};
use base64::{
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
    Engine as _,
};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of key material [`Key::from`] needs (it panics on fewer).
const KEY_BYTES: usize = 64;

/// Loads the session key from the environment variable `var`: 64 bytes, written as 128 hex digits
/// or as base64 (standard or URL-safe, padded or not). Surrounding whitespace is ignored (a
/// trailing newline from a secrets file). Make one with `openssl rand -base64 64`.
///
/// Keep the key secret and the same across restarts and across every process of the app:
/// a new key signs everyone out. To retire a key, pass the old one to
/// [`previous_keys`](crate::SessionMiddlewareBuilder::previous_keys).
///
/// ```
/// use actix_typed_session::{key_from_env, store::MemoryStore, KeyError, SessionMiddleware};
///
/// // In production the variable comes from your secrets manager.
/// std::env::set_var("SESSION_KEY", "ab".repeat(64));
/// let key = key_from_env("SESSION_KEY").expect("SESSION_KEY: 64 bytes, hex or base64");
/// let middleware = SessionMiddleware::new(MemoryStore::new(), key);
///
/// std::env::set_var("SHORT_KEY", "ab".repeat(32));
/// assert!(matches!(
///     key_from_env("SHORT_KEY"),
///     Err(KeyError::WrongLength { len: 32, .. })
/// ));
/// assert!(matches!(key_from_env("NO_SUCH_KEY"), Err(KeyError::Absent { .. })));
/// ```
///
/// # Errors
/// [`KeyError::Absent`] when `var` is unset or empty, [`KeyError::Undecodable`] when it is
/// neither hex nor base64 (or not Unicode), [`KeyError::WrongLength`] when it decodes to other
/// than 64 bytes. No error quotes the value.
pub fn key_from_env(var: &str) -> Result<Key, KeyError> {
    let value = match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => value,
        Ok(_) | Err(std::env::VarError::NotPresent) => {
            return Err(KeyError::Absent { var: var.into() })
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(KeyError::Undecodable { var: var.into() })
        }
    };
    let bytes = decode(value.trim()).ok_or_else(|| KeyError::Undecodable { var: var.into() })?;
    if bytes.len() != KEY_BYTES {
        return Err(KeyError::WrongLength {
            var: var.into(),
            len: bytes.len(),
        });
    }
    Ok(Key::from(&bytes))
}

/// Hex when the text is all hex digits of an even count, else base64 in any common alphabet.
/// (No 64-byte base64 text is 128 characters long, so a key is never read both ways.)
fn decode(text: &str) -> Option<Vec<u8>> {
    if text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
            .collect();
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// [`key_from_env`] could not load the key. The messages name the variable and what is wrong,
/// never the value.
///
/// ```
/// let err = actix_typed_session::key_from_env("UNSET_SESSION_KEY").err().unwrap();
/// assert_eq!(
///     err.to_string(),
///     "the environment variable UNSET_SESSION_KEY is not set: give it 64 random bytes as hex or base64 (`openssl rand -base64 64`)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The variable is unset or empty.
    #[error("the environment variable {var} is not set: give it 64 random bytes as hex or base64 (`openssl rand -base64 64`)")]
    Absent {
        /// The variable's name.
        var: String,
    },
    /// The value is neither hex nor base64.
    #[error("the environment variable {var} is neither hex nor base64")]
    Undecodable {
        /// The variable's name.
        var: String,
    },
    /// The value decodes to other than 64 bytes.
    #[error("the environment variable {var} holds {len} bytes; a session key is 64")]
    WrongLength {
        /// The variable's name.
        var: String,
        /// How many bytes it decodes to.
        len: usize,
    },
}

/// How a cookie-store session is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    Signed,
    Encrypted,
}

/// What a sealed value is for. Each purpose has its own subkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// The signed id cookie of a server-side session.
    ServerCookie,
    /// A whole session in the cookie ([`crate::store::CookieStore`]).
    CookieStore(Protection),
}

/// HKDF labels; changing one invalidates every cookie sealed for that purpose.
const SERVER_COOKIE_INFO: &[u8] = b"session 1: server-side session cookie (HMAC-SHA256)";
const SIGNED_STORE_INFO: &[u8] = b"session 1: signed cookie store (HMAC-SHA256)";
const ENCRYPTED_STORE_INFO: &[u8] = b"session 1: encrypted cookie store (AES-256-GCM)";

/// The subkeys of one application `Key`, derived once (at configuration time) so that sealing
/// and opening cost no key derivation or key schedule: the HMAC states have absorbed their key
/// block, and the AES round keys are expanded.
#[derive(Clone)]
pub(crate) struct SealKey {
    server_cookie: Hmac<Sha256>,
    signed_store: Hmac<Sha256>,
    encrypted_store: Aes256Gcm,
}

impl SealKey {
    pub(crate) fn new(key: &Key) -> Self {
        let hkdf = Hkdf::<Sha256>::new(None, key.master());
        let subkey = |info: &[u8]| {
            let mut okm = [0u8; 32];
            hkdf.expand(info, &mut okm)
                .expect("32 bytes is a valid HKDF-SHA256 output length");
            okm
        };
        let mac = |info: &[u8]| {
            <Hmac<Sha256> as Mac>::new_from_slice(&subkey(info))
                .expect("HMAC accepts keys of any length")
        };
        Self {
            server_cookie: mac(SERVER_COOKIE_INFO),
            signed_store: mac(SIGNED_STORE_INFO),
            encrypted_store: Aes256Gcm::new(&subkey(ENCRYPTED_STORE_INFO).into()),
        }
    }

    /// The MAC state keyed for `purpose`, with `name` absorbed; `None` for encryption.
    pub(crate) fn mac(&self, purpose: Purpose, name: &str) -> Option<Hmac<Sha256>> {
        let mut mac = match purpose {
            Purpose::ServerCookie => self.server_cookie.clone(),
            Purpose::CookieStore(Protection::Signed) => self.signed_store.clone(),
            Purpose::CookieStore(Protection::Encrypted) => return None,
        };
        // Length-prefixed, so no name and value can be re-split into another pair.
        mac.update(&(name.len() as u64).to_be_bytes());
        mac.update(name.as_bytes());
        Some(mac)
    }
}

impl SealKey {
    /// The AES-256-GCM cipher of the encrypted cookie store.
    pub(crate) fn cipher(&self) -> &Aes256Gcm {
        &self.encrypted_store
    }
}

impl std::fmt::Debug for SealKey {
    // Secrets: nothing of them is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

/// The accepted keys: the current one first, then older ones that still open cookies.
///
/// Extended with application `Key`s (each derived once, here), as a `Vec<Key>` would be.
#[derive(Debug, Clone)]
pub(crate) struct SealKeys(Vec<SealKey>);

impl SealKeys {
    pub(crate) fn new(current: &Key) -> Self {
        Self(vec![SealKey::new(current)])
    }

    /// The key that seals.
    pub(crate) fn current(&self) -> &SealKey {
        &self.0[0]
    }

    /// Keeps the first `len` keys, never fewer than the current one.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len.max(1));
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The current key, then the older ones.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, SealKey> {
        self.0.iter()
    }
}

impl Extend<Key> for SealKeys {
    fn extend<I: IntoIterator<Item = Key>>(&mut self, keys: I) {
        self.0
            .extend(keys.into_iter().map(|key| SealKey::new(&key)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_every_base64_alphabet_decode_to_the_same_key() {
        let bytes: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37) ^ 0xfb).collect();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let texts = [
            hex.clone(),
            hex.to_uppercase(),
            STANDARD.encode(&bytes),
            STANDARD_NO_PAD.encode(&bytes),
            URL_SAFE.encode(&bytes),
            URL_SAFE_NO_PAD.encode(&bytes),
        ];
        for text in texts {
            assert_eq!(decode(&text).as_deref(), Some(&bytes[..]), "{text}");
        }
    }

    #[test]
    fn errors_name_the_variable_never_the_value() {
        let var = "ACTIX_TYPED_SESSION_TEST_KEY";
        let cases = [
            ("", KeyError::Absent { var: var.into() }),
            ("  \n", KeyError::Absent { var: var.into() }),
            ("not*a*key", KeyError::Undecodable { var: var.into() }),
            (
                &"0f".repeat(63),
                KeyError::WrongLength {
                    var: var.into(),
                    len: 63,
                },
            ),
            (
                &STANDARD.encode([1u8; 65]),
                KeyError::WrongLength {
                    var: var.into(),
                    len: 65,
                },
            ),
        ];
        for (value, expected) in cases {
            std::env::set_var(var, value);
            let err = key_from_env(var).err().unwrap();
            assert_eq!(err, expected, "{value:?}");
            if !value.trim().is_empty() {
                assert!(!err.to_string().contains(value.trim()), "{err}");
            }
        }
        std::env::set_var(var, format!(" {}\n", "0f".repeat(64)));
        assert!(
            key_from_env(var).is_ok(),
            "surrounding whitespace is ignored"
        );
        std::env::remove_var(var);
    }
}
