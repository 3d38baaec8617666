use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The confirmation a page shows after a redirect (`?notice=created` and so on).
#[component]
pub fn Notice() -> impl IntoView {
    let query = use_query_map();
    let message = move || match query.read().get("notice").as_deref() {
        Some("created") => Some("Platform created."),
        Some("saved") => Some("Changes saved."),
        Some("deleted") => Some("Platform deleted."),
        Some("secret_saved") => Some("Secret saved and encrypted."),
        Some("secret_removed") => Some("Secret removed."),
        Some("welcome") => Some("Welcome! Keyport is set up and you are signed in as its first admin."),
        Some("signed_out") => Some("You are signed out."),
        Some("user_created") => Some("User created."),
        Some("user_updated") => Some("User updated."),
        Some("password_reset") => Some("Password reset. The user's open sessions have ended."),
        Some("token_revoked") => Some("API token revoked."),
        _ => None,
    };
    view! {
        <div role="status" class="notice-slot">
            {move || message().map(|m| view! { <p class="notice success">{m}</p> })}
        </div>
    }
}
