//! Memo events for webhooks. Each change writes its event to an outbox in
//! the change's own transaction (one row per webhook of the memo's owner),
//! so an event exists exactly when its change does, and a dispatcher
//! delivers it later, surviving restarts.
use super::clock::EpochMillis;
use super::memos::Memo;
use super::user::UserId;

/// What happened to a memo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A memo was created.
    MemoCreated,
    /// A memo was changed.
    MemoUpdated,
    /// A memo was deleted.
    MemoDeleted,
    /// A comment was made on a memo.
    CommentCreated,
}

impl EventKind {
    /// The event type receivers see.
    pub fn name(self) -> &'static str {
        match self {
            Self::MemoCreated => "memos.memo.created",
            Self::MemoUpdated => "memos.memo.updated",
            Self::MemoDeleted => "memos.memo.deleted",
            Self::CommentCreated => "memos.memo.comment.created",
        }
    }
}

/// An event before it is encoded.
#[derive(Clone, Copy, Debug)]
pub struct MemoEvent<'a> {
    /// Its id: the `webhook-id` of every delivery of it.
    pub id: uuid::Uuid,
    /// What happened.
    pub kind: EventKind,
    /// The memo (or comment) as the change left it.
    pub memo: &'a Memo,
    /// When.
    pub at: EpochMillis,
}

/// Encodes events as the body webhooks receive (the API layer's JSON).
pub trait EventEncoder: Send + Sync {
    /// The POST body of `event`.
    fn encode(&self, event: &MemoEvent<'_>) -> Vec<u8>;
}

/// An encoded event, to be written to the outbox for each webhook of
/// `owner`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEvent {
    /// The event id.
    pub id: uuid::Uuid,
    /// What happened.
    pub kind: EventKind,
    /// Whose webhooks receive it: the memo's owner (for a comment, the
    /// owner of the memo commented on).
    pub owner: UserId,
    /// The body.
    pub payload: Vec<u8>,
    /// When.
    pub at: EpochMillis,
}

impl OutboxEvent {
    /// Encodes `kind` on `memo` for `owner`'s webhooks, at `at`.
    pub fn of(
        encoder: &impl EventEncoder,
        kind: EventKind,
        memo: &Memo,
        owner: UserId,
        at: EpochMillis,
    ) -> Self {
        let id = uuid::Uuid::now_v7();
        let payload = encoder.encode(&MemoEvent { id, kind, memo, at });
        Self {
            id,
            kind,
            owner,
            payload,
            at,
        }
    }
}
