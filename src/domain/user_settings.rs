//! Per-user settings: `GENERAL` (locale, theme, default memo visibility),
//! stored once first written and the defaults until then, and `WEBHOOKS`, a
//! read-only view of the user's webhooks. Owners change their own; admins
//! may read anyone's.
use super::clock::EpochMillis;
use super::field_mask::FieldMask;
use super::ownership::{parse_owner, require_live_owner, require_on};
use super::page_token::{self, Position};
use super::permission::Permission;
use super::ports::{UserDirectory, UserSettingStore, WebhookStore};
use super::principal::Principal;
use super::user::UserId;
use super::visibility::Visibility;
use super::webhooks::Webhook;
use super::{DomainError, Validation};

/// How many webhooks the WEBHOOKS view shows.
pub const WEBHOOKS_IN_VIEW: u64 = 100;
/// Longest language tag (RFC 5646 asks implementations to take 35).
const MAX_LOCALE_CHARS: usize = 35;
/// Longest theme name.
const MAX_THEME_CHARS: usize = 32;

/// A well-formed BCP-47 language tag, in canonical case (`zh-Hant-TW`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    /// Validates `text` (RFC 5646 `langtag` or private use; `_` is taken
    /// for `-`), naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        canonical_language_tag(text).map(Self).ok_or_else(|| {
            DomainError::invalid(
                field,
                "must be a BCP-47 language tag such as en, fr-CA or zh-Hans",
            )
        })
    }

    /// A tag read back from storage, where only parsed ones are written.
    pub fn from_storage(text: String) -> Self {
        Self(text)
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The RFC 5646 grammar, minus the grandfathered tags: language (with up
/// to three extlangs), script, region, variants, extensions, private use.
fn canonical_language_tag(text: &str) -> Option<String> {
    if text.is_empty() || text.len() > MAX_LOCALE_CHARS || !text.is_ascii() {
        return None;
    }
    let normalized = text.replace('_', "-");
    let subtags: Vec<&str> = normalized.split('-').collect();
    let alpha = |tag: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&tag.len()) && tag.bytes().all(|byte| byte.is_ascii_alphabetic())
    };
    let alnum = |tag: &str, lengths: std::ops::RangeInclusive<usize>| {
        lengths.contains(&tag.len()) && tag.bytes().all(|byte| byte.is_ascii_alphanumeric())
    };
    let mut canonical: Vec<String> = Vec::with_capacity(subtags.len());
    let mut rest = subtags.as_slice();
    let private_use = |rest: &[&str], canonical: &mut Vec<String>| {
        if rest.is_empty() || !rest.iter().all(|tag| alnum(tag, 1..=8)) {
            return false;
        }
        canonical.push("x".to_owned());
        canonical.extend(rest.iter().map(|tag| tag.to_ascii_lowercase()));
        true
    };
    let first = rest[0];
    if first.eq_ignore_ascii_case("x") {
        return private_use(&rest[1..], &mut canonical).then(|| canonical.join("-"));
    }
    if !alpha(first, 2..=8) || first.len() == 4 {
        return None;
    }
    canonical.push(first.to_ascii_lowercase());
    rest = &rest[1..];
    if first.len() <= 3 {
        let mut extlangs = 0;
        while let Some(tag) = rest.first().filter(|tag| alpha(tag, 3..=3)) {
            if extlangs == 3 {
                return None;
            }
            canonical.push(tag.to_ascii_lowercase());
            extlangs += 1;
            rest = &rest[1..];
        }
    }
    if let Some(script) = rest.first().filter(|tag| alpha(tag, 4..=4)) {
        let lower = script.to_ascii_lowercase();
        canonical.push(lower[..1].to_ascii_uppercase() + &lower[1..]);
        rest = &rest[1..];
    }
    if let Some(region) = rest.first().filter(|tag| {
        alpha(tag, 2..=2) || (tag.len() == 3 && tag.bytes().all(|byte| byte.is_ascii_digit()))
    }) {
        canonical.push(region.to_ascii_uppercase());
        rest = &rest[1..];
    }
    while let Some(variant) = rest.first().filter(|tag| {
        alnum(tag, 5..=8)
            || (tag.len() == 4 && tag.as_bytes()[0].is_ascii_digit() && alnum(tag, 4..=4))
    }) {
        canonical.push(variant.to_ascii_lowercase());
        rest = &rest[1..];
    }
    while let Some(singleton) = rest
        .first()
        .filter(|tag| alnum(tag, 1..=1) && !tag.eq_ignore_ascii_case("x"))
    {
        canonical.push(singleton.to_ascii_lowercase());
        rest = &rest[1..];
        let mut parts = 0;
        while let Some(part) = rest.first().filter(|tag| alnum(tag, 2..=8)) {
            canonical.push(part.to_ascii_lowercase());
            parts += 1;
            rest = &rest[1..];
        }
        if parts == 0 {
            return None;
        }
    }
    if let Some(marker) = rest.first()
        && (!marker.eq_ignore_ascii_case("x") || !private_use(&rest[1..], &mut canonical))
    {
        return None;
    }
    Some(canonical.join("-"))
}

/// A theme name: 1-32 lowercase letters, digits and inner hyphens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme(String);

impl Theme {
    /// Validates `text`, naming `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        let well_formed = (1..=MAX_THEME_CHARS).contains(&text.len())
            && text.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
            });
        if !well_formed {
            return Err(DomainError::invalid(
                field,
                format!(
                    "must be 1-{MAX_THEME_CHARS} lowercase letters, digits or inner hyphens, such as default"
                ),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// A theme read back from storage, where only parsed ones are written.
    pub fn from_storage(text: String) -> Self {
        Self(text)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GENERAL setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneralSetting {
    /// Preferred language.
    pub locale: Locale,
    /// Preferred theme.
    pub theme: Theme,
    /// Visibility of new memos that name none.
    pub memo_visibility: Visibility,
}

impl Default for GeneralSetting {
    fn default() -> Self {
        Self {
            locale: Locale("en".to_owned()),
            theme: Theme("default".to_owned()),
            memo_visibility: Visibility::Private,
        }
    }
}

/// The masked fields of a GENERAL update, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GeneralSettingChange {
    /// New locale, if it changes.
    pub locale: Option<Locale>,
    /// New theme, if it changes.
    pub theme: Option<Theme>,
    /// New default visibility, if it changes.
    pub memo_visibility: Option<Visibility>,
}

impl GeneralSettingChange {
    /// `setting` with this change applied.
    pub fn applied_to(&self, mut setting: GeneralSetting) -> GeneralSetting {
        if let Some(locale) = &self.locale {
            setting.locale = locale.clone();
        }
        if let Some(theme) = &self.theme {
            setting.theme = theme.clone();
        }
        if let Some(visibility) = self.memo_visibility {
            setting.memo_visibility = visibility;
        }
        setting
    }
}

/// A setting's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKey {
    /// Locale, theme, memo visibility.
    General,
    /// The webhooks, read-only.
    Webhooks,
}

impl SettingKey {
    /// Every key, in list order.
    pub const ALL: [SettingKey; 2] = [Self::General, Self::Webhooks];

    /// The key as it appears in names.
    pub fn name(self) -> &'static str {
        match self {
            Self::General => "GENERAL",
            Self::Webhooks => "WEBHOOKS",
        }
    }
}

/// One setting's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingValue {
    /// GENERAL.
    General(GeneralSetting),
    /// WEBHOOKS: the first [`WEBHOOKS_IN_VIEW`], oldest first.
    Webhooks(Vec<Webhook>),
}

/// A user's setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSetting {
    /// Whose it is.
    pub owner: UserId,
    /// Its value, which also says its key.
    pub value: SettingValue,
}

impl UserSetting {
    /// `users/{user}/settings/{KEY}`.
    pub fn name(&self) -> String {
        let key = match self.value {
            SettingValue::General(_) => SettingKey::General,
            SettingValue::Webhooks(_) => SettingKey::Webhooks,
        };
        format!("{}/settings/{}", self.owner.resource_name(), key.name())
    }
}

/// `users/{uuid}/settings/{KEY}` → owner and key.
fn parse_setting_name(field: &str, name: &str) -> Result<(UserId, SettingKey), DomainError> {
    let malformed = || {
        DomainError::invalid(
            field,
            "must look like users/{uuid}/settings/GENERAL or …/WEBHOOKS",
        )
    };
    let (parent, key) = name.split_once("/settings/").ok_or_else(malformed)?;
    let owner = parse_owner(field, parent).map_err(|_| malformed())?;
    let key = SettingKey::ALL
        .into_iter()
        .find(|candidate| candidate.name() == key)
        .ok_or_else(malformed)?;
    Ok((owner, key))
}

/// Permission to read `owner`'s `key`, decided before any lookup.
fn may_read(caller: &Principal, owner: UserId, key: SettingKey) -> Result<(), DomainError> {
    require_on(
        caller,
        owner,
        Permission::DisplaySettingOwn,
        Permission::DisplaySettingAny,
    )?;
    if key == SettingKey::Webhooks {
        require_on(
            caller,
            owner,
            Permission::DisplayWebhookOwn,
            Permission::DisplayWebhookAny,
        )?;
    }
    Ok(())
}

async fn read_setting(
    store: &(impl UserSettingStore + WebhookStore),
    owner: UserId,
    key: SettingKey,
) -> Result<UserSetting, DomainError> {
    let value = match key {
        SettingKey::General => {
            SettingValue::General(store.general_setting(owner).await?.unwrap_or_default())
        }
        SettingKey::Webhooks => {
            SettingValue::Webhooks(store.list_webhooks(owner, None, WEBHOOKS_IN_VIEW).await?)
        }
    };
    Ok(UserSetting { owner, value })
}

/// GetUserSetting.
pub async fn get_user_setting(
    store: &(impl UserDirectory + UserSettingStore + WebhookStore),
    caller: &Principal,
    name: &str,
) -> Result<UserSetting, DomainError> {
    let (owner, key) = parse_setting_name("name", name)?;
    may_read(caller, owner, key)?;
    require_live_owner(store, caller, owner).await?;
    read_setting(store, owner, key).await
}

/// A page of settings.
#[derive(Clone, Debug)]
pub struct SettingPage {
    /// GENERAL first.
    pub settings: Vec<UserSetting>,
    /// The next page's token; empty on the last.
    pub next_page_token: String,
    /// How many settings the caller may see.
    pub total_size: usize,
}

/// ListUserSettings: the settings the caller may read, GENERAL first. A
/// caller that may not see webhooks gets GENERAL alone.
pub async fn list_user_settings(
    store: &(impl UserDirectory + UserSettingStore + WebhookStore),
    caller: &Principal,
    parent: &str,
    page_size: i32,
    page_token_text: &str,
) -> Result<SettingPage, DomainError> {
    let owner = parse_owner("parent", parent)?;
    may_read(caller, owner, SettingKey::General)?;
    let limit = usize::try_from(page_token::page_size(page_size)?).unwrap_or(usize::MAX);
    let tag = page_token::query_tag(&[b"settings", owner.0.as_bytes()]);
    // The position is an index into the (short, fixed) key list.
    let start = page_token::decode(page_token_text, tag)?.map_or(0, |position| {
        usize::try_from(position.at.0).unwrap_or(usize::MAX)
    });
    require_live_owner(store, caller, owner).await?;
    let visible: Vec<SettingKey> = SettingKey::ALL
        .into_iter()
        .filter(|key| may_read(caller, owner, *key).is_ok())
        .collect();
    let mut settings = Vec::new();
    for key in visible.iter().skip(start).take(limit) {
        settings.push(read_setting(store, owner, *key).await?);
    }
    let end = start.saturating_add(settings.len());
    let next_page_token = if end < visible.len() {
        let at = EpochMillis(i64::try_from(end).unwrap_or(i64::MAX));
        page_token::encode(
            Position {
                at,
                id: uuid::Uuid::nil(),
            },
            tag,
        )
    } else {
        String::new()
    };
    Ok(SettingPage {
        settings,
        next_page_token,
        total_size: visible.len(),
    })
}

/// The GENERAL fields of an UpdateUserSetting request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct GeneralSettingInput {
    /// Requested locale.
    pub locale: String,
    /// Requested theme.
    pub theme: String,
    /// Requested visibility number.
    pub memo_visibility: i32,
}

/// An UpdateUserSetting request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct UpdateSettingInput {
    /// `users/{user}/settings/GENERAL`.
    pub name: String,
    /// The new GENERAL values; `None` when the request carries none.
    pub general: Option<GeneralSettingInput>,
    /// The fields to change.
    pub mask: FieldMask,
}

const GENERAL_PATHS: &[&str] = &[
    "locale",
    "theme",
    "memo_visibility",
    "general_setting",
    "general_setting.locale",
    "general_setting.theme",
    "general_setting.memo_visibility",
];

/// UpdateUserSetting: only the owner, only GENERAL, only the masked fields.
/// The store writes just those columns in one statement, so two updates of
/// different fields never undo each other.
pub async fn update_user_setting(
    store: &impl UserSettingStore,
    caller: &Principal,
    input: UpdateSettingInput,
) -> Result<UserSetting, DomainError> {
    let (owner, key) = parse_setting_name("setting.name", &input.name)?;
    if owner != caller.user.id {
        return Err(DomainError::PermissionDenied(
            "settings are changed by their user alone".to_owned(),
        ));
    }
    caller.require(Permission::UpdateSettingOwn)?;
    if key == SettingKey::Webhooks {
        return Err(DomainError::invalid(
            "setting.name",
            "the WEBHOOKS setting is read-only: change webhooks with CreateUserWebhook, \
             UpdateUserWebhook and DeleteUserWebhook",
        ));
    }
    let paths = input.mask.paths_within("update_mask", GENERAL_PATHS)?;
    let values = input.general.unwrap_or_default();
    let mut validation = Validation::default();
    let mut change = GeneralSettingChange::default();
    let names = |path: &str, field: &str| {
        path == field || path == "general_setting" || path == format!("general_setting.{field}")
    };
    if paths.iter().any(|path| names(path, "locale")) {
        change.locale = validation.check(Locale::parse(
            "setting.general_setting.locale",
            &values.locale,
        ));
    }
    if paths.iter().any(|path| names(path, "theme")) {
        change.theme =
            validation.check(Theme::parse("setting.general_setting.theme", &values.theme));
    }
    if paths.iter().any(|path| names(path, "memo_visibility")) {
        match Visibility::from_number(values.memo_visibility) {
            Some(visibility) => change.memo_visibility = Some(visibility),
            None => validation.add(
                "setting.general_setting.memo_visibility",
                "must be PRIVATE, PROTECTED or PUBLIC",
            ),
        }
    }
    validation.finish()?;
    let stored = store
        .update_general_setting(owner, &change, EpochMillis::now())
        .await?;
    tracing::info!(user_id = %owner, "general setting updated");
    Ok(UserSetting {
        owner,
        value: SettingValue::General(stored),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_are_checked_and_put_in_canonical_case() {
        for (given, canonical) in [
            ("en", "en"),
            ("EN", "en"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("pt_BR", "pt-BR"),
            ("es-419", "es-419"),
            ("sl-rozaj-biske", "sl-rozaj-biske"),
            ("de-CH-1901", "de-CH-1901"),
            ("zh-yue-HK", "zh-yue-HK"),
            ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
            ("x-klingon", "x-klingon"),
            ("en-x-pirate", "en-x-pirate"),
        ] {
            assert_eq!(Locale::parse("locale", given).unwrap().as_str(), canonical);
        }
        for bad in [
            "",
            "e",
            "en-",
            "-en",
            "en--US",
            "1en",
            "en-US-u",
            "abcd",
            "en-x",
            "ü",
            "en US",
            &"a".repeat(36),
        ] {
            assert!(Locale::parse("locale", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn themes_are_slugs() {
        for good in ["default", "paper", "midnight-blue", "v2"] {
            assert!(Theme::parse("theme", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Dark",
            "a--b",
            "-a",
            "a-",
            "with space",
            &"a".repeat(33),
        ] {
            assert!(Theme::parse("theme", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn setting_names_name_a_user_and_a_known_key() {
        let owner = uuid::Uuid::now_v7();
        assert_eq!(
            parse_setting_name("name", &format!("users/{owner}/settings/WEBHOOKS")).unwrap(),
            (UserId(owner), SettingKey::Webhooks)
        );
        for bad in [
            format!("users/{owner}/settings/general"),
            format!("users/{owner}/settings/THEME"),
            "users/me/settings/GENERAL".to_owned(),
            format!("users/{owner}"),
        ] {
            assert!(parse_setting_name("name", &bad).is_err(), "{bad}");
        }
    }
}
