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
        _ => None,
    };
    view! {
        <div role="status" class="notice-slot">
            {move || message().map(|m| view! { <p class="notice success">{m}</p> })}
        </div>
    }
}
