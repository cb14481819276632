//! REST API tokens: a user's keys for `/api/v1`. A token acts with its user's roles (so it
//! is scoped by role and changes with them); only its SHA-256 is kept; it can be revoked.
//!
//! *Invariants*: the secret is shown once, at creation, and never stored; a revoked token, a
//! disabled user or a user who must still change a one-time password gets nothing.

use std::path::Path;

use chrono::Utc;
use mamori_core::access::Permission;
use mamori_store::ApiToken;
use serde_json::json;

use crate::bundle::hex;
use crate::{audit, App, AppError, Result};

/// What every token starts with (so a leaked one is recognisable).
pub const PREFIX: &str = "mamori_";

fn hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(secret.as_bytes()))
}

impl App {
    /// Makes a token for `username` (the acting user's own, or — with the users permission —
    /// anyone's); returns its id and the secret, shown once. Audited.
    pub fn create_api_token(&mut self, username: &str, name: &str) -> Result<(i64, String)> {
        if username != self.actor {
            self.require(Permission::ManageUsers)?;
        } else {
            self.require(Permission::View)
                .or_else(|_| self.require(Permission::RecordVendorAnswer))?;
        }
        if name.trim().is_empty() || name.len() > 100 {
            return Err(AppError::bad_value(
                "name",
                "トークンの名前 (用途) を 1〜100 文字で指定してください",
                "give the token a name (what it is for), 1 to 100 characters",
            ));
        }
        let user = self
            .store
            .begin_read()?
            .user(username)?
            .filter(|u| !u.disabled)
            .ok_or_else(|| AppError::UserNotFound(username.to_string()))?;
        use rand_core::RngCore;
        let mut bytes = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut bytes);
        let secret = format!("{PREFIX}{}", hex(&bytes));
        let mut tx = self.store.begin()?;
        let id = tx.insert_api_token(&ApiToken {
            id: 0,
            username: user.username.clone(),
            name: name.trim().to_string(),
            token_hash: hash(&secret),
            created_at: Utc::now(),
            last_used_at: None,
            revoked_at: None,
        })?;
        audit(
            tx.as_mut(),
            &self.actor,
            "token.create",
            Some(&format!("token:{id}")),
            json!({ "user": user.username, "name": name.trim() }),
        )?;
        tx.commit()?;
        Ok((id, secret))
    }

    /// The acting user's tokens; everyone's with the users permission.
    pub fn api_tokens(&mut self) -> Result<Vec<ApiToken>> {
        let all = self.require(Permission::ManageUsers).is_ok();
        let tx = self.store.begin_read()?;
        Ok(tx.api_tokens((!all).then_some(self.actor.as_str()))?)
    }

    /// Revokes a token (one's own, or any with the users permission). Audited.
    pub fn revoke_api_token(&mut self, id: i64) -> Result<()> {
        let all = self.require(Permission::ManageUsers).is_ok();
        let mut tx = self.store.begin()?;
        let mine = tx
            .api_tokens(None)?
            .into_iter()
            .find(|t| t.id == id && (all || t.username == self.actor));
        let Some(token) = mine else {
            return Err(AppError::bad_value(
                "id",
                format!("トークン #{id} はありません"),
                format!("there is no token #{id}"),
            ));
        };
        if !tx.revoke_api_token(id)? {
            return Err(AppError::bad_value(
                "id",
                format!("トークン #{id} は取り消し済みです"),
                format!("token #{id} is already revoked"),
            ));
        }
        audit(
            tx.as_mut(),
            &self.actor,
            "token.revoke",
            Some(&format!("token:{id}")),
            json!({ "user": token.username, "name": token.name }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The session of an API request: the token's user, read again (disabled users, changed
    /// roles and revoked tokens take effect at once). Its last use is recorded at most once a
    /// minute.
    pub fn with_token(data_dir: &Path, secret: &str) -> Result<App> {
        if !secret.starts_with(PREFIX) || secret.len() != PREFIX.len() + 64 {
            return Err(AppError::LoginFailed);
        }
        let db = data_dir.join(crate::DB_FILE);
        if !db.is_file() {
            return Err(AppError::NoStore(data_dir.to_path_buf()));
        }
        let mut store = mamori_store::Store::open_sqlite(&db)?;
        let token = store
            .begin_read()?
            .api_token_by_hash(&hash(secret))?
            .filter(|t| t.revoked_at.is_none())
            .ok_or(AppError::LoginFailed)?;
        let stale = token
            .last_used_at
            .is_none_or(|t| Utc::now() - t > chrono::Duration::seconds(60));
        if stale {
            let mut tx = store.begin()?;
            tx.touch_api_token(token.id)?;
            tx.commit()?;
        }
        let app = App::resume_on(store, data_dir, &token.username)?;
        if app.must_change_password() {
            return Err(AppError::MustChangePassword(token.username));
        }
        Ok(app)
    }
}
