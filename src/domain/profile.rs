//! The user fields a client may set, validated all at once so that one
//! answer lists every problem. Field names are reported as request paths
//! (`user.email`).
use std::collections::BTreeMap;

use super::Validation;
use super::password::Password;
use super::user::{Email, Role, UserState, Username};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 255;
/// Longest avatar URL, in characters.
pub const MAX_AVATAR_URL_CHARS: usize = 2048;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Most labels a user may carry.
pub const MAX_LABELS: usize = 20;
/// Longest label value, in characters.
pub const MAX_LABEL_VALUE_CHARS: usize = 255;

/// The settable fields of a user as a request carries them: unchecked.
#[derive(Clone, Debug, Default)]
pub struct UserFields {
    /// Email address.
    pub email: String,
    /// Username; empty for none.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Avatar URL.
    pub avatar_url: String,
    /// Bio.
    pub description: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Password; empty for none.
    pub password: String,
    /// Role number; 0 for unset.
    pub role: i32,
    /// State number; 0 for unset.
    pub state: i32,
}

/// Checks an email, recording a violation of `user.email`.
pub fn check_email(validation: &mut Validation, text: &str) -> Option<Email> {
    if text.is_empty() {
        validation.add("user.email", "must be set");
        return None;
    }
    validation.check(Email::parse("user.email", text))
}

/// Checks an optional username (empty means none).
pub fn check_username(validation: &mut Validation, text: &str) -> Option<Option<Username>> {
    if text.is_empty() {
        return Some(None);
    }
    validation
        .check(Username::parse("user.username", text))
        .map(Some)
}

/// Checks a free-text field's length.
pub fn check_text(validation: &mut Validation, field: &str, text: &str, max_chars: usize) -> bool {
    if text.chars().count() > max_chars {
        validation.add(field, format!("must be at most {max_chars} characters"));
        return false;
    }
    true
}

/// Whether `key` is a valid label key: `[a-z0-9._-]{1,63}`.
pub fn is_label_key(key: &str) -> bool {
    (1..=63).contains(&key.len())
        && key
            .bytes()
            .all(|byte| matches!(byte, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
}

/// Checks a label map (its size, keys and values).
pub fn check_labels(validation: &mut Validation, labels: &BTreeMap<String, String>) -> bool {
    let mut valid = true;
    if labels.len() > MAX_LABELS {
        validation.add("user.labels", format!("at most {MAX_LABELS} labels"));
        valid = false;
    }
    for (key, value) in labels {
        if !is_label_key(key) {
            validation.add(
                format!("user.labels[{key:?}]"),
                "label keys are 1-63 characters of a-z, 0-9, '.', '_' or '-'",
            );
            valid = false;
        }
        if value.chars().count() > MAX_LABEL_VALUE_CHARS {
            validation.add(
                format!("user.labels[{key:?}]"),
                format!("label values are at most {MAX_LABEL_VALUE_CHARS} characters"),
            );
            valid = false;
        }
    }
    valid
}

/// Checks an optional role number (0 means unset).
pub fn check_role(validation: &mut Validation, number: i32) -> Option<Option<Role>> {
    if number == 0 {
        return Some(None);
    }
    match Role::from_number(number) {
        Some(role) => Some(Some(role)),
        None => {
            validation.add("user.role", "must be ROOT, ADMIN or USER");
            None
        }
    }
}

/// Checks an optional state number (0 means unset).
pub fn check_state(validation: &mut Validation, number: i32) -> Option<Option<UserState>> {
    if number == 0 {
        return Some(None);
    }
    match UserState::from_number(number) {
        Some(state) => Some(Some(state)),
        None => {
            validation.add("user.state", "must be NORMAL or ARCHIVED");
            None
        }
    }
}

/// Checks an optional password (empty means none).
pub fn check_password(validation: &mut Validation, text: &str) -> Option<Option<Password>> {
    if text.is_empty() {
        return Some(None);
    }
    validation
        .check(Password::parse("user.password", text))
        .map(Some)
}

/// A new user's fields, every one valid.
#[derive(Clone, Debug)]
pub struct UserDraft {
    /// Email.
    pub email: Email,
    /// Username.
    pub username: Option<Username>,
    /// Display name.
    pub display_name: String,
    /// Avatar URL.
    pub avatar_url: String,
    /// Bio.
    pub description: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Password.
    pub password: Option<Password>,
    /// Requested role.
    pub role: Option<Role>,
    /// Requested state.
    pub state: Option<UserState>,
}

impl UserDraft {
    /// Validates every field, recording each violation.
    pub fn check(validation: &mut Validation, fields: UserFields) -> Option<Self> {
        let UserFields {
            email,
            username,
            display_name,
            avatar_url,
            description,
            labels,
            password,
            role,
            state,
        } = fields;
        let email = check_email(validation, &email);
        let username = check_username(validation, &username);
        let texts_ok = [
            check_text(
                validation,
                "user.display_name",
                &display_name,
                MAX_DISPLAY_NAME_CHARS,
            ),
            check_text(
                validation,
                "user.avatar_url",
                &avatar_url,
                MAX_AVATAR_URL_CHARS,
            ),
            check_text(
                validation,
                "user.description",
                &description,
                MAX_DESCRIPTION_CHARS,
            ),
            check_labels(validation, &labels),
        ];
        let role = check_role(validation, role);
        let state = check_state(validation, state);
        let password = check_password(validation, &password);
        if !texts_ok.iter().all(|ok| *ok) {
            return None;
        }
        Some(Self {
            email: email?,
            username: username?,
            display_name,
            avatar_url,
            description,
            labels,
            password: password?,
            role: role?,
            state: state?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let mut validation = Validation::default();
        let fields = UserFields {
            email: "not-an-email".into(),
            username: "-bad-".into(),
            display_name: "x".repeat(256),
            labels: [("Bad Key".to_owned(), "v".to_owned())].into(),
            password: "short".into(),
            role: 9,
            ..Default::default()
        };

        let draft = UserDraft::check(&mut validation, fields);

        assert!(draft.is_none());
        let error = validation.finish().unwrap_err().to_string();
        for field in [
            "user.email",
            "user.username",
            "user.display_name",
            "user.labels",
            "user.password",
            "user.role",
        ] {
            assert!(error.contains(field), "{field} missing from {error}");
        }
    }

    #[test]
    fn a_minimal_user_needs_only_an_email() {
        let mut validation = Validation::default();
        let draft = UserDraft::check(
            &mut validation,
            UserFields {
                email: "a@example.com".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(validation.is_clean());
        assert_eq!(draft.username, None);
        assert_eq!(draft.role, None);
    }

    #[test]
    fn label_keys_follow_the_contract() {
        assert!(is_label_key("team.core-1_x"));
        assert!(!is_label_key(""));
        assert!(!is_label_key("Team"));
        assert!(!is_label_key(&"k".repeat(64)));
    }
}
