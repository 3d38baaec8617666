//! Ids as they arrive in URLs and forms.

use super::AppError;
use uuid::Uuid;

/// Reads the id of a `what` ("platform", "user", …), naming what was expected if it is not one.
pub fn parse_id(text: &str, what: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text.trim()).map_err(|_| AppError::invalid("id", format!("is not a {what} id (expected a UUID)")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_it_expected() {
        let id = Uuid::now_v7();
        assert_eq!(parse_id(&format!(" {id} "), "user").unwrap(), id);
        let err = parse_id("42", "user").unwrap_err();
        assert_eq!(err.fields().unwrap().get("id"), Some("is not a user id (expected a UUID)"));
    }
}
