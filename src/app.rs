//! The HTML shell and the app: layout, navigation and routes. Wiring only.

use crate::ui::pages::{
    not_found::NotFound,
    platform_detail::PlatformPage,
    platform_edit::{EditPlatformPage, NewPlatformPage},
    platforms_list::PlatformsPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Redirect, Route, Router, Routes, A},
    path, SsrMode,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Tells browser tests (and curious people) that the WASM app has taken over the page.
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    // Pages render completely on the server (SsrMode::Async) so they work before, and
    // without, the WASM bundle: out-of-order streaming would need JS to place content.
    view! {
        <Stylesheet id="leptos" href="/pkg/keyport.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|title: String| if title.is_empty() { "Keyport".to_owned() } else { format!("{title} · Keyport") }/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <A href="/platforms" attr:class="brand">
                    <img src="/favicon.svg" alt="" width="28" height="28"/>
                    <span>"Keyport"</span>
                </A>
                <nav aria-label="Main">
                    <A href="/platforms">"Platforms"</A>
                </nav>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/platforms"/> } ssr=SsrMode::Async/>
                    <Route path=path!("/platforms") view=PlatformsPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/new") view=NewPlatformPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id") view=PlatformPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/edit") view=EditPlatformPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
