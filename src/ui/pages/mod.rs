pub mod audit;
pub mod not_found;
pub mod platform_detail;
pub mod platform_edit;
pub mod platforms_list;
pub mod profile;
pub mod sign_in;
pub mod users;
