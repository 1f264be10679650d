//! Who may read a memo; also a user's default for new memos.

/// A memo's audience. Its number is stored and matches the proto enum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// The owner only.
    #[default]
    Private,
    /// Any signed-in user.
    Protected,
    /// Anyone signed in, and listed publicly.
    Public,
}

impl Visibility {
    /// The stored (and wire) number.
    pub fn number(self) -> i32 {
        match self {
            Self::Private => 1,
            Self::Protected => 2,
            Self::Public => 3,
        }
    }

    /// The visibility stored as `number`; `None` for unspecified or unknown.
    pub fn from_number(number: i32) -> Option<Self> {
        match number {
            1 => Some(Self::Private),
            2 => Some(Self::Protected),
            3 => Some(Self::Public),
            _ => None,
        }
    }
}
