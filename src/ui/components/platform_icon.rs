use leptos::{either::Either, prelude::*};

/// The platform's icon, or its initial when it has none. Decorative: the name is beside it.
#[component]
pub fn PlatformIcon(name: String, icon_url: Option<String>, #[prop(default = 28)] size: u32) -> impl IntoView {
    match icon_url {
        Some(src) => Either::Left(view! {
            <img class="platform-icon" src=src alt="" width=size height=size loading="lazy" referrerpolicy="no-referrer"/>
        }),
        None => {
            // Capitalized by the style sheet: Rust's `to_uppercase` would bring Unicode's case
            // tables (about 12 KB) into the WASM module every page loads.
            let initial = name.chars().next().map(String::from).unwrap_or_default();
            Either::Right(view! {
                <span class="platform-icon initial" aria-hidden="true" style=format!("--size: {size}px")>{initial}</span>
            })
        }
    }
}
