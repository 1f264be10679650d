//! Records that belong to a user (tokens, settings, webhooks,
//! notifications): their resource names, and the one rule for acting on
//! them — `*_OWN` for one's own, `*_ANY` for anyone's — decided from the
//! names alone, before any lookup, so a refusal never reveals existence.
use super::DomainError;
use super::permission::Permission;
use super::ports::UserDirectory;
use super::principal::Principal;
use super::user::UserId;
use super::users::UserLookup;

/// `users/{uuid}` → the user id, naming `field` in the error.
pub fn parse_owner(field: &str, parent: &str) -> Result<UserId, DomainError> {
    let id = parent
        .strip_prefix("users/")
        .ok_or_else(|| DomainError::invalid(field, "must look like users/{uuid}"))?;
    UserId::parse_text(field, id)
}

/// `users/{uuid}/{collection}/{uuid}` → the owner and the record's id.
pub fn parse_owned_name(
    field: &str,
    name: &str,
    collection: &str,
) -> Result<(UserId, uuid::Uuid), DomainError> {
    let malformed = || {
        DomainError::invalid(
            field,
            format!("must look like users/{{uuid}}/{collection}/{{uuid}}"),
        )
    };
    let (parent, child) = name
        .split_once(&format!("/{collection}/"))
        .ok_or_else(malformed)?;
    let owner = parse_owner(field, parent).map_err(|_| malformed())?;
    let child = UserId::parse_text(field, child).map_err(|_| malformed())?.0;
    Ok((owner, child))
}

/// Whether `caller` may act on `owner`'s records: `any` for someone
/// else's; for its own, `own` or `any`.
pub fn require_on(
    caller: &Principal,
    owner: UserId,
    own: Permission,
    any: Permission,
) -> Result<(), DomainError> {
    if owner != caller.user.id {
        return caller.require(any);
    }
    if caller.has(any) {
        return Ok(());
    }
    caller.require(own)
}

/// Records that only their owner may touch, admins included.
pub fn require_self(
    caller: &Principal,
    owner: UserId,
    own: Permission,
    what: &str,
) -> Result<(), DomainError> {
    if owner != caller.user.id {
        return Err(DomainError::PermissionDenied(format!(
            "{what} are seen and changed by their user alone"
        )));
    }
    caller.require(own)
}

/// `NotFound` unless `owner` is a live user. The caller is live by
/// definition, so only another user costs a lookup.
pub async fn require_live_owner(
    users: &impl UserDirectory,
    caller: &Principal,
    owner: UserId,
) -> Result<(), DomainError> {
    if owner == caller.user.id {
        return Ok(());
    }
    match users.find_user(&UserLookup::Id(owner), false).await? {
        Some(_) => Ok(()),
        None => Err(DomainError::NotFound("user not found".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_names_parse_and_malformed_ones_are_refused() {
        let owner = uuid::Uuid::now_v7();
        let child = uuid::Uuid::now_v7();
        let name = format!("users/{owner}/webhooks/{child}");
        assert_eq!(
            parse_owned_name("name", &name, "webhooks").unwrap(),
            (UserId(owner), child)
        );
        for bad in [
            format!("users/{owner}/webhooks/"),
            format!("users/{owner}/notifications/{child}"),
            format!("users/x/webhooks/{child}"),
            format!("users/{owner}/webhooks/{child}/extra"),
            String::new(),
        ] {
            let error = parse_owned_name("name", &bad, "webhooks").unwrap_err();
            assert!(
                error.to_string().contains("users/{uuid}/webhooks/{uuid}"),
                "{bad}: {error}"
            );
        }
    }
}
