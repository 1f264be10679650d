//! Instance-wide settings: whether strangers may register, and how long a
//! sign-in session lasts. Admins read and change them.
use super::clock::EpochMillis;
use super::field_mask::FieldMask;
use super::permission::Permission;
use super::ports::InstanceSettingsStore;
use super::principal::Principal;
use super::user::UserId;
use super::{DomainError, Validation};

/// Shortest session lifetime: five minutes.
pub const MIN_SESSION_SECONDS: i64 = 300;
/// Longest session lifetime: a year.
pub const MAX_SESSION_SECONDS: i64 = 365 * 24 * 3600;
/// Default session lifetime: a week.
pub const DEFAULT_SESSION_SECONDS: i64 = 7 * 24 * 3600;

/// The settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceSettings {
    /// Anyone may create a USER account for themselves.
    pub allow_registration: bool,
    /// Lifetime of a sign-in session.
    pub session_lifetime_seconds: i64,
    /// Last change; `None` while these are the defaults.
    pub updated_at: Option<EpochMillis>,
    /// Who changed them last.
    pub updated_by: Option<UserId>,
}

impl Default for InstanceSettings {
    fn default() -> Self {
        Self {
            allow_registration: false,
            session_lifetime_seconds: DEFAULT_SESSION_SECONDS,
            updated_at: None,
            updated_by: None,
        }
    }
}

/// The settings in force: stored ones, else the defaults.
pub async fn current_settings(
    store: &impl InstanceSettingsStore,
) -> Result<InstanceSettings, DomainError> {
    Ok(store.instance_settings().await?.unwrap_or_default())
}

/// GetInstanceSettings.
pub async fn get_instance_settings(
    store: &impl InstanceSettingsStore,
    caller: &Principal,
) -> Result<InstanceSettings, DomainError> {
    caller.require(Permission::ManageInstance)?;
    current_settings(store).await
}

/// The fields of an UpdateInstanceSettings request.
#[derive(Clone, Debug)]
pub struct SettingsChange {
    /// New value of `allow_registration`.
    pub allow_registration: bool,
    /// New value of `session_lifetime_seconds`.
    pub session_lifetime_seconds: i64,
    /// Which of them to apply.
    pub mask: FieldMask,
}

/// UpdateInstanceSettings: applies the masked fields.
pub async fn update_instance_settings(
    store: &impl InstanceSettingsStore,
    caller: &Principal,
    change: SettingsChange,
) -> Result<InstanceSettings, DomainError> {
    caller.require(Permission::ManageInstance)?;
    let mut validation = Validation::default();
    let paths = validation.check(change.mask.paths_within(
        "update_mask",
        &["allow_registration", "session_lifetime_seconds"],
    ));
    let lifetime_changes = paths
        .as_ref()
        .is_some_and(|paths| paths.iter().any(|path| path == "session_lifetime_seconds"));
    if lifetime_changes
        && !(MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&change.session_lifetime_seconds)
    {
        validation.add(
            "settings.session_lifetime_seconds",
            format!("must be between {MIN_SESSION_SECONDS} and {MAX_SESSION_SECONDS}"),
        );
    }
    validation.finish()?;
    let mut settings = current_settings(store).await?;
    for path in paths.unwrap_or_default() {
        match path.as_str() {
            "allow_registration" => settings.allow_registration = change.allow_registration,
            _ => settings.session_lifetime_seconds = change.session_lifetime_seconds,
        }
    }
    settings.updated_at = Some(EpochMillis::now());
    settings.updated_by = Some(caller.user.id);
    store.save_instance_settings(&settings).await?;
    Ok(settings)
}
