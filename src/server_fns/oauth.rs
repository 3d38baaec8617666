//! Server functions of a platform's OAuth settings. Connecting and disconnecting are plain
//! form posts to `/oauth/{id}/…` (see `server::oauth::connect`): they leave the site.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, OauthSettings, OauthSettingsForm, ProviderChoice};
use leptos::prelude::*;

/// The provider catalog, for "start from a provider" and the settings form.
#[server]
pub async fn provider_choices() -> Result<Vec<ProviderChoice>, AppError> {
    guarded(Role::Marketer, |_| async move { Ok(oauth::catalog::choices()) }).await
}

/// Saves which provider a platform uses, its client id and any endpoint overrides.
#[server]
pub async fn save_oauth_settings(id: String, form: OauthSettingsForm) -> Result<OauthSettings, AppError> {
    guarded(Role::Admin, |cx| async move {
        let state = &cx.state;
        let platform = platforms::get(&state.db, &state.keyring, parse_id(&id, "platform")?).await?;
        oauth::save_settings(state, &cx.caller, &platform, form).await
    })
    .await
}

/// The Pages a Facebook connection offers, for the person who started it (never a token).
#[server]
pub async fn get_page_pick(id: String, pick: String) -> Result<crate::domain::PagePick, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let state = &cx.state;
        let platform = platforms::get(&state.db, &state.keyring, parse_id(&id, "platform")?).await?;
        let pick = parse_id(&pick, "Page choice")?;
        oauth::facebook::view(state, &cx.caller, &platform, pick).await.map_err(|e| match e {
            oauth::facebook::PickError::App(e) => e,
            gone => AppError::Gone { message: format!("{gone}: press Connect again on the platform page") },
        })
    })
    .await
}

/// A Pinterest account's boards, for the board picker (read from Pinterest each time).
#[server]
pub async fn account_boards(id: String, account: String) -> Result<Vec<crate::domain::Board>, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let state = &cx.state;
        crate::server::publish::boards::list(state, &cx.caller, parse_id(&id, "platform")?, parse_id(&account, "account")?).await
    })
    .await
}
