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
    /// List users.
    ListUser,
    /// Create users of any role but ROOT.
    CreateUser,
    /// Change one's own profile and password.
    UpdateUserOwn,
    /// Change anyone's record, username, role and state included.
    UpdateUserAny,
    /// Delete users.
    DeleteUserAny,
    /// Read and change the instance settings.
    ManageInstance,
    /// List, create and revoke one's own personal access tokens.
    ManageTokenOwn,
    /// List and revoke anyone's personal access tokens.
    ManageTokenAny,
    /// Read one's own settings.
    DisplaySettingOwn,
    /// Read anyone's settings.
    DisplaySettingAny,
    /// Change one's own settings (nobody changes another's).
    UpdateSettingOwn,
    /// List one's own webhooks.
    DisplayWebhookOwn,
    /// List anyone's webhooks.
    DisplayWebhookAny,
    /// Create, change and delete one's own webhooks.
    ManageWebhookOwn,
    /// Create, change and delete anyone's webhooks.
    ManageWebhookAny,
    /// List one's own notifications (nobody reads another's).
    DisplayNotificationOwn,
    /// Mark and delete one's own notifications.
    ManageNotificationOwn,
    /// Read the memos one may see (one's own, and others' PUBLIC and PROTECTED).
    DisplayMemo,
    /// Write, change, comment on and delete one's own memos.
    ManageMemoOwn,
    /// Read one's own memo statistics.
    DisplayStatsOwn,
    /// Read anyone's memo statistics (their PUBLIC and PROTECTED memos).
    DisplayStatsAny,
}

impl Permission {
    /// Every permission, in table order.
    pub const ALL: &[Permission] = &[
        Self::DisplayUserOwn,
        Self::DisplayUserAny,
        Self::ListUser,
        Self::CreateUser,
        Self::UpdateUserOwn,
        Self::UpdateUserAny,
        Self::DeleteUserAny,
        Self::ManageInstance,
        Self::ManageTokenOwn,
        Self::ManageTokenAny,
        Self::DisplaySettingOwn,
        Self::DisplaySettingAny,
        Self::UpdateSettingOwn,
        Self::DisplayWebhookOwn,
        Self::DisplayWebhookAny,
        Self::ManageWebhookOwn,
        Self::ManageWebhookAny,
        Self::DisplayNotificationOwn,
        Self::ManageNotificationOwn,
        Self::DisplayMemo,
        Self::ManageMemoOwn,
        Self::DisplayStatsOwn,
        Self::DisplayStatsAny,
    ];

    /// The GoodMem-style name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::DisplayUserOwn => "DISPLAY_USER_OWN",
            Self::DisplayUserAny => "DISPLAY_USER_ANY",
            Self::ListUser => "LIST_USER",
            Self::CreateUser => "CREATE_USER",
            Self::UpdateUserOwn => "UPDATE_USER_OWN",
            Self::UpdateUserAny => "UPDATE_USER_ANY",
            Self::DeleteUserAny => "DELETE_USER_ANY",
            Self::ManageInstance => "MANAGE_INSTANCE",
            Self::ManageTokenOwn => "MANAGE_TOKEN_OWN",
            Self::ManageTokenAny => "MANAGE_TOKEN_ANY",
            Self::DisplaySettingOwn => "DISPLAY_SETTING_OWN",
            Self::DisplaySettingAny => "DISPLAY_SETTING_ANY",
            Self::UpdateSettingOwn => "UPDATE_SETTING_OWN",
            Self::DisplayWebhookOwn => "DISPLAY_WEBHOOK_OWN",
            Self::DisplayWebhookAny => "DISPLAY_WEBHOOK_ANY",
            Self::ManageWebhookOwn => "MANAGE_WEBHOOK_OWN",
            Self::ManageWebhookAny => "MANAGE_WEBHOOK_ANY",
            Self::DisplayNotificationOwn => "DISPLAY_NOTIFICATION_OWN",
            Self::ManageNotificationOwn => "MANAGE_NOTIFICATION_OWN",
            Self::DisplayMemo => "DISPLAY_MEMO",
            Self::ManageMemoOwn => "MANAGE_MEMO_OWN",
            Self::DisplayStatsOwn => "DISPLAY_STATS_OWN",
            Self::DisplayStatsAny => "DISPLAY_STATS_ANY",
        }
    }

    /// The permission with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|permission| permission.name() == name)
    }
}

const ADMINISTRATOR: &[Permission] = Permission::ALL;

const ORDINARY_USER: &[Permission] = &[
    Permission::DisplayUserOwn,
    Permission::UpdateUserOwn,
    Permission::ManageTokenOwn,
    Permission::DisplaySettingOwn,
    Permission::UpdateSettingOwn,
    Permission::DisplayWebhookOwn,
    Permission::ManageWebhookOwn,
    Permission::DisplayNotificationOwn,
    Permission::ManageNotificationOwn,
    Permission::DisplayMemo,
    Permission::ManageMemoOwn,
    Permission::DisplayStatsOwn,
];

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
        assert!(granted.contains(&Permission::UpdateUserOwn));
        assert!(granted.contains(&Permission::ManageTokenOwn));
        assert!(granted.contains(&Permission::UpdateSettingOwn));
        assert!(granted.contains(&Permission::ManageWebhookOwn));
        assert!(granted.contains(&Permission::ManageNotificationOwn));
        for any in [
            Permission::DisplayUserAny,
            Permission::ListUser,
            Permission::CreateUser,
            Permission::UpdateUserAny,
            Permission::DeleteUserAny,
            Permission::ManageInstance,
            Permission::ManageTokenAny,
            Permission::DisplaySettingAny,
            Permission::DisplayWebhookAny,
            Permission::ManageWebhookAny,
            Permission::DisplayStatsAny,
        ] {
            assert!(!granted.contains(&any), "{any:?}");
        }
    }

    #[test]
    fn administrators_may_act_on_anyone() {
        for role in [Role::Root, Role::Admin] {
            assert_eq!(permissions_of(role), Permission::ALL);
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = Permission::ALL.iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Permission::ALL.len());
    }
}
