//! The Lua scripts that make each write one atomic round trip.
//!
//! They run with `EVALSHA`; the `redis` crate loads a script (`SCRIPT LOAD`) only when Redis
//! answers `NOSCRIPT`, i.e. once per server (or after a restart or `SCRIPT FLUSH`), never on
//! steady-state requests. Each script touches only the keys it is given, so it runs unchanged
//! on Redis Cluster as long as those keys share a slot (one key per session does).
//! `unpack` is chunked because Lua's stack limits it to a few thousand values.

use std::{sync::LazyLock, time::Duration};

use ::redis::{Script, ScriptInvocation};

use super::layout::encode_field;
use crate::store::ChangeSet;

/// Applies a change set to `KEYS[1]` and resets its TTL; returns 1, or 0 when nothing was
/// written because the session is gone.
///
/// `ARGV`: must-exist flag, clear flag, TTL in milliseconds, the number of removals, the
/// removed fields, then field/value pairs to set. With a second key, the session is moved
/// from `KEYS[2]` (renewal): the must-exist check looks at `KEYS[2]`, which is then deleted.
const APPLY: &str = r"
local key = KEYS[1]
local from = KEYS[2]
local must_exist = ARGV[1] == '1'
local clear = ARGV[2] == '1'
local ttl = ARGV[3]
-- An update checks existence and resets the TTL with one PEXPIRE.
if must_exist then
  if from then
    if redis.call('EXISTS', from) == 0 then
      return 0
    end
  elseif redis.call('PEXPIRE', key, ttl) == 0 then
    return 0
  end
end
if from then
  redis.call('DEL', from, key)
elseif clear then
  redis.call('DEL', key)
end
local last = 4 + tonumber(ARGV[4])
for i = 5, last, 1000 do
  redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 999, last)))
end
local i = last + 1
redis.call('HSET', key, '\0', '1', unpack(ARGV, i, math.min(i + 997, #ARGV)))
for j = i + 998, #ARGV, 998 do
  redis.call('HSET', key, unpack(ARGV, j, math.min(j + 997, #ARGV)))
end
if from or clear or not must_exist then
  redis.call('PEXPIRE', key, ttl)
end
return 1
";

/// Reads `KEYS[1]` and resets its TTL to `ARGV[1]` milliseconds if it exists. With more
/// arguments, `HMGET`s those fields; otherwise `HGETALL`.
const LOAD_REFRESH: &str = r"
local key = KEYS[1]
local reply
if #ARGV == 1 then
  reply = redis.call('HGETALL', key)
else
  reply = {}
  for i = 2, #ARGV, 1000 do
    local part = redis.call('HMGET', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
    for j = 1, #part do
      reply[#reply + 1] = part[j]
    end
  end
end
redis.call('PEXPIRE', key, ARGV[1])
return reply
";

static APPLY_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(APPLY));
static LOAD_REFRESH_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(LOAD_REFRESH));

/// A TTL in whole milliseconds, at least one: `PEXPIRE key 0` would delete the session.
pub(super) fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// How [`apply`] treats the target key.
#[derive(Debug, Clone, Copy)]
pub(super) enum Target<'a> {
    /// Create the session if missing.
    Create,
    /// Write only if the session exists.
    Update,
    /// Move the session from this key, only if it exists; the target is written from scratch.
    MoveFrom(&'a str),
}

/// The `EVALSHA` of [`APPLY`] for `changes` on `key`.
pub(super) fn apply(
    key: &str,
    target: Target<'_>,
    changes: &ChangeSet,
    ttl: Duration,
) -> ScriptInvocation<'static> {
    let mut inv = APPLY_SCRIPT.key(key);
    let (must_exist, clear) = match target {
        Target::Create => (false, changes.is_cleared()),
        Target::Update => (true, changes.is_cleared()),
        Target::MoveFrom(from) => {
            inv.key(from);
            (true, true)
        }
    };
    inv.arg(u8::from(must_exist))
        .arg(u8::from(clear))
        .arg(millis(ttl))
        .arg(changes.removals().len());
    for key in changes.removals() {
        inv.arg(encode_field(key).as_ref());
    }
    for (key, value) in changes.upserts() {
        inv.arg(encode_field(key).as_ref()).arg(value.as_str());
    }
    inv
}

/// The `EVALSHA` of [`LOAD_REFRESH`]: all fields when `fields` is empty.
pub(super) fn load_refresh<'f>(
    key: &str,
    fields: impl IntoIterator<Item = std::borrow::Cow<'f, str>>,
    ttl: Duration,
) -> ScriptInvocation<'static> {
    let mut inv = LOAD_REFRESH_SCRIPT.key(key);
    inv.arg(millis(ttl));
    for field in fields {
        inv.arg(field.as_ref());
    }
    inv
}
