//! Server functions of a platform's OAuth settings. Connecting and disconnecting are plain
//! form posts to `/oauth/{id}/…` (see `server::oauth::connect`): they leave the site.

use crate::domain::{AppError, OauthSettings, OauthSettingsForm, ProviderChoice};
use leptos::prelude::*;

/// The provider catalog, for "start from a provider" and the settings form.
#[server]
pub async fn provider_choices() -> Result<Vec<ProviderChoice>, AppError> {
    use crate::{domain::Role, server::{auth::require, error::respond, oauth::catalog}};
    respond(async {
        require(Role::Marketer)?;
        Ok(catalog::choices())
    })
    .await
}

/// Saves which provider a platform uses, its client id and any endpoint overrides.
#[server]
pub async fn save_oauth_settings(id: String, form: OauthSettingsForm) -> Result<OauthSettings, AppError> {
    use crate::{domain::Role, server::{auth::{caller, require}, error::respond, oauth, platforms, state::app_state}};
    respond(async {
        require(Role::Admin)?;
        let state = app_state()?;
        let platform = platforms::get(&state.db, &state.keyring, platforms::parse_id(&id)?).await?;
        oauth::save_settings(&state, &caller(), &platform, form).await
    })
    .await
}
