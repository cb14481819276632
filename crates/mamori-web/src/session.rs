//! Sessions, CSRF tokens and login throttling, in memory (a restart logs everyone out).
//!
//! *Invariants*: a session token is 256 random bits, new at every login (never carried over
//! from before); it expires after `idle` without use and `absolute` after login whatever
//! happens; every state-changing request carries the session's own CSRF token; a name that
//! failed `MAX_FAILURES` times is refused for `LOCKOUT` whatever the password.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand_core::{OsRng, RngCore};

/// Failed logins of one user name before it is locked out for a while.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked-out name is refused.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// A fresh random token (hex, 256 bits).
pub fn token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct Session {
    /// User name.
    pub user: String,
    /// The token every form must carry.
    pub csrf: String,
    /// Must change a one-time password before anything else.
    pub must_change_password: bool,
    /// A 事業者 user: sees only its company's devices and inquiries (the pages' menu is
    /// theirs; the application layer enforces the scope).
    pub vendor_only: bool,
    created: Instant,
    last_seen: Instant,
}

/// The session table and the login throttle.
pub struct Sessions {
    idle: Duration,
    absolute: Duration,
    table: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Sessions {
    /// A table with these timeouts.
    pub fn new(idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            idle,
            absolute,
            table: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for `user`; returns its token.
    pub fn start(&self, user: &str, must_change_password: bool, vendor_only: bool) -> String {
        let id = token();
        let now = Instant::now();
        let session = Session {
            user: user.to_string(),
            csrf: token(),
            must_change_password,
            vendor_only,
            created: now,
            last_seen: now,
        };
        if let Ok(mut t) = self.table.lock() {
            // Expired sessions go whenever a new one starts.
            t.retain(|_, s| now - s.last_seen < self.idle && now - s.created < self.absolute);
            t.insert(id.clone(), session);
        }
        id
    }

    /// The live session of a token, its last use moved to now.
    pub fn get(&self, id: &str) -> Option<Session> {
        let mut t = self.table.lock().ok()?;
        let now = Instant::now();
        let alive = t
            .get(id)
            .is_some_and(|s| now - s.last_seen < self.idle && now - s.created < self.absolute);
        if !alive {
            t.remove(id);
            return None;
        }
        let s = t.get_mut(id)?;
        s.last_seen = now;
        Some(s.clone())
    }

    /// Marks the one-time password changed.
    pub fn password_changed(&self, id: &str) {
        if let Ok(mut t) = self.table.lock() {
            if let Some(s) = t.get_mut(id) {
                s.must_change_password = false;
            }
        }
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        if let Ok(mut t) = self.table.lock() {
            t.remove(id);
        }
    }

    /// Whether `user` is locked out by failed logins now.
    pub fn locked_out(&self, user: &str) -> bool {
        let Ok(mut f) = self.failures.lock() else {
            return true;
        };
        match f.get(user) {
            Some((n, since)) if *n >= MAX_FAILURES => {
                if since.elapsed() < LOCKOUT {
                    true
                } else {
                    f.remove(user);
                    false
                }
            }
            _ => false,
        }
    }

    /// Counts a failed login of `user`.
    pub fn failed(&self, user: &str) {
        if let Ok(mut f) = self.failures.lock() {
            let e = f.entry(user.to_string()).or_insert((0, Instant::now()));
            e.0 += 1;
            e.1 = Instant::now();
        }
    }

    /// Clears the failures of `user` after a good login.
    pub fn succeeded(&self, user: &str) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(user);
        }
    }
}

/// Compares two tokens in constant time.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_rotate_and_lock_out() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let a = s.start("sato", false, false);
        let b = s.start("sato", false, false);
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(s.get(&a).is_some());
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.get(&a).is_none(), "idle timeout");
        let short = Sessions::new(Duration::from_secs(60), Duration::from_millis(30));
        let c = short.start("sato", false, false);
        std::thread::sleep(Duration::from_millis(40));
        assert!(short.get(&c).is_none(), "absolute timeout");
        for _ in 0..MAX_FAILURES {
            assert!(!s.locked_out("x"));
            s.failed("x");
        }
        assert!(s.locked_out("x"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
