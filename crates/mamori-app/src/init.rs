//! Creating a data directory: the database and the first administrator.

use std::path::Path;

use mamori_core::Role;
use mamori_store::{NewUser, Store};
use serde_json::json;

use crate::{audit, io, password, AppError, Result, DB_FILE};

/// The first administrator's login name.
pub const ADMIN_USERNAME: &str = "admin";

/// What `init` created.
#[derive(Debug)]
pub struct InitOutcome {
    /// The database file.
    pub db_path: std::path::PathBuf,
    /// The administrator's login name.
    pub admin_username: String,
    /// The generated one-time password, when none was given. Shown once, never stored.
    pub one_time_password: Option<String>,
}

/// The data directory holds password hashes and the hospital's device list: only its
/// owner may read it.
#[cfg(unix)]
fn restrict_to_owner(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

#[cfg(not(unix))]
fn restrict_to_owner(_dir: &Path) -> Result<()> {
    Ok(())
}

/// Creates `data_dir` (if needed) and a new store in it with the first administrator.
/// With `admin_password`, that password is used; otherwise a random one-time password is
/// generated, which must be changed at first login. Refuses to touch an existing store.
pub fn init(data_dir: &Path, admin_password: Option<&str>, actor: &str) -> Result<InitOutcome> {
    let db_path = data_dir.join(DB_FILE);
    if db_path.exists() {
        return Err(AppError::StoreExists(data_dir.to_path_buf()));
    }
    if let Some(p) = admin_password {
        password::check_strength(p)?;
    }
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    restrict_to_owner(data_dir)?;
    let (pw, one_time) = match admin_password {
        Some(p) => (p.to_string(), None),
        None => {
            let p = password::generate();
            (p.clone(), Some(p))
        }
    };
    let mut store = Store::create_sqlite(&db_path)?;
    let mut tx = store.begin()?;
    tx.insert_user(&NewUser {
        username: ADMIN_USERNAME.into(),
        display_name: Some("管理者".into()),
        roles: vec![
            Role::Administrator,
            Role::Operator,
            Role::Planner,
            Role::SecurityManager,
        ],
        password_hash: password::hash(&pw)?,
        must_change_password: one_time.is_some(),
        vendor: None,
    })?;
    audit(
        tx.as_mut(),
        actor,
        "store.init",
        None,
        json!({ "schema_version": mamori_store::sqlite::SCHEMA_VERSION }),
    )?;
    audit(
        tx.as_mut(),
        actor,
        "user.create",
        Some(ADMIN_USERNAME),
        json!({ "roles": ["administrator", "operator", "planner", "security_manager"], "one_time_password": one_time.is_some() }),
    )?;
    tx.commit()?;
    Ok(InitOutcome {
        db_path,
        admin_username: ADMIN_USERNAME.into(),
        one_time_password: one_time,
    })
}
