//! mamori's own users: logging in as a named user, and managing users and their roles.
//!
//! Passwords are hashed with Argon2id ([`crate::password`]) and never stored, logged or
//! shown — except a generated one-time password, shown once to the administrator who made
//! it. Users are disabled, never deleted: the audit log names them. Every change is audited
//! with what it was before.

use std::path::Path;

use mamori_core::access::Permission;
use mamori_core::{Labelled, Role};
use mamori_store::{NewUser, Store, User};
use serde::Serialize;
use serde_json::json;

use crate::{audit, password, App, AppError, Result, DB_FILE};

/// A user as shown (no password hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: Option<String>,
    /// Role codes.
    pub roles: Vec<Role>,
    /// Whether a one-time password must still be changed.
    pub must_change_password: bool,
    /// Whether the user is disabled.
    pub disabled: bool,
    /// A 事業者 user's company.
    pub vendor: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            must_change_password: u.must_change_password,
            disabled: u.disabled,
            vendor: u.vendor.clone(),
        }
    }
}

/// What `add_user` and a password reset give back.
#[derive(Debug)]
pub struct NewPassword {
    /// A generated one-time password, when none was given: shown once, never stored.
    pub one_time_password: Option<String>,
}

/// A login name: 1–64 of ASCII letters, digits, `.`, `_`, `-` (it goes into logs and
/// file names of reports).
fn check_username(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_value(
            "username",
            format!(
                "利用者名「{name}」は使えません。半角英数字と . _ - の 1〜64 文字にしてください"
            ),
            format!(
                "user name {name:?} cannot be used: 1–64 ASCII letters, digits, '.', '_' or '-'"
            ),
        ))
    }
}

fn check_roles(roles: &[Role]) -> Result<()> {
    if roles.is_empty() {
        return Err(AppError::bad_value(
            "role",
            format!(
                "役割を 1 つ以上指定してください: {}",
                Role::choices(mamori_core::Lang::Ja)
            ),
            format!(
                "give at least one role: {}",
                Role::choices(mamori_core::Lang::En)
            ),
        ));
    }
    Ok(())
}

/// A hash no password matches, verified when the user does not exist so that a wrong user
/// name takes as long as a wrong password.
fn decoy_hash() -> String {
    password::hash("mamori decoy: no user has this password").unwrap_or_default()
}

impl App {
    /// Opens the store as the named user, after checking the password. A wrong user name, a
    /// wrong password and a disabled user fail alike ([`AppError::LoginFailed`]); the attempt
    /// is audited either way (the password never is). A user with a one-time password may
    /// only change it.
    pub fn login(data_dir: &Path, username: &str, given: &str) -> Result<App> {
        let db = data_dir.join(DB_FILE);
        if !db.is_file() {
            return Err(AppError::NoStore(data_dir.to_path_buf()));
        }
        let mut store = Store::open_sqlite(&db)?;
        let user = store.begin_read()?.user(username)?;
        let ok = match &user {
            Some(u) => password::verify(given, &u.password_hash) && !u.disabled,
            None => {
                password::verify(given, &decoy_hash());
                false
            }
        };
        let mut tx = store.begin()?;
        match (ok, user) {
            (true, Some(u)) => {
                audit(
                    tx.as_mut(),
                    &u.username,
                    "user.login",
                    Some(&u.username),
                    json!({ "roles": u.roles }),
                )?;
                tx.commit()?;
                Ok(App {
                    store,
                    data_dir: data_dir.to_path_buf(),
                    actor: u.username.clone(),
                    roles: u.roles.clone(),
                    must_change_password: u.must_change_password,
                    today: None,
                    now: None,
                    vendor: u.vendor.clone(),
                })
            }
            _ => {
                audit(
                    tx.as_mut(),
                    username,
                    "user.login_failed",
                    Some(username),
                    json!({}),
                )?;
                tx.commit()?;
                Err(AppError::LoginFailed)
            }
        }
    }

    /// Resumes a named user's session that an edge authenticated earlier with
    /// [`App::login`] (the web server's session cookie): the user is read again, so a user
    /// disabled since, or whose roles changed, is refused or limited at once. Not audited (the
    /// login was). Only for edges that keep their own authenticated sessions.
    pub fn resume(data_dir: &Path, username: &str) -> Result<App> {
        let db = data_dir.join(DB_FILE);
        if !db.is_file() {
            return Err(AppError::NoStore(data_dir.to_path_buf()));
        }
        App::resume_on(Store::open_sqlite(&db)?, data_dir, username)
    }

    /// [`App::resume`] on a store already open (the API's token check opened it).
    pub(crate) fn resume_on(mut store: Store, data_dir: &Path, username: &str) -> Result<App> {
        let user = store.begin_read()?.user(username)?;
        match user {
            Some(u) if !u.disabled => Ok(App {
                store,
                data_dir: data_dir.to_path_buf(),
                actor: u.username.clone(),
                roles: u.roles.clone(),
                must_change_password: u.must_change_password,
                today: None,
                now: None,
                vendor: u.vendor.clone(),
            }),
            _ => Err(AppError::LoginFailed),
        }
    }

    /// Whether the acting user must change a one-time password before anything else.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    fn user_or_error(&mut self, username: &str) -> Result<User> {
        self.store
            .begin_read()?
            .user(username)?
            .ok_or_else(|| AppError::UserNotFound(username.to_string()))
    }

    /// Creates a user with these roles. Without a password, a one-time password is
    /// generated (returned once) that must be changed at first login.
    pub fn add_user(
        &mut self,
        username: &str,
        display_name: Option<&str>,
        roles: &[Role],
        vendor: Option<&str>,
        given: Option<&str>,
    ) -> Result<NewPassword> {
        self.require(Permission::ManageUsers)?;
        check_username(username)?;
        check_roles(roles)?;
        let vendor = vendor.map(str::trim).filter(|v| !v.is_empty());
        if roles.contains(&Role::Vendor) && vendor.is_none() {
            return Err(AppError::bad_value(
                "vendor",
                "事業者の利用者には会社名が必要です（台帳の保守事業者と同じ名前、--vendor）",
                "a vendor user needs its company, as the ledger's vendor column names it (--vendor)",
            ));
        }
        if let Some(p) = given {
            password::check_strength(p)?;
        }
        let (pw, one_time) = match given {
            Some(p) => (p.to_string(), None),
            None => {
                let p = password::generate();
                (p.clone(), Some(p))
            }
        };
        let mut tx = self.store.begin()?;
        tx.insert_user(&NewUser {
            username: username.to_string(),
            display_name: display_name.map(str::to_string),
            roles: roles.to_vec(),
            password_hash: password::hash(&pw)?,
            must_change_password: one_time.is_some(),
            vendor: vendor.map(str::to_string),
        })?;
        audit(
            tx.as_mut(),
            &self.actor,
            "user.add",
            Some(username),
            json!({ "roles": roles, "display_name": display_name, "vendor": vendor, "one_time_password": one_time.is_some() }),
        )?;
        tx.commit()?;
        Ok(NewPassword {
            one_time_password: one_time,
        })
    }

    /// Every user (no password hashes).
    pub fn list_users(&mut self) -> Result<Vec<UserView>> {
        self.require(Permission::ManageUsers)?;
        let users = self.store.begin_read()?.users()?;
        Ok(users.iter().map(UserView::from).collect())
    }

    /// Whether another enabled user would still hold the administrator role.
    fn another_administrator(&mut self, except: &str) -> Result<bool> {
        Ok(self
            .store
            .begin_read()?
            .users()?
            .iter()
            .any(|u| u.username != except && !u.disabled && u.roles.contains(&Role::Administrator)))
    }

    fn last_administrator_error(username: &str) -> AppError {
        AppError::bad_value(
            "username",
            format!("{username} は最後の有効な管理者です。先に別の利用者に管理者の役割を与えてください"),
            format!("{username} is the last enabled administrator: give another user the administrator role first"),
        )
    }

    /// Disables (or, with `enable`, re-enables) a user. The last enabled administrator
    /// cannot be disabled.
    pub fn set_user_disabled(
        &mut self,
        username: &str,
        disabled: bool,
        reason: Option<&str>,
    ) -> Result<()> {
        self.require(Permission::ManageUsers)?;
        let mut user = self.user_or_error(username)?;
        if disabled
            && user.roles.contains(&Role::Administrator)
            && !self.another_administrator(username)?
        {
            return Err(Self::last_administrator_error(username));
        }
        let before = user.disabled;
        user.disabled = disabled;
        let mut tx = self.store.begin()?;
        tx.update_user(&user)?;
        audit(
            tx.as_mut(),
            &self.actor,
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            Some(username),
            json!({ "before": { "disabled": before }, "after": { "disabled": disabled }, "reason": reason }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces a user's roles. The last enabled administrator keeps that role.
    pub fn set_user_roles(
        &mut self,
        username: &str,
        roles: &[Role],
        reason: Option<&str>,
    ) -> Result<()> {
        self.require(Permission::ManageUsers)?;
        check_roles(roles)?;
        let mut user = self.user_or_error(username)?;
        if user.roles.contains(&Role::Administrator)
            && !roles.contains(&Role::Administrator)
            && !user.disabled
            && !self.another_administrator(username)?
        {
            return Err(Self::last_administrator_error(username));
        }
        let before = std::mem::replace(&mut user.roles, roles.to_vec());
        let mut tx = self.store.begin()?;
        tx.update_user(&user)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "user.roles",
            Some(username),
            json!({ "before": before, "after": roles, "reason": reason }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a password. Users change their own (even with a one-time password, which this
    /// clears); an administrator setting another user's password without giving one gets a
    /// one-time password that user must change.
    pub fn set_user_password(
        &mut self,
        username: &str,
        given: Option<&str>,
    ) -> Result<NewPassword> {
        let own = username == self.actor;
        if !own {
            self.require(Permission::ManageUsers)?;
        }
        let mut user = self.user_or_error(username)?;
        if let Some(p) = given {
            password::check_strength(p)?;
        }
        let (pw, one_time) = match (given, own) {
            (Some(p), _) => (p.to_string(), None),
            (None, true) => {
                return Err(AppError::bad_value(
                    "password",
                    "新しいパスワードを指定してください（13文字以上）",
                    "give the new password (13 characters or more)",
                ))
            }
            (None, false) => {
                let p = password::generate();
                (p.clone(), Some(p))
            }
        };
        user.password_hash = password::hash(&pw)?;
        // Set by someone else, a password is theirs to know: the user changes it.
        user.must_change_password = !own;
        let mut tx = self.store.begin()?;
        tx.update_user(&user)?;
        audit(
            tx.as_mut(),
            &self.actor,
            "user.password",
            Some(username),
            json!({ "own": own, "one_time_password": one_time.is_some() }),
        )?;
        tx.commit()?;
        if own {
            self.must_change_password = false;
        }
        Ok(NewPassword {
            one_time_password: one_time,
        })
    }
}
