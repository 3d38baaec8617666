//! The data a page loads through a server function: fetched while the server renders the
//! page, sent along with it, and read back in the browser when the page hydrates.

use leptos::{
    prelude::*,
    server::codee::{Decoder, Encoder},
};
use serde::{de::DeserializeOwned, Serialize};
use std::future::Future;

/// JSON, read from bytes the way server functions read their answers (server_fn's `Json`
/// decodes with `serde_json::from_slice`). leptos's default codec reads the page's copy with
/// `from_str`, and each reader is a separate copy of every type's deserializer in the WASM
/// bundle: with one reader there is one copy (docs/performance.md, "The main module under 300 KB").
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// `Resource::new`, with [`Json`].
#[track_caller]
pub fn resource<T, S, Fut>(source: impl Fn() -> S + Send + Sync + 'static, fetcher: impl Fn(S) -> Fut + Send + Sync + 'static) -> Resource<T, Json>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
