use chrono::{DateTime, Datelike, Timelike, Utc};
use leptos::prelude::*;

/// A point in time: UTC from the server, then the reader's own zone once the app runs in
/// the browser (the server cannot know it).
#[component]
pub fn Timestamp(at: DateTime<Utc>) -> impl IntoView {
    // Written out rather than `format("%Y-%m-%d %H:%M UTC")`: chrono's format-string parser
    // and formatter would otherwise be in the WASM module every page loads.
    let utc = format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", at.year(), at.month(), at.day(), at.hour(), at.minute());
    let title = utc.clone();
    // The server writes the same text node without a signal: a list renders 50 of these,
    // and each signal is a slot in reactive_graph's arena, shared by every request.
    #[cfg(not(feature = "hydrate"))]
    let text = utc;
    #[cfg(feature = "hydrate")]
    let text = {
        let local = RwSignal::new(None::<String>);
        Effect::new(move |_| local.set(Some(local_time(at))));
        move || local.get().unwrap_or_else(|| utc.clone())
    };
    view! { <time datetime=at.to_rfc3339() title=title>{text}</time> }
}

#[cfg(feature = "hydrate")]
fn local_time(at: DateTime<Utc>) -> String {
    use js_sys::{Date, Object, Reflect};
    use wasm_bindgen::JsValue;
    let options = Object::new();
    let _ = Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = Reflect::set(&options, &"timeStyle".into(), &"short".into());
    let date = Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    date.to_locale_string("default", &options).into()
}
