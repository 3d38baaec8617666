use crate::domain::AppError;
use leptos::prelude::*;

/// Shows an error a page could not recover from, and sets the HTTP status of the page
/// when it is rendered on the server.
#[component]
pub fn ErrorView(error: AppError, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::from_u16(error.status()).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR));
    }
    let title = match &error {
        AppError::NotFound { .. } => "Not found",
        AppError::Invalid { .. } | AppError::Conflict { .. } => "That request is not valid",
        AppError::Unauthorized => "Please sign in",
        AppError::Forbidden { .. } => "Not allowed",
        AppError::Unavailable { .. } => "Temporarily unavailable",
        AppError::Gone { .. } => "No longer available",
        AppError::TooManyRequests { .. } => "Too many attempts",
        AppError::Internal { .. } => "Something went wrong",
        AppError::Transport { .. } => "Could not reach Keyport",
    };
    view! {
        <section class="alert error" role="alert">
            <h2>{title}</h2>
            <p>{error.to_string()}</p>
            {children.map(|c| c())}
        </section>
    }
}

/// The summary above a form whose submission failed: what is wrong, in one place.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let text = match e.fields() {
                Some(fields) if fields.0.len() == 1 => "Please correct the highlighted field.".to_owned(),
                Some(fields) => format!("Please correct the {} highlighted fields.", fields.0.len()),
                None => e.to_string(),
            };
            view! { <p class="alert error" role="alert">{text}</p> }
        })
    }
}
