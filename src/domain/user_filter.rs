//! PLACEHOLDER until the CEL module lands.
use super::DomainError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserFilter {
    UsernameIs(String),
}

impl UserFilter {
    pub fn parse(text: &str) -> Result<Option<UserFilter>, DomainError> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        Err(DomainError::invalid("filter", "unsupported"))
    }
}
