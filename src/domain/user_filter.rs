//! ListUsers filters: a small CEL subset, parsed with the `cel` crate and
//! turned into a tree the store translates to SQL. Nothing is evaluated in
//! memory, and anything outside the subset is refused by name.
use cel::common::ast::IdedExpr;

use super::DomainError;
use super::cel_filter::{
    self, Grammar, Leaf, Tree, identifier, index_of, invalid, string_literal, unsupported_function,
};
use super::profile::{MAX_LABEL_VALUE_CHARS, is_label_key};
use super::user::{Role, UserState};

/// The text fields `startsWith` and `contains` apply to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextField {
    /// The username (compared in lowercase).
    Username,
    /// The email (compared in lowercase).
    Email,
    /// The display name (compared in lowercase).
    DisplayName,
}

/// A parsed filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserFilter {
    /// `username == "x"`, any case (lowercased here).
    UsernameIs(String),
    /// `username != "x"`; users without a username match.
    UsernameIsNot(String),
    /// `email == "x"`, any case.
    EmailIs(String),
    /// `email != "x"`.
    EmailIsNot(String),
    /// `role == "ADMIN"`.
    RoleIs(Role),
    /// `role != "ADMIN"`.
    RoleIsNot(Role),
    /// `state == "ARCHIVED"`.
    StateIs(UserState),
    /// `state != "ARCHIVED"`.
    StateIsNot(UserState),
    /// `field.startsWith("x")`, lowercased.
    StartsWith(TextField, String),
    /// `field.contains("x")`, lowercased.
    Contains(TextField, String),
    /// `labels["key"] == "value"`.
    Label {
        /// The label key.
        key: String,
        /// Its value.
        value: String,
    },
    /// Both.
    And(Box<UserFilter>, Box<UserFilter>),
    /// Either.
    Or(Box<UserFilter>, Box<UserFilter>),
}

impl UserFilter {
    /// The `labels["key"] == "value"` pairs the filter names.
    pub fn labels(&self) -> Vec<(&str, &str)> {
        let mut pairs = Vec::new();
        self.collect_labels(&mut pairs);
        pairs
    }

    fn collect_labels<'a>(&'a self, pairs: &mut Vec<(&'a str, &'a str)>) {
        match self {
            Self::Label { key, value } => pairs.push((key, value)),
            Self::And(left, right) | Self::Or(left, right) => {
                left.collect_labels(pairs);
                right.collect_labels(pairs);
            }
            _ => {}
        }
    }
}

const GRAMMAR: Grammar = Grammar {
    fields: "filter on username, email, display_name, role, state or labels[\"key\"]",
    operators: "==, !=, &&, ||, startsWith or contains",
};

impl Tree for UserFilter {
    fn and(left: Self, right: Self) -> Self {
        Self::And(Box::new(left), Box::new(right))
    }

    fn or(left: Self, right: Self) -> Self {
        Self::Or(Box::new(left), Box::new(right))
    }
}

impl UserFilter {
    /// Parses `text`; empty means no filter.
    pub fn parse(text: &str) -> Result<Option<Self>, DomainError> {
        cel_filter::parse(text, GRAMMAR, &mut translate)
    }
}

fn translate(leaf: Leaf<'_>) -> Result<UserFilter, DomainError> {
    match leaf {
        Leaf::Compare {
            field,
            equal,
            value,
        } => compare(field, equal, value),
        Leaf::Method {
            name: method @ ("startsWith" | "contains"),
            target,
            argument,
        } => {
            let field = match identifier(target) {
                Some("username") => TextField::Username,
                Some("email") => TextField::Email,
                Some("display_name") => TextField::DisplayName,
                other => {
                    return Err(invalid(format!(
                        "{method} applies to username, email or display_name, not {}",
                        other.unwrap_or("this expression")
                    )));
                }
            };
            let value = string_literal(argument)
                .ok_or_else(|| invalid(format!("{method} takes a string literal")))?
                .to_lowercase();
            Ok(if method == "startsWith" {
                UserFilter::StartsWith(field, value)
            } else {
                UserFilter::Contains(field, value)
            })
        }
        Leaf::Method { name, .. } => Err(unsupported_function(name, GRAMMAR)),
    }
}

fn compare(field: &IdedExpr, equal: bool, value: &str) -> Result<UserFilter, DomainError> {
    if let Some(key) = label_key(field)? {
        if !equal {
            return Err(invalid("labels support == only"));
        }
        if value.chars().count() > MAX_LABEL_VALUE_CHARS {
            return Err(invalid(format!(
                "label values are at most {MAX_LABEL_VALUE_CHARS} characters"
            )));
        }
        return Ok(UserFilter::Label {
            key,
            value: value.to_owned(),
        });
    }
    let pick = |is: UserFilter, is_not: UserFilter| if equal { is } else { is_not };
    match identifier(field) {
        Some("username") => {
            let key = value.to_lowercase();
            Ok(pick(
                UserFilter::UsernameIs(key.clone()),
                UserFilter::UsernameIsNot(key),
            ))
        }
        Some("email") => {
            let key = value.to_lowercase();
            Ok(pick(
                UserFilter::EmailIs(key.clone()),
                UserFilter::EmailIsNot(key),
            ))
        }
        Some("role") => {
            let role = match value {
                "ROOT" => Role::Root,
                "ADMIN" => Role::Admin,
                "USER" => Role::User,
                _ => return Err(invalid("role must be one of ROOT, ADMIN, USER")),
            };
            Ok(pick(UserFilter::RoleIs(role), UserFilter::RoleIsNot(role)))
        }
        Some("state") => {
            let state = match value {
                "NORMAL" => UserState::Normal,
                "ARCHIVED" => UserState::Archived,
                _ => return Err(invalid("state must be one of NORMAL, ARCHIVED")),
            };
            Ok(pick(
                UserFilter::StateIs(state),
                UserFilter::StateIsNot(state),
            ))
        }
        Some(other) => Err(invalid(format!(
            "unsupported field {other:?}: {}",
            GRAMMAR.fields
        ))),
        None => Err(invalid(format!(
            "unsupported expression: {}",
            GRAMMAR.fields
        ))),
    }
}

/// `labels["key"]` → the key; `None` for anything else.
fn label_key(expression: &IdedExpr) -> Result<Option<String>, DomainError> {
    let Some(("labels", key)) = index_of(expression) else {
        return Ok(None);
    };
    let key = string_literal(key).ok_or_else(|| invalid("labels are indexed by a string"))?;
    if !is_label_key(key) {
        return Err(invalid(
            "label keys are 1-63 characters of a-z, 0-9, '.', '_' or '-'",
        ));
    }
    Ok(Some(key.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> UserFilter {
        UserFilter::parse(text)
            .unwrap_or_else(|error| panic!("{text}: {error}"))
            .unwrap()
    }

    fn error(text: &str) -> String {
        UserFilter::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_supported_forms_parse() {
        assert_eq!(
            parse("username == \"Alice\""),
            UserFilter::UsernameIs("alice".into())
        );
        assert_eq!(
            parse("\"a@B.c\" == email"),
            UserFilter::EmailIs("a@b.c".into())
        );
        assert_eq!(
            parse("role != \"ADMIN\""),
            UserFilter::RoleIsNot(Role::Admin)
        );
        assert_eq!(
            parse("state == \"ARCHIVED\""),
            UserFilter::StateIs(UserState::Archived)
        );
        assert_eq!(
            parse("display_name.contains(\"Bo\")"),
            UserFilter::Contains(TextField::DisplayName, "bo".into())
        );
        assert_eq!(
            parse("labels[\"team\"] == \"core\""),
            UserFilter::Label {
                key: "team".into(),
                value: "core".into()
            }
        );
        assert!(matches!(
            parse("(username.startsWith(\"a\") || email == \"x@y.z\") && role == \"USER\""),
            UserFilter::And(_, _)
        ));
        assert_eq!(UserFilter::parse("  ").unwrap(), None);
    }

    #[test]
    fn anything_else_is_refused_by_name() {
        assert!(error("avatar_url == \"x\"").contains("\"avatar_url\""));
        assert!(error("username > \"a\"").contains("\">\""));
        assert!(error("username.matches(\"a\")").contains("\"matches\""));
        assert!(error("role == \"KING\"").contains("ROOT, ADMIN, USER"));
        assert!(error("labels[\"Bad Key\"] == \"x\"").contains("label keys"));
        assert!(error("labels[\"k\"] != \"x\"").contains("== only"));
        assert!(error("username == 1").contains("string literal"));
        assert!(error("username ==").contains("syntax error"));
        assert!(error("!(username == \"a\")").contains("\"!\""));
    }

    #[test]
    fn hostile_filters_hit_limits_not_the_server() {
        let long = format!("username == \"{}\"", "a".repeat(2000));
        assert!(error(&long).contains("1024 bytes"));
        let many = vec!["username == \"a\""; 17].join(" || ");
        assert!(error(&many).contains("comparisons"));
        let deep = format!("{}username == \"a\"{}", "(".repeat(400), ")".repeat(400));
        assert!(UserFilter::parse(&deep).is_err());
        for garbage in [
            "\"",
            "((((",
            "username == \"\\u0000\"",
            "ü == ü",
            "a.b.c.d(",
            "[1,2,3]",
            "{\"a\": 1}",
            "username in [\"a\"]",
            "99999999999999999999999",
            "\\",
            "&&",
            "||||",
        ] {
            let _ = UserFilter::parse(garbage);
        }
    }
}
