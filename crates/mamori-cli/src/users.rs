//! `mamori user …`: mamori's users and their roles.

use anyhow::Result;
use mamori_core::{Labelled, Lang, Role};
use serde_json::json;

use crate::args::UserCommand;
use crate::commands::{open, print_json, read_secret, Ctx, UsageError};
use crate::output;

/// Roles from `--role` values (codes or labels, Japanese or English).
fn roles(values: &[String]) -> Result<Vec<Role>> {
    let mut out = Vec::new();
    for v in values {
        // `--role operator,planner` as well as repeated `--role`.
        for piece in v
            .split([',', '、'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let role = Role::parse(piece).ok_or_else(|| {
                UsageError::err(
                    format!(
                        "役割「{piece}」はありません。{} のいずれかです",
                        Role::choices(Lang::Ja)
                    ),
                    format!("no role {piece:?}: use one of {}", Role::choices(Lang::En)),
                )
            })?;
            if !out.contains(&role) {
                out.push(role);
            }
        }
    }
    Ok(out)
}

fn role_labels(roles: &[Role], lang: Lang) -> String {
    roles
        .iter()
        .map(|r| r.label(lang))
        .collect::<Vec<_>>()
        .join(lang.pick("・", ", "))
}

fn print_one_time(ctx: &Ctx, username: &str, one_time: Option<String>) {
    let lang = ctx.lang;
    if ctx.json {
        print_json(&json!({ "username": username, "one_time_password": one_time }));
        return;
    }
    match one_time {
        Some(p) => {
            println!("{} {p}", lang.pick("初回パスワード:", "one-time password:"));
            eprintln!(
                "{}",
                lang.pick(
                    "このパスワードは一度だけ表示され、保存されません。本人に安全に伝え、初回ログイン時に変更してもらってください",
                    "This password is shown once and is not stored; pass it on safely — it must be changed at first login."
                )
            );
        }
        None => println!("{}", lang.pick("設定しました", "done")),
    }
}

pub fn user(ctx: &Ctx, command: UserCommand) -> Result<()> {
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        UserCommand::Add {
            username,
            roles: given,
            name,
            vendor,
            new_password_file,
        } => {
            let roles = roles(&given)?;
            let password = new_password_file.as_deref().map(read_secret).transpose()?;
            let out = app.add_user(
                &username,
                name.as_deref(),
                &roles,
                vendor.as_deref(),
                password.as_deref(),
            )?;
            print_one_time(ctx, &username, out.one_time_password);
        }
        UserCommand::List => {
            let users = app.list_users()?;
            if ctx.json {
                print_json(&json!({ "users": users }));
                return Ok(());
            }
            let headers = [
                lang.pick("利用者名", "user"),
                lang.pick("表示名", "name"),
                lang.pick("役割", "roles"),
                lang.pick("状態", "state"),
            ];
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    let state = match (u.disabled, u.must_change_password) {
                        (true, _) => lang.pick("無効", "disabled"),
                        (false, true) => lang.pick("初回パスワード未変更", "one-time password"),
                        (false, false) => lang.pick("有効", "active"),
                    };
                    vec![
                        u.username.clone(),
                        u.display_name.clone().unwrap_or_default(),
                        role_labels(&u.roles, lang),
                        state.to_string(),
                    ]
                })
                .collect();
            output::table(&headers, &rows, &[20, 20, 60, 20]);
        }
        UserCommand::Disable { username, reason } => {
            app.set_user_disabled(&username, true, reason.as_deref())?;
            println!("{}", lang.pick("無効化しました", "disabled"));
        }
        UserCommand::Enable { username, reason } => {
            app.set_user_disabled(&username, false, reason.as_deref())?;
            println!("{}", lang.pick("有効にしました", "enabled"));
        }
        UserCommand::Passwd {
            username,
            new_password_file,
        } => {
            let password = match new_password_file {
                Some(f) => Some(read_secret(&f)?),
                None => std::env::var("MAMORI_NEW_PASSWORD").ok(),
            };
            let out = app.set_user_password(&username, password.as_deref())?;
            print_one_time(ctx, &username, out.one_time_password);
        }
        UserCommand::Role {
            username,
            roles: given,
            reason,
        } => {
            let roles = roles(&given)?;
            app.set_user_roles(&username, &roles, reason.as_deref())?;
            if ctx.json {
                print_json(&json!({ "username": username, "roles": roles }));
            } else {
                println!("{username}: {}", role_labels(&roles, lang));
            }
        }
    }
    Ok(())
}

/// `mamori token …`.
pub fn token(ctx: &Ctx, command: crate::args::TokenCommand) -> Result<()> {
    use crate::args::TokenCommand;
    let lang = ctx.lang;
    let mut app = open(ctx)?;
    match command {
        TokenCommand::Create { name, for_user } => {
            let user = for_user.unwrap_or_else(|| app.actor().to_string());
            let (id, secret) = app.create_api_token(&user, &name)?;
            if ctx.json {
                print_json(&serde_json::json!({ "id": id, "user": user, "token": secret }));
            } else {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("トークン #{id} ({user}):\n{secret}\nこの値は二度と表示されません。API には Authorization: Bearer … で渡します"),
                        Lang::En => format!("token #{id} ({user}):\n{secret}\nThis is shown once; send it to the API as Authorization: Bearer …"),
                    }
                );
            }
        }
        TokenCommand::List => {
            let list = app.api_tokens()?;
            if ctx.json {
                print_json(&serde_json::json!(list));
                return Ok(());
            }
            let headers = match lang {
                Lang::Ja => ["番号", "利用者", "用途", "作成", "最終使用", "取消"],
                Lang::En => ["id", "user", "name", "created", "last used", "revoked"],
            };
            let t = |d: Option<chrono::DateTime<chrono::Utc>>| {
                d.map(|d| {
                    d.with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default()
            };
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|k| {
                    vec![
                        format!("#{}", k.id),
                        k.username.clone(),
                        k.name.clone(),
                        t(Some(k.created_at)),
                        t(k.last_used_at),
                        t(k.revoked_at),
                    ]
                })
                .collect();
            crate::output::table(&headers, &rows, &[6, 16, 24, 16, 16, 16]);
        }
        TokenCommand::Revoke { id } => {
            app.revoke_api_token(id)?;
            if !ctx.json {
                println!(
                    "{}",
                    match lang {
                        Lang::Ja => format!("トークン #{id} を取り消しました"),
                        Lang::En => format!("token #{id} revoked"),
                    }
                );
            }
        }
    }
    Ok(())
}
