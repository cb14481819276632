//! mamori's own passwords: Argon2id hashes and generated one-time passwords.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand_core::{OsRng, RngCore};

use crate::{AppError, Result};

/// The shortest password mamori accepts: 13 characters, the length at which MHLW's
/// FY2025 checklist (item 2-⑦) no longer asks for periodic changes.
pub const MIN_PASSWORD_CHARS: usize = 13;

/// Hashes a password with Argon2id (the `argon2` crate's defaults: m=19 MiB, t=2, p=1).
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

/// Checks a password against a stored Argon2id hash.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random password of 20 characters from an alphabet without look-alikes (no 0/O,
/// 1/l/I), about 115 bits of entropy.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let v = OsRng.next_u32();
        // Rejection sampling keeps the choice uniform.
        let limit = u32::MAX - (u32::MAX % ALPHABET.len() as u32);
        if v < limit {
            out.push(ALPHABET[(v % ALPHABET.len() as u32) as usize] as char);
        }
    }
    out
}

/// Checks a password chosen by a person.
pub fn check_strength(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_value(
            "password",
            format!(
                "パスワードが短すぎます ({n} 文字)。{MIN_PASSWORD_CHARS} 文字以上にしてください"
            ),
            format!(
                "the password is too short ({n} characters); use at least {MIN_PASSWORD_CHARS}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn generated_passwords_are_long_and_different() {
        let a = generate();
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, generate());
        assert!(check_strength(&a).is_ok());
        assert!(check_strength("short").is_err());
    }
}
