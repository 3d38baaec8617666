//! Pages and the components they share. No SQL, crypto or HTTP clients here: data comes
//! from the server functions in `api/`.

pub mod components;
pub mod format;
pub mod pages;
pub mod resource;
