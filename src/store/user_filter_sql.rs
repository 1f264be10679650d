//! ListUsers filters as SQL conditions. Username and email compare their
//! lowercase key columns; `display_name` is lowered in SQL, so every text
//! comparison is case-insensitive (for ASCII) on all three backends. Values
//! are always bound, and LIKE patterns escape their wildcards.
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait as _, Func, LikeExpr, Query};

use crate::domain::user_filter::{TextField, UserFilter};

fn users_column(name: &str) -> Expr {
    Expr::col((Alias::new("users"), Alias::new(name)))
}

/// Whether a label pair is matched row by row (`true`: a correlated
/// EXISTS probing the label primary key) or through the label index
/// (`false`: `id IN (…)` on `(label_key, label_value)`).
pub(crate) type LabelScan<'a> = &'a dyn Fn(&str, &str) -> bool;

/// The condition selecting the users `filter` matches.
pub(crate) fn user_filter_condition(filter: &UserFilter, scan_label: LabelScan<'_>) -> Condition {
    match filter {
        UserFilter::UsernameIs(key) => Condition::all().add(users_column("username_key").eq(key)),
        UserFilter::UsernameIsNot(key) => Condition::any()
            .add(users_column("username_key").is_null())
            .add(users_column("username_key").ne(key)),
        UserFilter::EmailIs(key) => Condition::all().add(users_column("email_key").eq(key)),
        UserFilter::EmailIsNot(key) => Condition::all().add(users_column("email_key").ne(key)),
        UserFilter::RoleIs(role) => Condition::all().add(users_column("role").eq(role.number())),
        UserFilter::RoleIsNot(role) => Condition::all().add(users_column("role").ne(role.number())),
        UserFilter::StateIs(state) => {
            Condition::all().add(users_column("state").eq(state.number()))
        }
        UserFilter::StateIsNot(state) => {
            Condition::all().add(users_column("state").ne(state.number()))
        }
        UserFilter::StartsWith(field, prefix) => {
            Condition::all().add(text(*field).like(like(&format!("{}%", escape(prefix)))))
        }
        UserFilter::Contains(field, part) => {
            Condition::all().add(text(*field).like(like(&format!("%{}%", escape(part)))))
        }
        UserFilter::Label { key, value } => {
            let label = |column: &str| Expr::col((Alias::new("user_labels"), Alias::new(column)));
            let mut holders = Query::select();
            holders
                .from(Alias::new("user_labels"))
                .and_where(label("label_key").eq(key))
                .and_where(label("label_value").eq(value));
            if scan_label(key, value) {
                // Probes the (user_id, label_key) primary key per user.
                holders
                    .expr(Expr::val(1))
                    .and_where(label("user_id").equals((Alias::new("users"), Alias::new("id"))));
                Condition::all().add(Expr::exists(holders.to_owned()))
            } else {
                // An index lookup on user_labels (label_key, label_value).
                holders.column((Alias::new("user_labels"), Alias::new("user_id")));
                Condition::all().add(users_column("id").in_subquery(holders.to_owned()))
            }
        }
        UserFilter::And(left, right) => Condition::all()
            .add(user_filter_condition(left, scan_label))
            .add(user_filter_condition(right, scan_label)),
        UserFilter::Or(left, right) => Condition::any()
            .add(user_filter_condition(left, scan_label))
            .add(user_filter_condition(right, scan_label)),
    }
}

fn text(field: TextField) -> Expr {
    match field {
        TextField::Username => users_column("username_key"),
        TextField::Email => users_column("email_key"),
        TextField::DisplayName => Func::lower(users_column("display_name")).into(),
    }
}

fn like(pattern: &str) -> LikeExpr {
    LikeExpr::new(pattern).escape('\\')
}

/// The literal with LIKE's wildcards and the escape character escaped.
fn escape(literal: &str) -> String {
    let mut escaped = String::with_capacity(literal.len());
    for character in literal.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;

    fn sql(filter: &str) -> String {
        let filter = UserFilter::parse(filter).unwrap().unwrap();
        Query::select()
            .column((Alias::new("users"), Alias::new("id")))
            .from(Alias::new("users"))
            .cond_where(user_filter_condition(&filter, &|_, _| false))
            .to_string(SqliteQueryBuilder)
    }

    #[test]
    fn comparisons_use_the_lowercase_keys() {
        assert!(sql("username == \"Ann\"").contains("\"users\".\"username_key\" = 'ann'"));
        assert!(sql("username != \"ann\"").contains("\"username_key\" IS NULL OR"));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        let rendered = sql("display_name.contains(\"50%_off\")");
        assert!(
            rendered.contains("LOWER(\"users\".\"display_name\") LIKE '%50\\%\\_off%' ESCAPE '\\'"),
            "{rendered}"
        );
    }

    #[test]
    fn labels_are_a_subquery_on_the_label_index() {
        let filter = UserFilter::parse("labels[\"team\"] == \"core\"")
            .unwrap()
            .unwrap();
        let (statement, values) = Query::select()
            .column((Alias::new("users"), Alias::new("id")))
            .from(Alias::new("users"))
            .cond_where(user_filter_condition(&filter, &|_, _| false))
            .build(PostgresQueryBuilder);
        assert!(statement.contains("\"id\" IN (SELECT \"user_labels\".\"user_id\" FROM \"user_labels\" WHERE \"user_labels\".\"label_key\" = $1 AND \"user_labels\".\"label_value\" = $2)"), "{statement}");
        assert_eq!(values.0.len(), 2);
        let scanned = Query::select()
            .column((Alias::new("users"), Alias::new("id")))
            .from(Alias::new("users"))
            .cond_where(user_filter_condition(&filter, &|_, _| true))
            .to_string(SqliteQueryBuilder);
        assert!(
            scanned.contains("EXISTS(SELECT 1 FROM \"user_labels\" WHERE"),
            "{scanned}"
        );
        assert!(
            scanned.contains("\"user_labels\".\"user_id\" = \"users\".\"id\""),
            "{scanned}"
        );
    }
}
