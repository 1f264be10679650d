//! The one role → permission table. `*_OWN` allows acting on the caller's
//! own records, `*_ANY` on anyone's. Later RPCs add their permissions here.
use super::user::Role;

/// Something a caller may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read one's own user record.
    DisplayUserOwn,
    /// Read any user record, deleted ones included.
    DisplayUserAny,
}

impl Permission {
    /// The GoodMem-style name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::DisplayUserOwn => "DISPLAY_USER_OWN",
            Self::DisplayUserAny => "DISPLAY_USER_ANY",
        }
    }
}

const ADMINISTRATOR: &[Permission] = &[Permission::DisplayUserOwn, Permission::DisplayUserAny];

const ORDINARY_USER: &[Permission] = &[Permission::DisplayUserOwn];

/// Everything `role` may do.
pub fn permissions_of(role: Role) -> &'static [Permission] {
    match role {
        Role::Root | Role::Admin => ADMINISTRATOR,
        Role::User => ORDINARY_USER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_users_act_on_their_own_records_only() {
        let granted = permissions_of(Role::User);
        assert!(granted.contains(&Permission::DisplayUserOwn));
        assert!(!granted.contains(&Permission::DisplayUserAny));
    }

    #[test]
    fn administrators_may_act_on_anyone() {
        for role in [Role::Root, Role::Admin] {
            assert!(permissions_of(role).contains(&Permission::DisplayUserAny));
        }
    }
}
