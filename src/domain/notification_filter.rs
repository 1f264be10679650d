//! ListUserNotifications filters: CEL over `status` and `type`, turned into
//! a tree the store translates to SQL.
use super::DomainError;
use super::cel_filter::{self, Grammar, Leaf, Tree, identifier, invalid, unsupported_function};
use super::notifications::{NotificationKind, NotificationStatus};

const GRAMMAR: Grammar = Grammar {
    fields: "filter on status or type",
    operators: "==, !=, && or ||",
};

/// A parsed filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotificationFilter {
    /// `status == "UNREAD"` (`equal`) or `status != "UNREAD"`.
    Status {
        /// The status compared with.
        status: NotificationStatus,
        /// `==` or `!=`.
        equal: bool,
    },
    /// `type == "MEMO_COMMENT"` or `!=`.
    Kind {
        /// The type compared with.
        kind: NotificationKind,
        /// `==` or `!=`.
        equal: bool,
    },
    /// Both.
    And(Box<NotificationFilter>, Box<NotificationFilter>),
    /// Either.
    Or(Box<NotificationFilter>, Box<NotificationFilter>),
}

impl Tree for NotificationFilter {
    fn and(left: Self, right: Self) -> Self {
        Self::And(Box::new(left), Box::new(right))
    }

    fn or(left: Self, right: Self) -> Self {
        Self::Or(Box::new(left), Box::new(right))
    }
}

impl NotificationFilter {
    /// Parses `text`; empty means no filter.
    pub fn parse(text: &str) -> Result<Option<Self>, DomainError> {
        cel_filter::parse(text, GRAMMAR, &mut translate)
    }
}

fn translate(leaf: Leaf<'_>) -> Result<NotificationFilter, DomainError> {
    let (field, equal, value) = match leaf {
        Leaf::Compare {
            field,
            equal,
            value,
        } => (field, equal, value),
        Leaf::Method { name, .. } => return Err(unsupported_function(name, GRAMMAR)),
    };
    match identifier(field) {
        Some("status") => {
            let status = NotificationStatus::from_name(value)
                .ok_or_else(|| invalid("status must be one of UNREAD, ARCHIVED"))?;
            Ok(NotificationFilter::Status { status, equal })
        }
        Some("type") => {
            let kind = NotificationKind::from_name(value)
                .ok_or_else(|| invalid("type must be MEMO_COMMENT"))?;
            Ok(NotificationFilter::Kind { kind, equal })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        NotificationFilter::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn status_and_type_comparisons_parse() {
        assert_eq!(
            NotificationFilter::parse("status == \"UNREAD\"").unwrap(),
            Some(NotificationFilter::Status {
                status: NotificationStatus::Unread,
                equal: true
            })
        );
        assert!(matches!(
            NotificationFilter::parse("\"ARCHIVED\" != status || type == \"MEMO_COMMENT\"")
                .unwrap(),
            Some(NotificationFilter::Or(_, _))
        ));
        assert_eq!(NotificationFilter::parse("").unwrap(), None);
    }

    #[test]
    fn anything_else_is_refused_by_name() {
        assert!(error("sender == \"users/x\"").contains("\"sender\""));
        assert!(error("status == \"READ\"").contains("UNREAD, ARCHIVED"));
        assert!(error("type == \"LIKE\"").contains("MEMO_COMMENT"));
        assert!(error("status.startsWith(\"U\")").contains("\"startsWith\""));
        assert!(error("status < \"U\"").contains("\"<\""));
        assert!(error("status ==").contains("syntax error"));
        let many = vec!["status == \"UNREAD\""; 17].join(" || ");
        assert!(error(&many).contains("comparisons"));
    }
}
