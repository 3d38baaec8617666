//! Server functions behind the profile page: the signed-in user's personal API tokens.

use crate::domain::{ApiToken, AppError, NewApiToken};
use leptos::prelude::*;

#[server]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, AppError> {
    use crate::{domain::Role, server::{auth::{require, tokens}, error::respond, state::app_state}};
    respond(async { tokens::list(&app_state()?.db, &require(Role::Marketer)?).await }).await
}

/// Creates a token and returns its value: the only time it is shown.
#[server]
pub async fn create_api_token(name: String) -> Result<NewApiToken, AppError> {
    use crate::{domain::Role, server::{audit::{self, Target}, auth::{caller, require, tokens}, error::respond, state::app_state}};
    respond(async {
        let user = require(Role::Marketer)?;
        let db = app_state()?.db;
        let created = tokens::create(&db, &user, &name).await?;
        audit::record(&db, &caller(), "api_token_created", Some(Target::new("api_token", created.token.id, &created.token.name)), "ok", None).await;
        Ok(created)
    })
    .await
}

#[server]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    use crate::{domain::Role, server::{audit::{self, Target}, auth::{caller, require, tokens}, error::respond, platforms::parse_id, state::app_state}};
    respond(async {
        let user = require(Role::Marketer)?;
        let db = app_state()?.db;
        let id = parse_id(&id)?;
        let name = tokens::revoke(&db, &user, id).await?;
        audit::record(&db, &caller(), "api_token_revoked", Some(Target::new("api_token", id, &name)), "ok", None).await;
        leptos_axum::redirect("/profile?notice=token_revoked");
        Ok(())
    })
    .await
}
