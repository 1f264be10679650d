//! Notifications: what happened that a user should know about (a comment
//! on their memo). Each is seen and changed by its recipient alone, admins
//! included. Memo comments create them; this module lists, marks and
//! deletes them.
use super::DomainError;
use super::clock::EpochMillis;
use super::field_mask::FieldMask;
use super::notification_filter::NotificationFilter;
use super::ownership::{parse_owned_name, parse_owner, require_self};
use super::page_token::{self, Position};
use super::permission::Permission;
use super::ports::NotificationStore;
use super::principal::Principal;
use super::user::UserId;

/// Whether the recipient has dealt with it. The number is stored and
/// matches the proto enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationStatus {
    /// New.
    Unread,
    /// Read or dismissed.
    Archived,
}

impl NotificationStatus {
    /// The stored (and wire) number.
    pub fn number(self) -> i32 {
        match self {
            Self::Unread => 1,
            Self::Archived => 2,
        }
    }

    /// The status stored as `number`.
    pub fn from_number(number: i32) -> Option<Self> {
        match number {
            1 => Some(Self::Unread),
            2 => Some(Self::Archived),
            _ => None,
        }
    }

    /// The status named `name` in a filter.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "UNREAD" => Some(Self::Unread),
            "ARCHIVED" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// What happened. The number is stored and matches the proto enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    /// Someone commented on the recipient's memo.
    MemoComment,
}

impl NotificationKind {
    /// The stored (and wire) number.
    pub fn number(self) -> i32 {
        match self {
            Self::MemoComment => 1,
        }
    }

    /// The kind stored as `number`.
    pub fn from_number(number: i32) -> Option<Self> {
        match number {
            1 => Some(Self::MemoComment),
            _ => None,
        }
    }

    /// The kind named `name` in a filter.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "MEMO_COMMENT" => Some(Self::MemoComment),
            _ => None,
        }
    }
}

/// A stored notification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// Its id.
    pub id: uuid::Uuid,
    /// Who it is for.
    pub recipient: UserId,
    /// Who caused it, if a user did.
    pub sender: Option<UserId>,
    /// Read or not.
    pub status: NotificationStatus,
    /// What happened.
    pub kind: NotificationKind,
    /// The memo it is about, if any.
    pub memo: Option<uuid::Uuid>,
    /// When it happened.
    pub created_at: EpochMillis,
    /// Last status change.
    pub updated_at: EpochMillis,
}

impl Notification {
    /// `users/{user}/notifications/{notification}`.
    pub fn name(&self) -> String {
        format!(
            "{}/notifications/{}",
            self.recipient.resource_name(),
            self.id
        )
    }
}

/// A page of notifications.
#[derive(Clone, Debug)]
pub struct NotificationPage {
    /// Newest first.
    pub notifications: Vec<Notification>,
    /// The next page's token; empty on the last.
    pub next_page_token: String,
}

fn require_recipient(
    caller: &Principal,
    recipient: UserId,
    permission: Permission,
) -> Result<(), DomainError> {
    require_self(caller, recipient, permission, "notifications")
}

/// ListUserNotifications: newest first, filtered in SQL.
pub async fn list_notifications(
    store: &impl NotificationStore,
    caller: &Principal,
    parent: &str,
    page_size: i32,
    page_token_text: &str,
    filter_text: &str,
) -> Result<NotificationPage, DomainError> {
    let recipient = parse_owner("parent", parent)?;
    require_recipient(caller, recipient, Permission::DisplayNotificationOwn)?;
    let limit = page_token::page_size(page_size)?;
    let filter = NotificationFilter::parse(filter_text)?;
    let tag = page_token::query_tag(&[
        b"notifications",
        recipient.0.as_bytes(),
        filter_text.trim().as_bytes(),
    ]);
    let after = page_token::decode(page_token_text, tag)?;
    let mut notifications = store
        .list_notifications(recipient, filter.as_ref(), after, limit + 1)
        .await?;
    let next_page_token =
        page_token::finish_page(&mut notifications, limit, tag, |last| Position {
            at: last.created_at,
            id: last.id,
        });
    Ok(NotificationPage {
        notifications,
        next_page_token,
    })
}

/// UpdateUserNotification: the mask may name `status` only.
pub async fn update_notification(
    store: &impl NotificationStore,
    caller: &Principal,
    name: &str,
    status: i32,
    mask: FieldMask,
) -> Result<Notification, DomainError> {
    let (recipient, id) = parse_owned_name("notification.name", name, "notifications")?;
    require_recipient(caller, recipient, Permission::ManageNotificationOwn)?;
    mask.paths_within("update_mask", &["status"])?;
    let status = NotificationStatus::from_number(status)
        .ok_or_else(|| DomainError::invalid("notification.status", "must be UNREAD or ARCHIVED"))?;
    store
        .set_notification_status(recipient, id, status, EpochMillis::now())
        .await?
        .ok_or_else(|| DomainError::NotFound("notification not found".to_owned()))
}

/// DeleteUserNotification.
pub async fn delete_notification(
    store: &impl NotificationStore,
    caller: &Principal,
    name: &str,
) -> Result<(), DomainError> {
    let (recipient, id) = parse_owned_name("name", name, "notifications")?;
    require_recipient(caller, recipient, Permission::ManageNotificationOwn)?;
    if !store.delete_notification(recipient, id).await? {
        return Err(DomainError::NotFound("notification not found".to_owned()));
    }
    Ok(())
}
