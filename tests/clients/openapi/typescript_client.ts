// Calls every operation of Roster's OpenAPI document with openapi-fetch over
// the types openapi-typescript generated from it (`./schema.js`, written
// beside this file by tests/api/openapi_clients.rs), authenticating with
// openapi-fetch middleware built from the document's security schemes, and
// checks each answer's status and decoded body. `tsc --strict` must accept
// it first: the typed reads below (`const email: string = me.email`) only
// compile when the document marks output fields required and not nullable.
// Fails if any operation of the document was not called.
//
// Usage: node typescript_client.js BASE_URL OPENAPI_JSON; prints {"called": N}.
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type User = Schemas["goodmem.v1.User"];

interface Operation {
  operationId: string;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

const [baseUrl, documentPath] = process.argv.slice(2);
const openapi = JSON.parse(readFileSync(documentPath, "utf8")) as OpenApiDocument;

// "GET /v1/users/{user_id}" → operationId: what must be called.
const operations = new Map<string, string>();
for (const [path, item] of Object.entries(openapi.paths)) {
  for (const [method, operation] of Object.entries(item)) {
    operations.set(`${method.toUpperCase()} ${path}`, operation.operationId);
  }
}
const called = new Set<string>();
let lastOperation = "";

/** Notes which operation of the document each request was (by its schema path). */
const recorder: Middleware = {
  onRequest({ request, schemaPath }) {
    const operationId = operations.get(`${request.method} ${schemaPath}`);
    assert.ok(operationId, `${request.method} ${schemaPath} is not in the document`);
    lastOperation = operationId;
  },
};

/** openapi-fetch's auth: a middleware sending `token` as `scheme` says. */
function authenticated(token: string, scheme: string) {
  const declared = openapi.components.securitySchemes[scheme];
  assert.ok(declared, scheme);
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      if (declared.type === "http" && declared.scheme === "bearer") {
        request.headers.set("authorization", `Bearer ${token}`);
      } else if (declared.type === "apiKey" && declared.in === "header" && declared.name) {
        request.headers.set(declared.name, token);
      } else {
        throw new Error(`unsupported scheme ${scheme}`);
      }
      return request;
    },
  };
  client.use(recorder, auth);
  return client;
}

/** The decoded body of a call to `operationId` that must answer 200. */
async function ok<T>(
  operationId: string,
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  assert.equal(lastOperation, operationId, "the call is the operation it claims to be");
  assert.equal(response.status, 200, `${operationId}: ${JSON.stringify(error)}`);
  assert.ok(data !== undefined, operationId);
  called.add(operationId);
  return data;
}

/** A call to `operationId` that must fail with `status` and a google.rpc.Status body. */
async function fails(
  operationId: string,
  status: number,
  call: Promise<{ error?: Schemas["google.rpc.Status"]; response: Response }>,
): Promise<void> {
  const { error, response } = await call;
  assert.equal(lastOperation, operationId);
  assert.equal(response.status, status, operationId);
  assert.ok(error && typeof error.code === "number" && typeof error.message === "string", operationId);
  called.add(operationId);
}

const last = (name: string): string => name.slice(name.lastIndexOf("/") + 1);

const anonymous = createClient<paths>({ baseUrl });
anonymous.use(recorder);

// --- the system, bootstrap and authentication --------------------------------
const info = await ok("GetSystemInfo", anonymous.GET("/v1/system/info"));
assert.equal(info.initialized, false);
const initialized = await ok("InitializeSystem", anonymous.POST("/v1/system/init", { body: {} }));
assert.equal(initialized.alreadyInitialized, false);
const rootKey: string = initialized.rootApiKey;
assert.match(rootKey, /^gm_/);
const rootId = initialized.userId;
assert.ok(rootId);
const root = authenticated(rootKey, "bearerAuth");
const rootByHeader = authenticated(rootKey, "apiKeyAuth");
await fails("GetUserMe", 401, anonymous.GET("/v1/users/me"));

const me: User = await ok("GetUserMe", rootByHeader.GET("/v1/users/me"));
const email: string = me.email;
assert.equal(me.userId, rootId);
assert.equal(me.role, "ROOT");
assert.equal((await ok("GetUser", root.GET("/v1/users/{user_id}", { params: { path: { user_id: rootId } } }))).email, email);
assert.equal(
  (await ok("GetUserByEmail", root.GET("/v1/users/email/{email}", { params: { path: { email } } }))).userId,
  rootId,
);
assert.equal(
  (await ok("GetUserByUsername", root.GET("/v1/users/username/{username}", { params: { path: { username: "root" } } })))
    .userId,
  rootId,
);
assert.equal(
  (await ok("GetUserApiByName", root.GET("/api/v1/users/{user}", { params: { path: { user: rootId } } }))).name,
  `users/${rootId}`,
);

assert.equal((await ok("GetInstanceSettings", root.GET("/v1/system/settings"))).allowRegistration, false);
assert.equal((await ok("GetInstanceSettingsApi", root.GET("/api/v1/instance/settings"))).allowRegistration, false);
const opened = await ok(
  "UpdateInstanceSettings",
  root.PATCH("/v1/system/settings", { body: { allowRegistration: true } }),
);
assert.equal(opened.allowRegistration, true);
const lifetime = await ok(
  "UpdateInstanceSettingsApi",
  root.PATCH("/api/v1/instance/settings", { body: { sessionLifetimeSeconds: "3600" } }),
);
const seconds: string = lifetime.sessionLifetimeSeconds;
assert.equal(seconds, "3600");
assert.equal(lifetime.allowRegistration, true);

const password = "correct horse battery";
const alice = await ok(
  "CreateUser",
  root.POST("/v1/users", {
    body: { user: { email: "alice@example.com", username: "alice", displayName: "Alice", password, role: "USER" } },
  }),
);
assert.equal(alice.createdById, rootId);
const aliceId = alice.userId;
assert.ok(aliceId);
const bob = await ok(
  "CreateUserApi",
  anonymous.POST("/api/v1/users", { body: { user: { email: "bob@example.com", username: "bob", password } } }),
);
const bobId = bob.userId;
assert.ok(bobId);
assert.equal(bob.role, "USER");

const aliceSession = await ok("SignIn", anonymous.POST("/v1/auth/signin", { body: { username: "alice", password } }));
assert.equal(aliceSession.user?.userId, aliceId);
const aliceClient = authenticated(aliceSession.accessToken, "apiKeyAuth");
const bobSession = await ok(
  "SignInApi",
  anonymous.POST("/api/v1/auth/signin", { body: { email: "bob@example.com", password } }),
);
const bobClient = authenticated(bobSession.accessToken, "bearerAuth");

// --- users -------------------------------------------------------------------
const listed = await ok("ListUsers", root.GET("/v1/users", { params: { query: { pageSize: 10 } } }));
assert.deepEqual(
  listed.users.map((user) => user.username),
  ["root", "alice", "bob"],
);
assert.equal(listed.totalSize, 3);
const filtered = await ok(
  "ListUsersApi",
  root.GET("/api/v1/users", { params: { query: { filter: 'username == "bob"' } } }),
);
assert.deepEqual(
  filtered.users.map((user) => user.userId),
  [bobId],
);
const renamed = await ok(
  "UpdateUser",
  aliceClient.PATCH("/v1/users/{user_id}", { params: { path: { user_id: aliceId } }, body: { displayName: "Alice A." } }),
);
assert.equal(renamed.displayName, "Alice A.");
const described = await ok(
  "UpdateUserApi",
  root.PATCH("/api/v1/users/{user}", { params: { path: { user: aliceId } }, body: { description: "writes memos" } }),
);
assert.equal(described.description, "writes memos");
assert.equal(described.displayName, "Alice A.");

// --- personal access tokens --------------------------------------------------
const tokens = { params: { path: { user: rootId } } };
const readOnly = await ok(
  "CreatePersonalAccessToken",
  root.POST("/v1/users/{user}/personalAccessTokens", {
    ...tokens,
    body: { description: "read-only", scopes: ["DISPLAY_USER_OWN"] },
  }),
);
assert.match(readOnly.token, /^gm_/);
assert.deepEqual(readOnly.personalAccessToken?.scopes, ["DISPLAY_USER_OWN"]);
const readOnlyClient = authenticated(readOnly.token, "bearerAuth");
assert.equal((await ok("GetUserMe", readOnlyClient.GET("/v1/users/me"))).userId, rootId);
await fails("ListUsers", 403, readOnlyClient.GET("/v1/users"));
const ci = await ok(
  "CreatePersonalAccessTokenApi",
  root.POST("/api/v1/users/{user}/personalAccessTokens", { ...tokens, body: { description: "ci" } }),
);
const readOnlyName = readOnly.personalAccessToken?.name ?? "";
const ciName = ci.personalAccessToken?.name ?? "";
const tokenNames = (await ok("ListPersonalAccessTokens", root.GET("/v1/users/{user}/personalAccessTokens", tokens)))
  .personalAccessTokens.map((token) => token.name);
assert.ok(tokenNames.includes(readOnlyName) && tokenNames.includes(ciName), String(tokenNames));
assert.ok(
  (await ok("ListPersonalAccessTokensApi", root.GET("/api/v1/users/{user}/personalAccessTokens", tokens)))
    .personalAccessTokens.some((token) => token.name === ciName),
);
await ok(
  "DeletePersonalAccessToken",
  root.DELETE("/v1/users/{user}/personalAccessTokens/{personalAccessToken}", {
    params: { path: { user: rootId, personalAccessToken: last(readOnlyName) } },
  }),
);
await fails("GetUserMe", 401, readOnlyClient.GET("/v1/users/me"));
await ok(
  "DeletePersonalAccessTokenApi",
  root.DELETE("/api/v1/users/{user}/personalAccessTokens/{personalAccessToken}", {
    params: { path: { user: rootId, personalAccessToken: last(ciName) } },
  }),
);

// --- settings ----------------------------------------------------------------
const general = { params: { path: { user: aliceId, setting: "GENERAL" } } };
const before = await ok("GetUserSetting", aliceClient.GET("/v1/users/{user}/settings/{setting}", general));
assert.equal(before.generalSetting?.locale, "en");
const french = await ok(
  "UpdateUserSetting",
  aliceClient.PATCH("/v1/users/{user}/settings/{setting}", { ...general, body: { generalSetting: { locale: "fr" } } }),
);
assert.equal(french.generalSetting?.locale, "fr");
const dark = await ok(
  "UpdateUserSettingApi",
  aliceClient.PATCH("/api/v1/users/{user}/settings/{setting}", {
    ...general,
    body: { generalSetting: { theme: "dark", memoVisibility: "PROTECTED" } },
  }),
);
assert.equal(dark.generalSetting?.theme, "dark");
assert.equal(dark.generalSetting?.locale, "fr");
assert.equal(
  (await ok("GetUserSettingApi", root.GET("/api/v1/users/{user}/settings/{setting}", general))).generalSetting
    ?.memoVisibility,
  "PROTECTED",
);
const aliceSettings = { params: { path: { user: aliceId } } };
assert.equal(
  (await ok("ListUserSettings", aliceClient.GET("/v1/users/{user}/settings", aliceSettings))).settings.length,
  2,
);
assert.equal(
  (await ok("ListUserSettingsApi", root.GET("/api/v1/users/{user}/settings", aliceSettings))).settings.length,
  2,
);

// --- webhooks (loopback targets: the test server allows private ones) ---------
const rootPath = { params: { path: { user: rootId } } };
const hook = await ok(
  "CreateUserWebhook",
  root.POST("/v1/users/{user}/webhooks", { ...rootPath, body: { url: "http://127.0.0.1:9/first", displayName: "first" } }),
);
assert.match(hook.signingSecret, /^whsec_/);
const other = await ok(
  "CreateUserWebhookApi",
  root.POST("/api/v1/users/{user}/webhooks", { ...rootPath, body: { url: "http://127.0.0.1:9/second" } }),
);
const hooks = (await ok("ListUserWebhooks", root.GET("/v1/users/{user}/webhooks", rootPath))).webhooks;
assert.deepEqual(
  hooks.map((h) => h.name),
  [hook.name, other.name],
);
assert.equal((await ok("ListUserWebhooksApi", root.GET("/api/v1/users/{user}/webhooks", rootPath))).webhooks.length, 2);
const hookPath = (name: string) => ({ params: { path: { user: rootId, webhook: last(name) } } });
assert.equal(
  (
    await ok(
      "UpdateUserWebhook",
      root.PATCH("/v1/users/{user}/webhooks/{webhook}", { ...hookPath(hook.name), body: { displayName: "renamed" } }),
    )
  ).displayName,
  "renamed",
);
assert.equal(
  (
    await ok(
      "UpdateUserWebhookApi",
      root.PATCH("/api/v1/users/{user}/webhooks/{webhook}", {
        ...hookPath(other.name),
        body: { url: "http://127.0.0.1:9/moved" },
      }),
    )
  ).url,
  "http://127.0.0.1:9/moved",
);
await ok("DeleteUserWebhook", root.DELETE("/v1/users/{user}/webhooks/{webhook}", hookPath(hook.name)));
await ok("DeleteUserWebhookApi", root.DELETE("/api/v1/users/{user}/webhooks/{webhook}", hookPath(other.name)));

// --- memos, comments, notifications, statistics ------------------------------
const first = await ok(
  "CreateMemo",
  aliceClient.POST("/v1/memos", { body: { content: "Hello #typescript `code`", visibility: "PUBLIC" } }),
);
const tags: string[] = first.tags;
assert.deepEqual(tags, ["typescript"]);
assert.equal(first.property?.hasCode, true);
const second = await ok("CreateMemoApi", aliceClient.POST("/api/v1/memos", { body: { content: "- [ ] todo" } }));
assert.equal(second.visibility, "PROTECTED", "the GENERAL setting's default visibility");
const memoPath = (name: string) => ({ params: { path: { memo: last(name) } } });
assert.equal((await ok("GetMemo", bobClient.GET("/v1/memos/{memo}", memoPath(first.name)))).content, first.content);
assert.equal((await ok("GetMemoApi", aliceClient.GET("/api/v1/memos/{memo}", memoPath(second.name)))).name, second.name);
assert.equal((await ok("ListMemos", aliceClient.GET("/v1/users/{user}/memos", aliceSettings))).memos.length, 2);
assert.equal((await ok("ListMemosApi", bobClient.GET("/api/v1/users/{user}/memos", aliceSettings))).memos.length, 2);
const pinned = await ok(
  "UpdateMemo",
  aliceClient.PATCH("/v1/memos/{memo}", { ...memoPath(first.name), body: { pinned: true } }),
);
assert.equal(pinned.pinned, true);
assert.equal(pinned.content, first.content);
const done = await ok(
  "UpdateMemoApi",
  aliceClient.PATCH("/api/v1/memos/{memo}", { ...memoPath(second.name), body: { content: "- [x] todo" } }),
);
assert.equal(done.property?.hasIncompleteTasks, false);
const comment = await ok(
  "CreateMemoComment",
  bobClient.POST("/v1/memos/{memo}/comments", { ...memoPath(first.name), body: { content: "Nice." } }),
);
assert.equal(comment.parent, first.name);
await ok(
  "CreateMemoCommentApi",
  bobClient.POST("/api/v1/memos/{memo}/comments", { ...memoPath(first.name), body: { content: "Again." } }),
);
assert.equal(
  (await ok("ListMemoComments", aliceClient.GET("/v1/memos/{memo}/comments", memoPath(first.name)))).memos.length,
  2,
);
assert.equal(
  (await ok("ListMemoCommentsApi", bobClient.GET("/api/v1/memos/{memo}/comments", memoPath(first.name)))).memos.length,
  2,
);

const notifications = (
  await ok("ListUserNotifications", aliceClient.GET("/v1/users/{user}/notifications", aliceSettings))
).notifications;
assert.deepEqual(
  notifications.map((n) => [n.type, n.status]),
  [
    ["MEMO_COMMENT", "UNREAD"],
    ["MEMO_COMMENT", "UNREAD"],
  ],
);
const unread = await ok(
  "ListUserNotificationsApi",
  aliceClient.GET("/api/v1/users/{user}/notifications", {
    params: { path: { user: aliceId }, query: { filter: 'status == "UNREAD"' } },
  }),
);
assert.equal(unread.notifications.length, 2);
const notificationPath = (name: string) => ({ params: { path: { user: aliceId, notification: last(name) } } });
const [one, two] = notifications;
assert.equal(
  (
    await ok(
      "UpdateUserNotification",
      aliceClient.PATCH("/v1/users/{user}/notifications/{notification}", {
        ...notificationPath(one.name),
        body: { status: "ARCHIVED" },
      }),
    )
  ).status,
  "ARCHIVED",
);
assert.equal(
  (
    await ok(
      "UpdateUserNotificationApi",
      aliceClient.PATCH("/api/v1/users/{user}/notifications/{notification}", {
        ...notificationPath(two.name),
        body: { status: "ARCHIVED" },
      }),
    )
  ).status,
  "ARCHIVED",
);
await ok(
  "DeleteUserNotification",
  aliceClient.DELETE("/v1/users/{user}/notifications/{notification}", notificationPath(one.name)),
);
await ok(
  "DeleteUserNotificationApi",
  aliceClient.DELETE("/api/v1/users/{user}/notifications/{notification}", notificationPath(two.name)),
);

const stats = await ok("GetUserStats", aliceClient.GET("/v1/users/{user}:getStats", aliceSettings));
const total: number = stats.totalMemoCount;
assert.equal(total, 2);
assert.deepEqual(stats.pinnedMemos, [first.name]);
assert.deepEqual((await ok("GetUserStatsApi", root.GET("/api/v1/users/{user}:getStats", aliceSettings))).tagCount, {
  typescript: 1,
});
const everyone = (await ok("ListAllUserStats", root.GET("/v1/users:stats"))).stats.map((s) => s.name);
assert.ok(everyone.includes(`users/${aliceId}`) && everyone.includes(`users/${bobId}`), String(everyone));
assert.equal(
  (await ok("ListAllUserStatsApi", root.GET("/api/v1/users:stats", { params: { query: { pageSize: 1 } } }))).stats.length,
  1,
);

await ok("DeleteMemo", aliceClient.DELETE("/v1/memos/{memo}", memoPath(second.name)));
await ok("DeleteMemoApi", bobClient.DELETE("/api/v1/memos/{memo}", memoPath(comment.name)));
await fails("GetMemo", 404, aliceClient.GET("/v1/memos/{memo}", memoPath(second.name)));

// --- sign-out and deletion ---------------------------------------------------
await ok("SignOut", aliceClient.POST("/v1/auth/signout", { body: {} }));
await fails("GetUserMe", 401, aliceClient.GET("/v1/users/me"));
await ok("SignOutApi", bobClient.POST("/api/v1/auth/signout", { body: {} }));
await ok(
  "DeleteUser",
  root.DELETE("/v1/users/{user_id}", { params: { path: { user_id: bobId }, query: { force: true } } }),
);
await ok(
  "DeleteUserApiByName",
  root.DELETE("/api/v1/users/{user}", { params: { path: { user: aliceId }, query: { force: true } } }),
);
await fails("GetUser", 404, root.GET("/v1/users/{user_id}", { params: { path: { user_id: aliceId } } }));
const tombstone = await ok(
  "GetUser",
  root.GET("/v1/users/{user_id}", { params: { path: { user_id: aliceId }, query: { includeDeleted: true } } }),
);
assert.ok(tombstone.deletedAt !== null && tombstone.deletedById === rootId);

const missing = [...operations.values()].filter((operationId) => !called.has(operationId)).sort();
assert.deepEqual(missing, [], "operations of the document never called");
console.log(JSON.stringify({ called: called.size }));
