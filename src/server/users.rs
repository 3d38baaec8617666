//! Accounts: first-run set-up, sign-in and sign-out with sessions, and the users admins
//! manage. Every change is audited; no password or hash ever leaves this module.

use super::{
    paging::{paginate, Cursor},
    audit::{self, Action, Outcome, Target, TargetKind},
    auth::{passwords, throttle, Caller},
    config::Config,
    db::Db,
    store::{tokens as tokens_store, users as store},
};
use crate::domain::{check_password, parse_email, AppError, FieldErrors, Role, SecretText, User, UsersPage, EMAIL_MAX};
use chrono::Utc;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use tower_sessions::Session;
use uuid::Uuid;

const USER_ID: &str = "auth.user_id";
const LOGIN_AT: &str = "auth.login_at";
/// Ties a session to the password it was opened with: changing the password ends it.
const STAMP: &str = "auth.stamp";
/// When the session was last saved to stay alive (see [`extend`]).
const SEEN_AT: &str = "auth.seen_at";

fn stamp(password_hash: &str) -> String {
    hex::encode(&Sha256::digest(password_hash.as_bytes())[..8])
}

fn secret(text: &SecretText) -> SecretString {
    SecretString::from(text.expose())
}

pub async fn any_exists(db: &Db) -> Result<bool, AppError> {
    Ok(store::any_exists(db).await?)
}

/// Creates the first admin and signs them in. Refused once any user exists.
pub async fn set_up_first_admin(
    db: &Db,
    session: &Session,
    caller: &Caller,
    email: &str,
    password: &SecretText,
    confirm: &SecretText,
) -> Result<User, AppError> {
    let mut errors = FieldErrors::default();
    let email = parse_email(&mut errors, "email", email);
    check_password(&mut errors, "password", password);
    if password.expose() != confirm.expose() {
        errors.add("confirm", "does not match the password");
    }
    errors.into_result(())?;
    let hash = passwords::hash(secret(password)).await?;
    let user = store::insert_first(db, &email, &hash)
        .await?
        .ok_or_else(|| AppError::Forbidden { message: "Keyport is already set up: sign in instead".into() })?;
    audit::record(db, caller, Action::Setup, Some(Target::new(TargetKind::User, user.id, &user.email)), Outcome::Ok, Some("first admin created".into())).await;
    open_session(session, &user, &hash).await?;
    Ok(user)
}

/// Checks the password and opens a session (with a new session id). The error never says
/// whether the email exists. Sign-ins are throttled per address and per account (`auth::throttle`).
pub async fn sign_in(db: &Db, session: &Session, caller: &Caller, email: &str, password: &SecretText) -> Result<User, AppError> {
    let email = email.trim().to_lowercase();
    // Checked before anything is written: a stranger's megabyte "email" never reaches the audit log.
    if email.len() > EMAIL_MAX {
        return Err(AppError::invalid("email", format!("must be at most {EMAIL_MAX} characters")));
    }
    let attempt = throttle::admit(db, caller, &email).await?;
    let found = store::credentials_by_email(db, &email).await?;
    let hash = found.as_ref().map_or_else(|| passwords::DECOY_HASH.to_owned(), |(_, h)| h.clone());
    let matches = passwords::verify(secret(password), hash.clone()).await;
    match found {
        Some((user, _)) if matches && !user.disabled => {
            attempt.succeeded(db).await?;
            open_session(session, &user, &hash).await?;
            let who = Caller { user: Some(user.clone()), ..caller.clone() };
            audit::record(db, &who, Action::Login, Some(Target::new(TargetKind::User, user.id, &user.email)), Outcome::Ok, None).await;
            Ok(user)
        }
        other => {
            let detail = match other {
                Some((u, _)) if u.disabled && matches => "account disabled",
                Some(_) => "wrong password",
                None => "unknown email",
            };
            audit::record(db, caller, Action::LoginFailed, Some(Target::new(TargetKind::User, "", &email)), Outcome::Failed, Some(detail.into())).await;
            Err(AppError::Invalid { fields: FieldErrors::single("password", "The email or password is not right.") })
        }
    }
}

async fn open_session(session: &Session, user: &User, password_hash: &str) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(USER_ID, user.id).await?;
    session.insert(LOGIN_AT, Utc::now().timestamp()).await?;
    session.insert(STAMP, stamp(password_hash)).await?;
    Ok(())
}

pub async fn sign_out(db: &Db, session: &Session, caller: &Caller) -> Result<(), AppError> {
    if let Some(user) = &caller.user {
        audit::record(db, caller, Action::Logout, Some(Target::new(TargetKind::User, user.id, &user.email)), Outcome::Ok, None).await;
    }
    Ok(session.flush().await?)
}

/// The user a session belongs to, if it is still valid: within its absolute lifetime,
/// for an enabled user, opened with the current password.
pub async fn from_session(db: &Db, session: &Session, config: &Config) -> Result<Option<User>, AppError> {
    let Some(id) = session.get::<Uuid>(USER_ID).await? else { return Ok(None) };
    let login_at = session.get::<i64>(LOGIN_AT).await?.unwrap_or(0);
    let stamped = session.get::<String>(STAMP).await?;
    let now = Utc::now().timestamp();
    let expired = now - login_at > config.sessions.max_age.as_secs() as i64;
    let valid = match store::get_with_hash(db, id).await? {
        Some((user, hash)) if !expired && !user.disabled && stamped.as_deref() == Some(stamp(&hash).as_str()) => Some(user),
        _ => None,
    };
    if valid.is_none() {
        session.flush().await?;
    } else {
        extend(session, config, login_at, now).await?;
    }
    Ok(valid)
}

/// Keeps a session in use alive. The store drops a session `SESSION_IDLE_MINUTES` after it
/// was last saved, and tower-sessions saves only a session that changed, so a session used
/// all along would still end an idle period after sign-in. Noting the time saves it again,
/// with a new end; at most once a quarter of the idle period, rather than a database write
/// for every request.
async fn extend(session: &Session, config: &Config, login_at: i64, now: i64) -> Result<(), AppError> {
    let seen_at = session.get::<i64>(SEEN_AT).await?.unwrap_or(login_at);
    if now.saturating_sub(seen_at) >= config.sessions.idle.as_secs() as i64 / 4 {
        session.insert(SEEN_AT, now).await?;
    }
    Ok(())
}

/// Users per page.
const PAGE_SIZE: usize = 50;

/// One page of the users in email order, from `cursor` (a page's `next` or `prev`).
pub async fn page(db: &Db, cursor: Option<&str>) -> Result<UsersPage, AppError> {
    let from = cursor.map(Cursor::<(String, Uuid)>::decode).transpose()?;
    let rows = store::page(db, from.as_ref().map(|c| (&c.key, c.before)), PAGE_SIZE as i64 + 1).await?;
    let page = paginate(rows, PAGE_SIZE, from.as_ref(), |(key, user)| (key.clone(), user.id));
    Ok(UsersPage { users: page.rows.into_iter().map(|(_, user)| user).collect(), next: page.next, prev: page.prev })
}

pub async fn create(db: &Db, caller: &Caller, email: &str, password: &SecretText, role: Role) -> Result<User, AppError> {
    let mut errors = FieldErrors::default();
    let email = parse_email(&mut errors, "email", email);
    check_password(&mut errors, "password", password);
    errors.into_result(())?;
    let hash = passwords::hash(secret(password)).await?;
    let user = store::insert(db, &email, &hash, role).await?;
    audit::record(db, caller, Action::UserCreated, Some(Target::new(TargetKind::User, user.id, &user.email)), Outcome::Ok, Some(format!("role {}", role))).await;
    Ok(user)
}

/// Changes a user's role and whether they may sign in; never leaves Keyport without an
/// active admin.
pub async fn update_access(db: &Db, caller: &Caller, id: Uuid, role: Role, disabled: bool) -> Result<User, AppError> {
    let user = store::update_access(db, id, role, disabled).await?.ok_or_else(|| AppError::not_found("that user"))?;
    let mut detail = format!("role {}, {}", role, if disabled { "disabled" } else { "enabled" });
    if disabled {
        // Enabling the user again must not bring back tokens made before.
        detail = format!("{detail}; {} API tokens revoked", tokens_store::revoke_all(db, id).await?);
    }
    audit::record(db, caller, Action::UserUpdated, Some(Target::new(TargetKind::User, user.id, &user.email)), Outcome::Ok, Some(detail)).await;
    Ok(user)
}

/// The signed-in user changes their own password: the current one first. Their other
/// sessions end (their stamp no longer matches); this one is re-stamped and goes on.
pub async fn change_own_password(db: &Db, session: &Session, caller: &Caller, current: &SecretText, new: &SecretText, confirm: &SecretText) -> Result<(), AppError> {
    let user = caller.user.as_ref().ok_or(AppError::Unauthorized)?;
    let mut errors = FieldErrors::default();
    check_password(&mut errors, "new", new);
    if new.expose() != confirm.expose() {
        errors.add("confirm", "does not match the new password");
    }
    errors.into_result(())?;
    let target = || Some(Target::new(TargetKind::User, user.id, &user.email));
    let (_, hash) = store::get_with_hash(db, user.id).await?.ok_or(AppError::Unauthorized)?;
    if !passwords::verify(secret(current), hash).await {
        audit::record(db, caller, Action::PasswordChanged, target(), Outcome::Failed, Some("wrong current password".into())).await;
        return Err(AppError::invalid("current", "is not your current password"));
    }
    let hash = passwords::hash(secret(new)).await?;
    store::set_password_hash(db, user.id, &hash).await?;
    open_session(session, user, &hash).await?;
    audit::record(db, caller, Action::PasswordChanged, target(), Outcome::Ok, Some("other sessions ended".into())).await;
    Ok(())
}

/// Sets a new password; the user's open sessions end (they were tied to the old one) and
/// their API tokens are revoked (whoever reset it may not trust what the tokens are in).
pub async fn reset_password(db: &Db, caller: &Caller, id: Uuid, password: &SecretText) -> Result<User, AppError> {
    let mut errors = FieldErrors::default();
    check_password(&mut errors, "password", password);
    errors.into_result(())?;
    let user = store::get(db, id).await?.ok_or_else(|| AppError::not_found("that user"))?;
    let hash = passwords::hash(secret(password)).await?;
    store::set_password_hash(db, id, &hash).await?;
    let revoked = tokens_store::revoke_all(db, id).await?;
    audit::record(db, caller, Action::PasswordReset, Some(Target::new(TargetKind::User, user.id, &user.email)), Outcome::Ok, Some(format!("{revoked} API tokens revoked"))).await;
    Ok(user)
}
