pub mod badges;
pub mod error_view;
pub mod fields;
pub mod notice;
pub mod platform_icon;
pub mod timestamp;
