//! Prepares a benchmark: `seed db` creates a database with ROOT (and its
//! API key) plus N ordinary users, in bulk (multi-row inserts, one
//! transaction per batch: a million users in well under a minute);
//! `seed grpc-body`, `list-body` and `sign-in-body` write the framed
//! requests that h2load sends.
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use roster::domain::clock::EpochMillis;
use roster::domain::password::{Password, PasswordHasher};
use roster::domain::system::{BootstrapCaller, Initialization, initialize_system};
use roster::domain::user::{Email, Role, User, UserId, UserState, Username};
use roster::proto::goodmem::v1 as pb;
use roster::store::{Store, users};

#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates and fills a fresh database.
    Db {
        /// A database that does not exist yet, e.g. `sqlite:///tmp/x.db?mode=rwc`.
        #[arg(long)]
        database_url: String,
        /// How many users besides ROOT.
        #[arg(long, default_value_t = 100_000)]
        users: u64,
        /// Users per write transaction.
        #[arg(long, default_value_t = 10_000)]
        batch: u64,
        /// Where to write the shell-sourceable facts (`ROOT_API_KEY`,
        /// `TARGET_USER_ID`, `N_USERS`, `SIGNIN_*`).
        #[arg(long)]
        meta: PathBuf,
        /// How many of the users (the first ones) get the sign-in password.
        #[arg(long, default_value_t = 1_000)]
        signin_users: u64,
    },
    /// Writes a framed `ListUsersRequest`.
    ListBody {
        /// Page size.
        #[arg(long, default_value_t = 50)]
        page_size: i32,
        /// Page token (empty for the first page).
        #[arg(long, default_value = "")]
        page_token: String,
        /// CEL filter.
        #[arg(long, default_value = "")]
        filter: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes a framed `SignInRequest` for one of the users with a password.
    SignInBody {
        /// The username.
        #[arg(long)]
        username: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Writes `\0` + 4-byte big-endian length + `GetUserRequest{user_id}`.
    GrpcBody {
        /// The user asked for.
        #[arg(long)]
        user_id: uuid::Uuid,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Db {
            database_url,
            users,
            batch,
            meta,
            signin_users,
        } => seed(&database_url, users, batch.max(1), signin_users, &meta).await,
        Command::ListBody {
            page_size,
            page_token,
            filter,
            out,
        } => {
            let request = pb::ListUsersRequest {
                page_size,
                page_token,
                filter,
                show_deleted: false,
            };
            std::fs::write(&out, roster_bench::grpc_frame(&request))
                .with_context(|| format!("cannot write {}", out.display()))
        }
        Command::SignInBody { username, out } => {
            let request = pb::SignInRequest {
                username,
                password: SIGNIN_PASSWORD.to_owned(),
                ..Default::default()
            };
            std::fs::write(&out, roster_bench::grpc_frame(&request))
                .with_context(|| format!("cannot write {}", out.display()))
        }
        Command::GrpcBody { user_id, out } => {
            let request = pb::GetUserRequest {
                user_id: user_id.as_bytes().to_vec(),
                ..Default::default()
            };
            std::fs::write(&out, roster_bench::grpc_frame(&request))
                .with_context(|| format!("cannot write {}", out.display()))
        }
    }
}

const TEAMS: &[&str] = &["core", "growth", "infra", "support"];

/// The password of the first `--signin-users` users.
const SIGNIN_PASSWORD: &str = "bench-password-1";

async fn seed(
    database_url: &str,
    count: u64,
    batch: u64,
    signin_users: u64,
    meta: &PathBuf,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = Store::open(database_url).await?;
    let Initialization::Performed {
        root_user_id,
        root_api_key,
    } = initialize_system(
        &store,
        BootstrapCaller {
            on_this_machine: true,
            ..BootstrapCaller::default()
        },
    )
    .await?
    else {
        anyhow::bail!("{database_url} is already initialized: seed a fresh database");
    };
    // A fixed, "random-ish" index away from both ends of the id index.
    let target_index = count.saturating_mul(618) / 1000;
    let mut target = root_user_id;
    // One hash for every user with a password: hashing is the slow part of
    // a sign-in, not of seeding.
    let password_hash = PasswordHasher::new(1)
        .hash(&Password::parse("password", SIGNIN_PASSWORD)?)
        .await?;
    // Creation times one millisecond apart, ending now: list order is
    // creation order, as with users created over time.
    let first_created = EpochMillis::now().0 - i64::try_from(count).unwrap_or(0);
    let mut inserted = 0;
    while inserted < count {
        let transaction = store.begin_write().await?;
        let end = (inserted + batch).min(count);
        let mut bulk = Vec::with_capacity(usize::try_from(end - inserted).unwrap_or(0));
        for index in inserted..end {
            let user = bench_user(index, root_user_id, first_created);
            if index == target_index {
                target = user.id;
            }
            if index < signin_users {
                users::insert(&transaction, &user, Some(&password_hash))
                    .await
                    .with_context(|| format!("inserting user {index}"))?;
            } else {
                bulk.push(user);
            }
        }
        users::insert_many(&transaction, &bulk)
            .await
            .with_context(|| format!("inserting users {inserted}..{end}"))?;
        transaction.commit().await?;
        inserted = end;
        eprintln!(
            "seeded {inserted}/{count} users ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
    }
    store.close().await;
    let mut file =
        std::fs::File::create(meta).with_context(|| format!("cannot write {}", meta.display()))?;
    writeln!(file, "N_USERS={count}")?;
    writeln!(file, "ROOT_API_KEY={}", root_api_key.expose())?;
    writeln!(file, "ROOT_USER_ID={root_user_id}")?;
    writeln!(file, "TARGET_USER_ID={target}")?;
    writeln!(file, "SIGNIN_USERS={}", signin_users.min(count))?;
    writeln!(file, "SIGNIN_USERNAME=user0000000")?;
    writeln!(file, "SIGNIN_PASSWORD={SIGNIN_PASSWORD}")?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "seeded {count} users in {seconds:.1}s ({:.0} users/s); target user {target}",
        count as f64 / seconds.max(0.001)
    );
    Ok(())
}

/// An ordinary user, shaped like the ones the API creates: unique email and
/// username, a display name, a description and one label.
fn bench_user(index: u64, creator: UserId, first_created: i64) -> User {
    let created = EpochMillis(first_created + i64::try_from(index).unwrap_or(0));
    let team = TEAMS[usize::try_from(index % TEAMS.len() as u64).unwrap_or(0)];
    User {
        id: UserId::generate(),
        email: Email::parse("email", &format!("user{index:07}@example.com"))
            .expect("a valid email"),
        username: Some(
            Username::parse("username", &format!("user{index:07}")).expect("a valid username"),
        ),
        display_name: format!("Benchmark User {index}"),
        role: Role::User,
        state: UserState::Normal,
        avatar_url: format!("https://avatars.example.com/{index}.png"),
        description: "created by bench/ceilings seed".to_owned(),
        labels: [
            ("team".to_owned(), team.to_owned()),
            ("shard".to_owned(), (index % 10).to_string()),
        ]
        .into(),
        version: 1,
        created_at: created,
        updated_at: created,
        deleted_at: None,
        created_by: Some(creator),
        updated_by: Some(creator),
        deleted_by: None,
    }
}
