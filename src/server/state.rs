//! What every request handler and server function can reach.

use super::{config::Config, db::Db};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state inside a server function (leptos_axum provides it as context).
pub fn app_state() -> Result<AppState, crate::domain::AppError> {
    leptos::prelude::use_context::<AppState>()
        .ok_or_else(|| super::error::internal("AppState missing from the server function context"))
}
