//! Keyport: the admin app where a team keeps its third-party integrations and the
//! credentials behind them. One crate, two builds: `ssr` (the axum server) and
//! `hydrate` (the WASM bundle). Server-only code lives in `server`, gated here only.

pub mod server_fns;
pub mod app;
pub mod domain;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Asynchronously: a page whose code is split out of the main bundle (app.rs,
    // `lazy_pages!`) is hydrated once its module has loaded. Then `data-hydrated` on <body>
    // tells browser tests (and curious people) that the app has taken over the whole page.
    // (leptos::mount::hydrate_lazy, plus that mark.)
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await.forget();
        if let Some(body) = leptos::prelude::document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
