//! Keyset positions as conditions: the rows after a page's last one in a
//! `(created_at, id)` order. The leading `created_at` bound is a plain
//! range, so the `(owner, created_at, id)` indexes serve it.
use sea_orm::{ColumnTrait, Condition};

use crate::domain::page_token::Position;

/// Rows after `position` in newest-first order.
pub(crate) fn older_than(
    created_at: impl ColumnTrait,
    id: impl ColumnTrait,
    position: Position,
) -> Condition {
    Condition::all().add(created_at.lte(position.at.0)).add(
        Condition::any()
            .add(created_at.lt(position.at.0))
            .add(id.lt(position.id)),
    )
}

/// Rows after `position` in oldest-first order.
pub(crate) fn newer_than(
    created_at: impl ColumnTrait,
    id: impl ColumnTrait,
    position: Position,
) -> Condition {
    Condition::all().add(created_at.gte(position.at.0)).add(
        Condition::any()
            .add(created_at.gt(position.at.0))
            .add(id.gt(position.id)),
    )
}
