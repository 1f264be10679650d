"""Calls every operation of Roster's OpenAPI document through the client that
openapi-python-client generated from it (the package `roster_client`, on
PYTHONPATH), authenticating with its own helpers (`AuthenticatedClient`, as
the document's security schemes say), and checks each answer's status and
decoded body. Fails if any operation of the document was not called.

Usage: python_client.py BASE_URL OPENAPI_JSON
Run by tests/api/openapi_clients.rs against a fresh server; prints
{"called": N} on success.
"""

import importlib
import json
import re
import sys
import uuid

from roster_client import AuthenticatedClient, Client
from roster_client.models import (
    GoodmemV1CreatePersonalAccessTokenRequestInput as CreateTokenBody,
    GoodmemV1CreateUserRequestInput as CreateUserBody,
    GoodmemV1GeneralSettingInput as GeneralSettingInput,
    GoodmemV1InitializeSystemRequestInput as InitializeBody,
    GoodmemV1InstanceSettingsInput as InstanceSettingsInput,
    GoodmemV1MemoInput as MemoInput,
    GoodmemV1SignInRequestInput as SignInBody,
    GoodmemV1SignOutRequestInput as SignOutBody,
    GoodmemV1User,
    GoodmemV1UserInput as UserInput,
    GoodmemV1UserNotificationInput as NotificationInput,
    GoodmemV1UserNotificationStatus as NotificationStatus,
    GoodmemV1UserNotificationType as NotificationType,
    GoodmemV1UserRole as Role,
    GoodmemV1UserSettingInput as UserSettingInput,
    GoodmemV1UserWebhookInput as WebhookInput,
    GoodmemV1Visibility as Visibility,
    GoogleRpcStatus,
)

BASE_URL, DOCUMENT_PATH = sys.argv[1], sys.argv[2]
with open(DOCUMENT_PATH, encoding="utf-8") as file:
    DOCUMENT = json.load(file)

# operationId -> tag, from the document itself: what must be called.
OPERATIONS = {
    operation["operationId"]: operation["tags"][0]
    for item in DOCUMENT["paths"].values()
    for operation in item.values()
}
CALLED = set()


def snake(name):
    """`GetUserByEmail` -> `get_user_by_email`, as the generator names modules."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def call(operation_id, client, *args, expect=200, **kwargs):
    """Runs the generated function of `operation_id`; returns the parsed body."""
    tag = OPERATIONS[operation_id]
    module = importlib.import_module(f"roster_client.api.{snake(tag)}.{snake(operation_id)}")
    response = module.sync_detailed(*args, client=client, **kwargs)
    assert response.status_code == expect, (
        f"{operation_id}: expected {expect}, got {response.status_code}: {response.content!r}"
    )
    if expect != 200:
        assert isinstance(response.parsed, GoogleRpcStatus), response.parsed
    CALLED.add(operation_id)
    return response.parsed


def client_for(token, scheme):
    """A client that sends `token` the way the document's scheme says."""
    declared = DOCUMENT["components"]["securitySchemes"][scheme]
    if declared["type"] == "http":
        assert declared["scheme"] == "bearer", declared
        return AuthenticatedClient(base_url=BASE_URL, token=token)
    assert declared == {**declared, "type": "apiKey", "in": "header"}, declared
    return AuthenticatedClient(
        base_url=BASE_URL, token=token, prefix="", auth_header_name=declared["name"]
    )


def last(name):
    """The id at the end of a resource name."""
    return name.rsplit("/", 1)[1]


anonymous = Client(base_url=BASE_URL)

# --- the system, bootstrap and authentication --------------------------------
info = call("GetSystemInfo", anonymous)
assert info.initialized is False and info.version, info
initialized = call("InitializeSystem", anonymous, body=InitializeBody())
assert initialized.already_initialized is False, initialized
assert initialized.root_api_key.startswith("gm_"), initialized
root_id = initialized.user_id
assert isinstance(root_id, uuid.UUID), root_id
again = call("InitializeSystem", anonymous, body=InitializeBody())
assert again.already_initialized is True and again.root_api_key == "", again

root = client_for(initialized.root_api_key, "bearerAuth")
root_by_header = client_for(initialized.root_api_key, "apiKeyAuth")
refused = call("GetUserMe", anonymous, expect=401)
assert refused.code == 16, refused

me = call("GetUserMe", root_by_header)
assert isinstance(me, GoodmemV1User) and me.user_id == root_id, me
assert me.role == Role.ROOT and me.username == "root", me
assert call("GetUser", root, root_id).email == me.email
assert call("GetUserByEmail", root, me.email).user_id == root_id
assert call("GetUserByUsername", root, "root").user_id == root_id
assert call("GetUserApiByName", root, str(root_id)).name == f"users/{root_id}"

assert call("GetInstanceSettings", root).allow_registration is False
assert call("GetInstanceSettingsApi", root).allow_registration is False
settings = call(
    "UpdateInstanceSettings", root, body=InstanceSettingsInput(allow_registration=True)
)
assert settings.allow_registration is True, settings
settings = call(
    "UpdateInstanceSettingsApi", root, body=InstanceSettingsInput(session_lifetime_seconds="7200")
)
assert settings.session_lifetime_seconds == "7200" and settings.allow_registration is True

PASSWORD = "correct horse battery"
alice = call(
    "CreateUser",
    root,
    body=CreateUserBody(
        user=UserInput(
            email="alice@example.com",
            username="alice",
            display_name="Alice",
            password=PASSWORD,
            role=Role.USER,
        )
    ),
)
assert alice.username == "alice" and alice.role == Role.USER and alice.created_by_id == root_id
alice_id = str(alice.user_id)
# Registration is open now: a public operation, called without credentials.
bob = call(
    "CreateUserApi",
    anonymous,
    body=CreateUserBody(user=UserInput(email="bob@example.com", username="bob", password=PASSWORD)),
)
assert bob.role == Role.USER and bob.created_by_id == bob.user_id, bob
bob_id = str(bob.user_id)

signed_in = call("SignIn", anonymous, body=SignInBody(username="alice", password=PASSWORD))
assert signed_in.user.user_id == alice.user_id and signed_in.expires_at > 0
alice_client = client_for(signed_in.access_token, "bearerAuth")
signed_in = call("SignInApi", anonymous, body=SignInBody(email="bob@example.com", password=PASSWORD))
assert signed_in.user.username == "bob"
bob_client = client_for(signed_in.access_token, "apiKeyAuth")

# --- users -------------------------------------------------------------------
listed = call("ListUsers", root, page_size=10)
assert [user.username for user in listed.users] == ["root", "alice", "bob"], listed
assert listed.total_size == 3 and listed.next_page_token == ""
filtered = call("ListUsersApi", root, filter_='username == "alice"')
assert [user.user_id for user in filtered.users] == [alice.user_id], filtered
updated = call("UpdateUser", alice_client, alice_id, body=UserInput(display_name="Alice A."))
assert updated.display_name == "Alice A." and updated.etag != alice.etag, updated
updated = call("UpdateUserApi", root, alice_id, body=UserInput(description="writes memos"))
assert updated.description == "writes memos" and updated.display_name == "Alice A."

# --- personal access tokens --------------------------------------------------
created = call(
    "CreatePersonalAccessToken",
    root,
    str(root_id),
    body=CreateTokenBody(description="read-only", scopes=["DISPLAY_USER_OWN"]),
)
assert created.token.startswith("gm_") and created.personal_access_token.scopes == [
    "DISPLAY_USER_OWN"
]
read_only = client_for(created.token, "apiKeyAuth")
assert call("GetUserMe", read_only).user_id == root_id
call("ListUsers", read_only, expect=403)
second = call("CreatePersonalAccessTokenApi", root, str(root_id), body=CreateTokenBody(description="ci"))
names = {token.name for token in call("ListPersonalAccessTokens", root, str(root_id)).personal_access_tokens}
assert {created.personal_access_token.name, second.personal_access_token.name} <= names, names
names = {
    token.name
    for token in call("ListPersonalAccessTokensApi", root, str(root_id)).personal_access_tokens
}
assert second.personal_access_token.name in names
call("DeletePersonalAccessToken", root, str(root_id), last(created.personal_access_token.name))
call("GetUserMe", read_only, expect=401)
call("DeletePersonalAccessTokenApi", root, str(root_id), last(second.personal_access_token.name))

# --- settings ----------------------------------------------------------------
general = call("GetUserSetting", alice_client, alice_id, "GENERAL")
assert general.general_setting.locale == "en" and general.webhooks_setting is None, general
changed = call(
    "UpdateUserSetting",
    alice_client,
    alice_id,
    "GENERAL",
    body=UserSettingInput(general_setting=GeneralSettingInput(locale="fr")),
)
assert changed.general_setting.locale == "fr", changed
changed = call(
    "UpdateUserSettingApi",
    alice_client,
    alice_id,
    "GENERAL",
    body=UserSettingInput(general_setting=GeneralSettingInput(theme="dark")),
)
assert changed.general_setting.theme == "dark" and changed.general_setting.locale == "fr"
assert call("GetUserSettingApi", root, alice_id, "GENERAL").general_setting.theme == "dark"
listed = call("ListUserSettings", alice_client, alice_id)
assert [setting.name for setting in listed.settings] == [
    f"users/{alice_id}/settings/GENERAL",
    f"users/{alice_id}/settings/WEBHOOKS",
], listed
assert len(call("ListUserSettingsApi", root, alice_id).settings) == 2

# --- webhooks (loopback targets: the test server allows private ones) ---------
hook = call(
    "CreateUserWebhook",
    root,
    str(root_id),
    body=WebhookInput(url="http://127.0.0.1:9/first", display_name="first"),
)
assert hook.signing_secret.startswith("whsec_"), hook
other = call("CreateUserWebhookApi", root, str(root_id), body=WebhookInput(url="http://127.0.0.1:9/second"))
hooks = call("ListUserWebhooks", root, str(root_id)).webhooks
assert [h.name for h in hooks] == [hook.name, other.name] and hooks[0].signing_secret == ""
assert len(call("ListUserWebhooksApi", root, str(root_id)).webhooks) == 2
renamed = call(
    "UpdateUserWebhook", root, str(root_id), last(hook.name), body=WebhookInput(display_name="renamed")
)
assert renamed.display_name == "renamed" and renamed.url == "http://127.0.0.1:9/first"
moved = call(
    "UpdateUserWebhookApi", root, str(root_id), last(other.name), body=WebhookInput(url="http://127.0.0.1:9/moved")
)
assert moved.url == "http://127.0.0.1:9/moved"
call("DeleteUserWebhook", root, str(root_id), last(hook.name))
call("DeleteUserWebhookApi", root, str(root_id), last(other.name))

# --- memos, comments, notifications, statistics ------------------------------
first = call(
    "CreateMemo",
    alice_client,
    body=MemoInput(content="Hello #python, see [this](https://example.com)", visibility=Visibility.PUBLIC),
)
assert first.tags == ["python"] and first.property_.has_link is True, first
second_memo = call(
    "CreateMemoApi", alice_client, body=MemoInput(content="- [ ] write tests", visibility=Visibility.PROTECTED)
)
assert second_memo.property_.has_incomplete_tasks is True
assert call("GetMemo", bob_client, last(first.name)).content == first.content
assert call("GetMemoApi", alice_client, last(second_memo.name)).visibility == Visibility.PROTECTED
assert len(call("ListMemos", alice_client, alice_id).memos) == 2
assert len(call("ListMemosApi", bob_client, alice_id).memos) == 2
pinned = call("UpdateMemo", alice_client, last(first.name), body=MemoInput(pinned=True))
assert pinned.pinned is True and pinned.content == first.content
done = call("UpdateMemoApi", alice_client, last(second_memo.name), body=MemoInput(content="- [x] write tests"))
assert done.property_.has_incomplete_tasks is False
comment = call("CreateMemoComment", bob_client, last(first.name), body=MemoInput(content="Nice."))
assert comment.parent == first.name, comment
call("CreateMemoCommentApi", bob_client, last(first.name), body=MemoInput(content="Again."))
assert len(call("ListMemoComments", alice_client, last(first.name)).memos) == 2
assert len(call("ListMemoCommentsApi", bob_client, last(first.name)).memos) == 2

notifications = call("ListUserNotifications", alice_client, alice_id).notifications
assert [n.type_ for n in notifications] == [NotificationType.MEMO_COMMENT] * 2, notifications
assert all(n.status == NotificationStatus.UNREAD for n in notifications)
unread = call("ListUserNotificationsApi", alice_client, alice_id, filter_='status == "UNREAD"')
assert len(unread.notifications) == 2
for operation_id, notification in zip(
    ["UpdateUserNotification", "UpdateUserNotificationApi"], notifications
):
    archived = call(
        operation_id,
        alice_client,
        alice_id,
        last(notification.name),
        body=NotificationInput(status=NotificationStatus.ARCHIVED),
    )
    assert archived.status == NotificationStatus.ARCHIVED, archived
call("DeleteUserNotification", alice_client, alice_id, last(notifications[0].name))
call("DeleteUserNotificationApi", alice_client, alice_id, last(notifications[1].name))

stats = call("GetUserStats", alice_client, alice_id)
assert stats.total_memo_count == 2 and stats.pinned_memos == [first.name], stats
assert call("GetUserStatsApi", root, alice_id).tag_count.additional_properties == {"python": 1}
everyone = call("ListAllUserStats", root).stats
assert {s.name for s in everyone} >= {f"users/{alice_id}", f"users/{bob_id}"}, everyone
assert len(call("ListAllUserStatsApi", root, page_size=1).stats) == 1

call("DeleteMemo", alice_client, last(second_memo.name))
call("DeleteMemoApi", bob_client, last(comment.name))
call("GetMemo", alice_client, last(second_memo.name), expect=404)

# --- sign-out and deletion ---------------------------------------------------
call("SignOut", alice_client, body=SignOutBody())
call("GetUserMe", alice_client, expect=401)
call("SignOutApi", bob_client, body=SignOutBody())
call("DeleteUser", root, bob.user_id, force=True)
call("DeleteUserApiByName", root, alice_id, force=True)
call("GetUser", root, alice.user_id, expect=404)
tombstone = call("GetUser", root, alice.user_id, include_deleted=True)
assert tombstone.deleted_at is not None and tombstone.deleted_by_id == root_id, tombstone

missing = sorted(set(OPERATIONS) - CALLED)
assert not missing, f"operations of the document never called: {missing}"
print(json.dumps({"called": len(CALLED)}))
