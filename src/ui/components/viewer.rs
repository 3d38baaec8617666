//! Who is looking at the page, for showing only what they may do. The server enforces the
//! same rules on every call; this only keeps the interface honest.

use crate::{
    domain::{AppError, Role, User},
    ui::components::error_view::ErrorView,
};
use leptos::prelude::*;

/// The signed-in user, provided by the app shell.
#[derive(Clone, Debug, Default)]
pub struct Viewer(pub Option<User>);

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.0.as_ref().is_some_and(User::is_admin)
    }
}

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
    Viewer(serde_json::from_str(&text).ok().flatten())
}

/// Shows `children` to admins and a 403 explanation to everyone else.
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    move || {
        if viewer().is_admin() {
            children().into_any()
        } else {
            let message = format!("this page is for admins; you are signed in as a {}", Role::Marketer.label().to_lowercase());
            view! { <ErrorView error=AppError::Forbidden { message }/> }.into_any()
        }
    }
}
