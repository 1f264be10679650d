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
use crate::domain::ports::{UniqueField, UserCatalog, UserListQuery};
use crate::domain::user::User;
use crate::domain::user_filter::UserFilter;
use crate::domain::users::UserLookup;

/// Runs of consecutive users sampled to estimate a filter's matches.
const STRATA: u64 = 3;
/// Users per run.
const STRATUM_SIZE: u64 = 100;

/// Label pairs held by at least this many users are matched row by row
/// along the list order instead of through the label index.
const COMMON_LABEL: u64 = 1_000;

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
            let common = self.common_labels(filter).await?;
            let scan = |key: &str, value: &str| {
                common
                    .iter()
                    .any(|(common_key, common_value)| common_key == key && common_value == value)
            };
            select = select.filter(user_filter_condition(filter, &scan));
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

    async fn count_users(&self, show_deleted: bool) -> Result<u64, DomainError> {
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
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Counts matches in [`STRATA`] runs of [`STRATUM_SIZE`] users, starting
    /// at evenly spaced creation times, in one statement; scales the share
    /// of matches to the running total. On a table no larger than the
    /// sample, the runs cover it and the count is exact.
    async fn estimate_matches(
        &self,
        filter: &UserFilter,
        show_deleted: bool,
    ) -> Result<u64, DomainError> {
        let total = self.count_users(show_deleted).await?;
        let users = Alias::new("users");
        let created_at = || Expr::col((Alias::new("users"), Alias::new("created_at")));
        // Two index lookups (one statement with both would scan on SQLite,
        // and MariaDB types its scalar subqueries DECIMAL).
        let edge = |order: sea_orm::Order| {
            user::Entity::find()
                .select_only()
                .column(user::Column::CreatedAt)
                .order_by(user::Column::CreatedAt, order)
                .limit(1)
                .into_tuple::<i64>()
                .one(self.reader())
        };
        let whole_table = total <= STRATA * STRATUM_SIZE;
        let (strata, run, first, last) = if whole_table {
            (1, STRATA * STRATUM_SIZE, i64::MIN, i64::MIN)
        } else {
            let (Some(first), Some(last)) = (
                edge(sea_orm::Order::Asc).await?,
                edge(sea_orm::Order::Desc).await?,
            ) else {
                return Ok(0);
            };
            (STRATA, STRATUM_SIZE, first, last)
        };
        let mut sample: Option<sea_orm::sea_query::SelectStatement> = None;
        for stratum in 0..strata {
            let start = first
                + (last - first) / i64::try_from(strata).unwrap_or(1)
                    * i64::try_from(stratum).unwrap_or(0);
            let mut run_query = Query::select();
            run_query
                .column(sea_orm::sea_query::Asterisk)
                .from(users.clone())
                .and_where(created_at().gte(start))
                .order_by(
                    (Alias::new("users"), Alias::new("created_at")),
                    sea_orm::sea_query::Order::Asc,
                )
                .order_by(
                    (Alias::new("users"), Alias::new("id")),
                    sea_orm::sea_query::Order::Asc,
                )
                .limit(run);
            if !show_deleted {
                run_query.and_where(Expr::col((users.clone(), Alias::new("deleted_at"))).is_null());
            }
            // Wrapped, so ORDER BY and LIMIT stay inside each run on SQLite.
            let wrapped = Query::select()
                .column(sea_orm::sea_query::Asterisk)
                .from_subquery(run_query, Alias::new(format!("run{stratum}")))
                .to_owned();
            sample = Some(match sample {
                None => wrapped,
                Some(mut union) => {
                    union.union(sea_orm::sea_query::UnionType::All, wrapped);
                    union
                }
            });
        }
        let Some(sample) = sample else {
            return Ok(0);
        };
        // Aliased `users`, so the filter's column names resolve to the
        // sample. Two plain COUNT(*)s: MariaDB types an aggregate over a
        // CASE as DECIMAL.
        let count = |filtered: bool| {
            let mut statement = Query::select();
            statement
                .expr(Expr::cust("COUNT(*)"))
                .from_subquery(sample.clone(), users.clone());
            if filtered {
                statement.cond_where(user_filter_condition(filter, &|_, _| true));
            }
            statement
        };
        let sampled = self.count_rows(&count(false)).await?;
        let matching = self.count_rows(&count(true)).await?;
        if whole_table || sampled == 0 {
            return Ok(matching);
        }
        let share = matching as f64 / sampled as f64;
        Ok((share * total as f64).round() as u64)
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

impl Store {
    /// The label pairs of `filter` that many users hold. A rare pair is
    /// best found through the label index and then sorted; a common one is
    /// best checked row by row along the list order, where the page fills
    /// after a few rows (SQLite picks the plan from the statement's shape,
    /// so the store shapes it).
    async fn common_labels(
        &self,
        filter: &UserFilter,
    ) -> Result<Vec<(String, String)>, DomainError> {
        let mut common = Vec::new();
        for (key, value) in filter.labels() {
            let holders = Query::select()
                .expr(Expr::cust("COUNT(*)"))
                .from_subquery(
                    Query::select()
                        .expr(Expr::val(1))
                        .from(Alias::new("user_labels"))
                        .and_where(Expr::col(Alias::new("label_key")).eq(key))
                        .and_where(Expr::col(Alias::new("label_value")).eq(value))
                        .limit(COMMON_LABEL)
                        .to_owned(),
                    Alias::new("holders"),
                )
                .to_owned();
            if self.count_rows(&holders).await? >= COMMON_LABEL {
                common.push((key.to_owned(), value.to_owned()));
            }
        }
        Ok(common)
    }

    /// The single COUNT(*) a statement selects.
    async fn count_rows(
        &self,
        statement: &sea_orm::sea_query::SelectStatement,
    ) -> Result<u64, DomainError> {
        let counted: i64 = match self.reader().query_one(statement).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(u64::try_from(counted).unwrap_or(0))
    }
}
