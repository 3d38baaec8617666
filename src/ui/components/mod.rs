pub mod badges;
pub mod credentials_panel;
pub mod error_view;
pub mod fields;
pub mod notice;
pub mod platform_icon;
pub mod timestamp;
pub mod viewer;
