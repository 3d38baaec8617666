use crate::{domain::AppError, ui::components::error_view::ErrorView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found"/>
        <ErrorView error=AppError::not_found("This page")>
            <p><A href="/platforms">"Go to the platforms list"</A></p>
        </ErrorView>
    }
}
