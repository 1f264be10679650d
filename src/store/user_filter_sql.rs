//! PLACEHOLDER
use sea_orm::sea_query::Condition;

use crate::domain::user_filter::UserFilter;

pub(crate) fn user_filter_condition(_filter: &UserFilter) -> Condition {
    Condition::all()
}
