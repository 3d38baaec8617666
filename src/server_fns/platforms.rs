//! Server functions behind the platform pages.

#[cfg(feature = "ssr")]
use super::prelude::*;
use crate::domain::{AppError, ListParams, Platform, PlatformForm, PlatformList};
use leptos::prelude::*;

#[server]
pub async fn list_platforms(#[server(default)] params: ListParams) -> Result<PlatformList, AppError> {
    guarded(Role::Marketer, |cx| async move {
        let query = crate::domain::PlatformQuery::parse(&params)?;
        platforms::list(&cx.state, &query).await
    })
    .await
}

#[server]
pub async fn get_platform(id: String) -> Result<Platform, AppError> {
    guarded(Role::Marketer, |cx| async move { platforms::get(&cx.state.db, &cx.state.keyring, parse_id(&id, "platform")?).await })
        .await
}

/// Creates the platform (from a catalog provider, when one is chosen) and sends the browser to its page.
#[server]
pub async fn create_platform(form: PlatformForm) -> Result<Platform, AppError> {
    guarded(Role::Admin, |cx| async move {
        let platform = platforms::create_from_form(&cx.state, &cx.caller, form).await?;
        leptos_axum::redirect(&format!("/platforms/{}?notice=created", platform.id));
        Ok(platform)
    })
    .await
}

#[server]
pub async fn update_platform(id: String, form: PlatformForm) -> Result<Platform, AppError> {
    guarded(Role::Admin, |cx| async move {
        let id = parse_id(&id, "platform")?;
        let platform = platforms::update(&cx.state.db, &cx.state.keyring, &cx.caller, id, form.validate()?).await?;
        leptos_axum::redirect(&format!("/platforms/{id}?notice=saved"));
        Ok(platform)
    })
    .await
}

#[server]
pub async fn delete_platform(id: String) -> Result<(), AppError> {
    guarded(Role::Admin, |cx| async move {
        platforms::delete(&cx.state, &cx.caller, parse_id(&id, "platform")?).await?;
        leptos_axum::redirect("/platforms?notice=deleted");
        Ok(())
    })
    .await
}
