//! The HTML shell and the app: layout, navigation and routes. Wiring only.

use crate::{
    server_fns::auth::SignOut,
    domain::User,
    ui::{
        components::viewer::{viewer, viewer_json, VIEWER_ELEMENT},
        pages::{
            attention::AttentionPage,
            audit::AuditLogPage,
            import::ImportPage,
            keys::KeysPage,
            not_found::NotFound,
            page_pick::PagePickPage,
            platform_detail::PlatformPage,
            platform_edit::{EditPlatformPage, NewPlatformPage},
            platforms_list::PlatformsPage,
            calendar::CalendarPage,
            posts::{EditPostPage, PostsPage},
            profile::ProfilePage,
            sign_in::{LoginPage, SetupPage},
            users::UsersPage,
        },
    },
};
use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::{provide_meta_context, HashedStylesheet, Link, MetaTags, Title};
use leptos_router::{
    components::{Redirect, Route, Router, Routes, A},
    lazy_route, path, Lazy, LazyRoute, SsrMode,
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
                // The bundle's names carry their content's hash (cargo-leptos `hash-files`),
                // so browsers keep them for a year and a new build is a new name.
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
                // Who the page was rendered for, so hydration shows the same controls. In the
                // head: the body holds only what <App/> hydrates.
                <script type="application/json" id=VIEWER_ELEMENT>{viewer_json(&viewer())}</script>
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
    // Signing in or out reloads the page, so who is looking is fixed for its lifetime: the
    // server provides it per request; the browser reads the copy the server rendered.
    #[cfg(feature = "hydrate")]
    provide_context(crate::ui::components::viewer::viewer_from_page());
    let user = viewer().0;
    // Pages render completely on the server (SsrMode::Async) so they work before, and
    // without, the WASM bundle: out-of-order streaming would need JS to place content.
    view! {
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|title: String| if title.is_empty() { "Keyport".to_owned() } else { format!("{title} · Keyport") }/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <TopBar user/>
            <main id="main" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/platforms"/> } ssr=SsrMode::Async/>
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms") view=PlatformsPage ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/new") view={Lazy::<NewPlatformRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id") view={Lazy::<PlatformRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/edit") view={Lazy::<EditPlatformRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/platforms/:id/pages/:pick") view={Lazy::<PagePickRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view={Lazy::<AuditLogRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/posts") view={Lazy::<PostsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/posts/:id/edit") view={Lazy::<EditPostRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/calendar") view={Lazy::<CalendarRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/attention") view={Lazy::<AttentionRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/keys") view={Lazy::<KeysRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/import") view={Lazy::<ImportRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view={Lazy::<ProfileRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Pages other than the platforms list are split out of the main WASM bundle (`cargo leptos
/// build --split`): a browser downloads a page's code when it first shows that page. The
/// sign-in pages too: a signed-in browser, the usual case, never needs them. Each route is a
/// unit struct whose lazy view renders the page component.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    LoginRoute => LoginPage,
    SetupRoute => SetupPage,
    NewPlatformRoute => NewPlatformPage,
    PlatformRoute => PlatformPage,
    EditPlatformRoute => EditPlatformPage,
    PagePickRoute => PagePickPage,
    UsersRoute => UsersPage,
    AuditLogRoute => AuditLogPage,
    PostsRoute => PostsPage,
    EditPostRoute => EditPostPage,
    CalendarRoute => CalendarPage,
    AttentionRoute => AttentionPage,
    KeysRoute => KeysPage,
    ImportRoute => ImportPage,
    ProfileRoute => ProfilePage,
}

#[component]
fn TopBar(user: Option<User>) -> impl IntoView {
    let admin = user.as_ref().is_some_and(User::is_admin);
    view! {
        <header class="topbar">
            <A href="/platforms" attr:class="brand">
                <img src="/favicon.svg" alt="" width="28" height="28"/>
                <span>"Keyport"</span>
            </A>
            {user.map(|u| view! {
                <nav aria-label="Main">
                    <A href="/platforms">"Platforms"</A>
                    <A href="/posts">"Posts"</A>
                    <A href="/calendar">"Calendar"</A>
                    <A href="/attention">"Needs attention"</A>
                    {admin.then(|| view! {
                        <A href="/keys">"Keys"</A>
                        <A href="/import">"Import"</A>
                        <A href="/users">"Users"</A>
                        <A href="/audit">"Audit log"</A>
                    })}
                </nav>
                <div class="account">
                    <A href="/profile">{u.email}</A>
                    <form method="post" action={<SignOut as ServerFn>::PATH}>
                        <button type="submit" class="button">"Sign out"</button>
                    </form>
                </div>
            })}
        </header>
    }
}
