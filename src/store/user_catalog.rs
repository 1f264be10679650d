//! Reading users in bulk (ListUsers and its counts), for sign-in, and for
//! uniqueness checks.
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Query};
use sea_orm::{
    ColumnTrait as _, Condition, ConnectionTrait as _, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};

use super::Store;
use super::entity::{user, user_totals};
use super::user_filter_sql::user_filter_condition;
use super::users::into_domain;
use crate::domain::DomainError;
use crate::domain::password::PasswordHash;
use crate::domain::ports::{COUNT_CAP, UniqueField, UserCatalog, UserListQuery};
use crate::domain::user::User;
use crate::domain::user_filter::UserFilter;
use crate::domain::users::UserLookup;

impl UserCatalog for Store {
    /// Walks the (created_at, id) index from the page token's position:
    /// `created_at >= t` is the index range, the rest filters only the
    /// rows created in that same millisecond, so a deep page costs what
    /// the first one does on every backend.
    async fn list_users(&self, query: &UserListQuery) -> Result<Vec<User>, DomainError> {
        let mut select = user::Entity::find();
        if !query.show_deleted {
            select = select.filter(user::Column::DeletedAt.is_null());
        }
        if let Some(filter) = &query.filter {
            select = select.filter(user_filter_condition(filter));
        }
        if let Some(after) = query.after {
            select = select
                .filter(user::Column::CreatedAt.gte(after.created_at.0))
                .filter(
                    Condition::any()
                        .add(user::Column::CreatedAt.gt(after.created_at.0))
                        .add(user::Column::Id.gt(after.id.0)),
                );
        }
        let rows = select
            .order_by_asc(user::Column::CreatedAt)
            .order_by_asc(user::Column::Id)
            .limit(query.limit)
            .all(self.reader())
            .await?;
        rows.into_iter().map(into_domain).collect()
    }

    /// Without a filter, the running totals; with one, a count that stops
    /// at [`COUNT_CAP`] matches.
    async fn count_users(
        &self,
        filter: Option<&UserFilter>,
        show_deleted: bool,
    ) -> Result<u64, DomainError> {
        let Some(filter) = filter else {
            let totals = user_totals::Entity::find_by_id(1)
                .one(self.reader())
                .await?;
            let count = totals.map_or(0, |totals| {
                if show_deleted {
                    totals.all_users
                } else {
                    totals.live_users
                }
            });
            return Ok(u64::try_from(count).unwrap_or(0));
        };
        let users = Alias::new("users");
        let mut matching = Query::select();
        matching
            .expr(Expr::col((users.clone(), Alias::new("id"))))
            .from(users.clone())
            .cond_where(user_filter_condition(filter))
            .limit(COUNT_CAP);
        if !show_deleted {
            matching.and_where(Expr::col((users, Alias::new("deleted_at"))).is_null());
        }
        let count = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from_subquery(matching, Alias::new("capped"))
            .to_owned();
        let row = self.reader().query_one(&count).await?;
        let counted: i64 = match row {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(u64::try_from(counted).unwrap_or(0))
    }

    async fn find_for_sign_in(
        &self,
        lookup: &UserLookup,
    ) -> Result<Option<(User, Option<PasswordHash>)>, DomainError> {
        let select = match lookup {
            UserLookup::Id(id) => user::Entity::find().filter(user::Column::Id.eq(id.0)),
            UserLookup::EmailKey(key) => {
                user::Entity::find().filter(user::Column::EmailKey.eq(key.as_str()))
            }
            UserLookup::UsernameKey(key) => {
                user::Entity::find().filter(user::Column::UsernameKey.eq(key.as_str()))
            }
        };
        let Some(mut row) = select
            .filter(user::Column::DeletedAt.is_null())
            .one(self.reader())
            .await?
        else {
            return Ok(None);
        };
        let hash = row.password_hash.take().map(PasswordHash::from_storage);
        Ok(Some((into_domain(row)?, hash)))
    }

    async fn taken(&self, candidate: &User) -> Result<Option<UniqueField>, DomainError> {
        let by_id = user::Entity::find_by_id(candidate.id.0)
            .one(self.reader())
            .await?;
        if by_id.is_some() {
            return Ok(Some(UniqueField::Id));
        }
        let live = || user::Entity::find().filter(user::Column::Tombstone.eq(""));
        let email = live()
            .filter(user::Column::EmailKey.eq(candidate.email.key()))
            .one(self.reader())
            .await?;
        if email.is_some() {
            return Ok(Some(UniqueField::Email));
        }
        if let Some(username) = &candidate.username {
            let holder = live()
                .filter(user::Column::UsernameKey.eq(username.key()))
                .one(self.reader())
                .await?;
            if holder.is_some() {
                return Ok(Some(UniqueField::Username));
            }
        }
        Ok(None)
    }
}
