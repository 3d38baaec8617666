use leptos::prelude::*;

/// The platform's icon, or its initial when it has none. Decorative: the name is beside it.
#[component]
pub fn PlatformIcon(name: String, icon_url: Option<String>, #[prop(default = 28)] size: u32) -> impl IntoView {
    match icon_url {
        Some(src) => view! {
            <img class="platform-icon" src=src alt="" width=size height=size loading="lazy" referrerpolicy="no-referrer"/>
        }
        .into_any(),
        None => {
            let initial = name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
            view! {
                <span class="platform-icon initial" aria-hidden="true" style=format!("--size: {size}px")>{initial}</span>
            }
            .into_any()
        }
    }
}
