//! Who is looking at the page ([`Viewer`], provided by the server per request and read back
//! from the page when it hydrates), for showing only what they may do.

use crate::{
    domain::{AppError, Role, Viewer},
    ui::components::error_view::ErrorView,
};
use leptos::prelude::*;

pub fn viewer() -> Viewer {
    use_context::<Viewer>().unwrap_or_default()
}

/// The element id of the JSON copy of the viewer in the page, for hydration.
pub const VIEWER_ELEMENT: &str = "keyport-viewer";

/// The viewer as JSON that is safe inside a `<script type="application/json">`.
pub fn viewer_json(viewer: &Viewer) -> String {
    serde_json::to_string(&viewer.0).unwrap_or_else(|_| "null".into()).replace('<', "\\u003c")
}

/// In the browser: the viewer the server rendered the page for.
#[cfg(feature = "hydrate")]
pub fn viewer_from_page() -> Viewer {
    let text = document().get_element_by_id(VIEWER_ELEMENT).and_then(|e| e.text_content()).unwrap_or_default();
    // from_slice: the one JSON reader in the bundle (ui/resource.rs).
    Viewer(serde_json::from_slice(text.as_bytes()).ok().flatten())
}

/// Shows `children` to admins and a 403 explanation to everyone else.
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    move || {
        if viewer().is_admin() {
            children().into_any()
        } else {
            let message = format!("this page is for admins; you are signed in as a {}", Role::Marketer.label().to_ascii_lowercase());
            view! { <ErrorView error=AppError::Forbidden { message }/> }.into_any()
        }
    }
}
