//! Category and status badges: colour plus text, so they read without colour too.

use crate::domain::{Category, Encryption, EncryptionState, Status};
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

/// The encryption badge: where the platform's secrets stand.
#[component]
pub fn EncryptionBadge(encryption: Encryption) -> impl IntoView {
    let icon = match encryption.state {
        EncryptionState::Current => "✓",
        EncryptionState::OldKey => "↻",
        EncryptionState::NoSecret => "○",
        EncryptionState::Failed => "⚠",
    };
    view! {
        <span class=format!("badge encryption encryption-{}", encryption.state)>
            <span aria-hidden="true">{icon}</span>
            {encryption.text()}
        </span>
    }
}
