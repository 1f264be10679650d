//! Memos and their comments: Markdown content whose facts are read on
//! every save, read by the visibility rules (PRIVATE: the creator only;
//! PROTECTED and PUBLIC: any signed-in user). A memo the caller may not see
//! is `NotFound`, so its existence is not revealed.
use super::clock::EpochMillis;
use super::events::{EventEncoder, EventKind, OutboxEvent};
use super::field_mask::FieldMask;
use super::memo_facts::{MemoFacts, memo_facts};
use super::notifications::{Notification, NotificationKind, NotificationStatus};
use super::ownership::parse_owner;
use super::page_token::{self, Position};
use super::permission::Permission;
use super::ports::{MemoStore, UserSettingStore};
use super::principal::Principal;
use super::user::UserId;
use super::user_settings::GeneralSetting;
use super::visibility::Visibility;
use super::{DomainError, Validation};

/// Largest memo content, in bytes.
pub const MAX_CONTENT_BYTES: usize = 64_000;

/// A stored memo or comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memo {
    /// Its id.
    pub id: uuid::Uuid,
    /// Who wrote it.
    pub creator: UserId,
    /// The memo a comment is on; `None` for a memo.
    pub parent: Option<uuid::Uuid>,
    /// Markdown.
    pub content: String,
    /// Who may read it.
    pub visibility: Visibility,
    /// Pinned to the top of its creator's memos.
    pub pinned: bool,
    /// What its content contains.
    pub facts: MemoFacts,
    /// Creation time.
    pub created_at: EpochMillis,
    /// Last change.
    pub updated_at: EpochMillis,
}

impl Memo {
    /// `memos/{uuid}`.
    pub fn name(&self) -> String {
        memo_name(self.id)
    }

    /// Whether `caller` may read it.
    pub fn visible_to(&self, caller: &Principal) -> bool {
        self.creator == caller.user.id || self.visibility != Visibility::Private
    }
}

/// `memos/{uuid}`.
pub fn memo_name(id: uuid::Uuid) -> String {
    format!("memos/{id}")
}

/// `memos/{uuid}` → the id, naming `field`.
pub fn parse_memo_name(field: &str, name: &str) -> Result<uuid::Uuid, DomainError> {
    name.strip_prefix("memos/")
        .and_then(|id| (id.len() == 36).then_some(id))
        .and_then(|id| uuid::Uuid::try_parse(id).ok())
        .ok_or_else(|| DomainError::invalid(field, "must look like memos/{uuid}"))
}

/// The memo fields of a request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct MemoInput {
    /// `memos/{uuid}` (updates only).
    pub name: String,
    /// Markdown.
    pub content: String,
    /// A visibility number; 0 is unspecified.
    pub visibility: i32,
    /// Pinned.
    pub pinned: bool,
}

fn check_content(field: &str, content: &str) -> Result<(), DomainError> {
    if content.trim().is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    if content.len() > MAX_CONTENT_BYTES {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_CONTENT_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn parse_visibility(field: &str, number: i32) -> Result<Visibility, DomainError> {
    Visibility::from_number(number)
        .ok_or_else(|| DomainError::invalid(field, "must be PRIVATE, PROTECTED or PUBLIC"))
}

/// The live memo `id`, if `caller` may see it; else `NotFound`.
async fn visible_memo(
    store: &impl MemoStore,
    caller: &Principal,
    id: uuid::Uuid,
) -> Result<Memo, DomainError> {
    match store.find_memo(id).await? {
        Some(memo) if memo.visible_to(caller) => Ok(memo),
        _ => Err(DomainError::NotFound("memo not found".to_owned())),
    }
}

/// The live memo `id` if `caller` created it: `NotFound` if it cannot see
/// it, `PermissionDenied` if it can but did not write it.
async fn own_memo(
    store: &impl MemoStore,
    caller: &Principal,
    id: uuid::Uuid,
) -> Result<Memo, DomainError> {
    let memo = visible_memo(store, caller, id).await?;
    if memo.creator != caller.user.id {
        return Err(DomainError::PermissionDenied(
            "memos are changed by their creator alone".to_owned(),
        ));
    }
    Ok(memo)
}

/// CreateMemo. Without a visibility, the creator's GENERAL setting decides.
pub async fn create_memo(
    store: &(impl MemoStore + UserSettingStore),
    events: &impl EventEncoder,
    caller: &Principal,
    input: MemoInput,
) -> Result<Memo, DomainError> {
    caller.require(Permission::ManageMemoOwn)?;
    let mut validation = Validation::default();
    validation.check(check_content("memo.content", &input.content));
    let visibility = if input.visibility == 0 {
        None
    } else {
        validation.check(parse_visibility("memo.visibility", input.visibility))
    };
    validation.finish()?;
    let visibility = match visibility {
        Some(visibility) => visibility,
        None => {
            store
                .general_setting(caller.user.id)
                .await?
                .unwrap_or_else(GeneralSetting::default)
                .memo_visibility
        }
    };
    let now = EpochMillis::now();
    let memo = Memo {
        id: uuid::Uuid::now_v7(),
        creator: caller.user.id,
        parent: None,
        facts: memo_facts(&input.content),
        content: input.content,
        visibility,
        pinned: input.pinned,
        created_at: now,
        updated_at: now,
    };
    let event = OutboxEvent::of(events, EventKind::MemoCreated, &memo, memo.creator, now);
    store.create_memo(&memo, None, &event).await?;
    Ok(memo)
}

/// GetMemo.
pub async fn get_memo(
    store: &impl MemoStore,
    caller: &Principal,
    name: &str,
) -> Result<Memo, DomainError> {
    caller.require(Permission::DisplayMemo)?;
    let id = parse_memo_name("name", name)?;
    visible_memo(store, caller, id).await
}

/// A page of memos.
#[derive(Clone, Debug)]
pub struct MemoPage {
    /// The memos.
    pub memos: Vec<Memo>,
    /// The next page's token; empty on the last.
    pub next_page_token: String,
}

/// ListMemos: a user's memos the caller may see, newest first.
pub async fn list_memos(
    store: &impl MemoStore,
    caller: &Principal,
    parent: &str,
    page_size: i32,
    page_token_text: &str,
) -> Result<MemoPage, DomainError> {
    caller.require(Permission::DisplayMemo)?;
    let creator = parse_owner("parent", parent)?;
    let limit = page_token::page_size(page_size)?;
    let tag = page_token::query_tag(&[b"memos", creator.0.as_bytes()]);
    let after = page_token::decode(page_token_text, tag)?;
    let include_private = creator == caller.user.id;
    let mut memos = store
        .list_memos(creator, include_private, after, limit + 1)
        .await?;
    let next_page_token = page_token::finish_page(&mut memos, limit, tag, |last| Position {
        at: last.created_at,
        id: last.id,
    });
    Ok(MemoPage {
        memos,
        next_page_token,
    })
}

/// UpdateMemo: `content`, `visibility`, `pinned`, as the mask says. A
/// comment keeps its memo's visibility; a memo's new visibility applies to
/// its comments too.
pub async fn update_memo(
    store: &impl MemoStore,
    events: &impl EventEncoder,
    caller: &Principal,
    input: MemoInput,
    mask: FieldMask,
) -> Result<Memo, DomainError> {
    caller.require(Permission::ManageMemoOwn)?;
    let id = parse_memo_name("memo.name", &input.name)?;
    let paths = mask.paths_within("update_mask", &["content", "visibility", "pinned"])?;
    let names = |field: &str| paths.iter().any(|path| path == field);
    let mut validation = Validation::default();
    if names("content") {
        validation.check(check_content("memo.content", &input.content));
    }
    let visibility = if names("visibility") {
        validation.check(parse_visibility("memo.visibility", input.visibility))
    } else {
        None
    };
    validation.finish()?;
    let mut memo = own_memo(store, caller, id).await?;
    if memo.parent.is_some() && visibility.is_some_and(|visibility| visibility != memo.visibility) {
        return Err(DomainError::invalid(
            "memo.visibility",
            "a comment has its memo's visibility",
        ));
    }
    if names("content") {
        memo.facts = memo_facts(&input.content);
        memo.content = input.content;
    }
    if let Some(visibility) = visibility {
        memo.visibility = visibility;
    }
    if names("pinned") {
        memo.pinned = input.pinned;
    }
    memo.updated_at = EpochMillis::now().max(memo.updated_at);
    let event = OutboxEvent::of(
        events,
        EventKind::MemoUpdated,
        &memo,
        memo.creator,
        memo.updated_at,
    );
    if !store.update_memo(&memo, &event).await? {
        return Err(DomainError::NotFound("memo not found".to_owned()));
    }
    Ok(memo)
}

/// DeleteMemo: the memo and its comments.
pub async fn delete_memo(
    store: &impl MemoStore,
    events: &impl EventEncoder,
    caller: &Principal,
    name: &str,
) -> Result<(), DomainError> {
    caller.require(Permission::ManageMemoOwn)?;
    let id = parse_memo_name("name", name)?;
    let memo = own_memo(store, caller, id).await?;
    let now = EpochMillis::now();
    let event = OutboxEvent::of(events, EventKind::MemoDeleted, &memo, memo.creator, now);
    if !store.delete_memo(id, now, &event).await? {
        return Err(DomainError::NotFound("memo not found".to_owned()));
    }
    Ok(())
}

/// CreateMemoComment. A comment by anyone but the memo's creator gives the
/// creator a MEMO_COMMENT notification, stored in the same transaction.
/// (A PRIVATE memo is seen by its creator alone, so only they comment on
/// it, and nobody is notified.)
pub async fn create_comment(
    store: &impl MemoStore,
    events: &impl EventEncoder,
    caller: &Principal,
    name: &str,
    content: String,
) -> Result<Memo, DomainError> {
    caller.require(Permission::ManageMemoOwn)?;
    let parent_id = parse_memo_name("name", name)?;
    check_content("comment.content", &content)?;
    let parent = visible_memo(store, caller, parent_id).await?;
    if parent.parent.is_some() {
        return Err(DomainError::invalid(
            "name",
            "comments are made on memos, not on comments",
        ));
    }
    let now = EpochMillis::now();
    let comment = Memo {
        id: uuid::Uuid::now_v7(),
        creator: caller.user.id,
        parent: Some(parent.id),
        facts: memo_facts(&content),
        content,
        visibility: parent.visibility,
        pinned: false,
        created_at: now,
        updated_at: now,
    };
    let notification = (parent.creator != caller.user.id
        && parent.visibility != Visibility::Private)
        .then(|| Notification {
            id: uuid::Uuid::now_v7(),
            recipient: parent.creator,
            sender: Some(caller.user.id),
            status: NotificationStatus::Unread,
            kind: NotificationKind::MemoComment,
            memo: Some(parent.id),
            created_at: now,
            updated_at: now,
        });
    let event = OutboxEvent::of(
        events,
        EventKind::CommentCreated,
        &comment,
        parent.creator,
        now,
    );
    store
        .create_memo(&comment, notification.as_ref(), &event)
        .await?;
    Ok(comment)
}

/// ListMemoComments: oldest first.
pub async fn list_comments(
    store: &impl MemoStore,
    caller: &Principal,
    name: &str,
    page_size: i32,
    page_token_text: &str,
) -> Result<MemoPage, DomainError> {
    caller.require(Permission::DisplayMemo)?;
    let parent_id = parse_memo_name("name", name)?;
    let limit = page_token::page_size(page_size)?;
    let tag = page_token::query_tag(&[b"comments", parent_id.as_bytes()]);
    let after = page_token::decode(page_token_text, tag)?;
    visible_memo(store, caller, parent_id).await?;
    let mut memos = store.list_comments(parent_id, after, limit + 1).await?;
    let next_page_token = page_token::finish_page(&mut memos, limit, tag, |last| Position {
        at: last.created_at,
        id: last.id,
    });
    Ok(MemoPage {
        memos,
        next_page_token,
    })
}
