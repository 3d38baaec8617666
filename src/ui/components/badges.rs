//! Category and status badges: colour plus text, so they read without colour too.

use crate::domain::{Category, Status};
use leptos::prelude::*;

#[component]
pub fn CategoryBadge(category: Category) -> impl IntoView {
    view! { <span class=format!("badge category category-{category}")>{category.label()}</span> }
}

#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! {
        <span class=format!("badge status status-{status}")>
            <span class="dot" aria-hidden="true"></span>
            {status.label()}
        </span>
    }
}
