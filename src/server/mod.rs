//! Everything that only runs on the server: configuration, the database, the HTTP router
//! and the services the server functions and the JSON API call.

pub mod attention;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod egress;
pub mod error;
pub mod import;
pub mod integrity;
pub mod json_api;
pub mod keys;
pub mod media;
pub mod oauth;
pub mod paging;
pub mod platforms;
pub mod publish;
pub mod retry;
pub mod rotation;
pub mod router;
pub mod search_counts;
pub mod search_orders;
pub mod secrets;
pub mod shutdown;
pub mod slots;
pub mod state;
pub mod store;
pub mod text_input;
pub mod users;
pub mod workers;
