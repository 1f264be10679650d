// A Connect client nobody here wrote — connect-es (@connectrpc/connect-node)
// with protobuf-es code generated from proto/ (buf.gen.yaml) — calls every
// RPC of UserService, AuthService, SystemService and MemoService, and
// grpc.health.v1.Health/Check, against a running Roster, four times: JSON
// and binary, each over HTTP/1.1 and HTTP/2. Every variant must succeed at
// every RPC at least once; the script fails if one was never called.
//
//   node scenario.mjs http://127.0.0.1:PORT [VARIANT...]
//
// (all four variants unless some are named, such as `json/http2`).
// The server must allow private webhook targets (--allow-private-webhooks):
// the webhooks point at a loopback address, so nothing leaves the machine.
// Prints one JSON line per variant, then {"variants": [...]}.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import { timestampMs } from "@bufbuild/protobuf/wkt";

import { AuthService } from "./gen/goodmem/v1/auth_service_pb.js";
import { MemoService } from "./gen/goodmem/v1/memo_service_pb.js";
import { SystemService } from "./gen/goodmem/v1/system_service_pb.js";
import { User_Role, User_State } from "./gen/goodmem/v1/user_pb.js";
import {
  UserNotification_Status,
  UserNotification_Type,
  Visibility,
} from "./gen/goodmem/v1/user_resources_pb.js";
import { UserService } from "./gen/goodmem/v1/user_service_pb.js";
import { BadRequestSchema } from "./gen/google/rpc/error_details_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health_pb.js";

const baseUrl = process.argv[2];
if (!baseUrl) {
  console.error("usage: node scenario.mjs <base-url>");
  process.exit(2);
}

const SERVICES = [UserService, AuthService, SystemService, MemoService];
const HEALTH_CHECK = `${Health.typeName}/${Health.method.check.name}`;
/** Every method the scenario must call: `package.Service/Method`. */
const REQUIRED = new Set([
  ...SERVICES.flatMap((service) => service.methods.map((method) => `${service.typeName}/${method.name}`)),
  HEALTH_CHECK,
]);

const ALL_VARIANTS = [
  { name: "json/http1.1", useBinaryFormat: false, httpVersion: "1.1" },
  { name: "binary/http1.1", useBinaryFormat: true, httpVersion: "1.1" },
  { name: "json/http2", useBinaryFormat: false, httpVersion: "2" },
  { name: "binary/http2", useBinaryFormat: true, httpVersion: "2" },
];

const chosen = process.argv.slice(3);
const VARIANTS = chosen.length === 0 ? ALL_VARIANTS : ALL_VARIANTS.filter((variant) => chosen.includes(variant.name));
for (const name of chosen) {
  assert.ok(ALL_VARIANTS.some((variant) => variant.name === name), `no variant ${name}`);
}

const PASSWORD = "correct horse battery staple";
/** A loopback target: the server runs with --allow-private-webhooks. */
const HOOK_URL = "http://127.0.0.1:9/roster-hook";

/** Call options carrying a bearer token. */
const as = (token, extra = {}) => ({ ...extra, headers: { authorization: `Bearer ${token}`, ...extra.headers } });

const uuidOf = (bytes) => {
  assert.equal(bytes.length, 16, "a 16-byte uuid");
  const hex = Buffer.from(bytes).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

const uuidBytes = (text) => new Uint8Array(Buffer.from(text.replaceAll("-", ""), "hex"));

/** The call must fail with `code`; returns the ConnectError. */
async function rejects(code, call, what) {
  let result;
  try {
    result = await call;
  } catch (error) {
    const connectError = ConnectError.from(error);
    assert.equal(
      connectError.code,
      code,
      `${what}: expected ${Code[code]}, got ${Code[connectError.code]}: ${connectError.message}`,
    );
    return connectError;
  }
  assert.fail(`${what}: expected ${Code[code]}, got ${JSON.stringify(result, (_, v) => (typeof v === "bigint" ? `${v}` : v))}`);
}

/** The fields named by the google.rpc.BadRequest details of an error. */
function violatedFields(error) {
  const details = error.findDetails(BadRequestSchema);
  assert.ok(details.length > 0, `a google.rpc.BadRequest detail in ${error.message}`);
  return details.flatMap((detail) => detail.fieldViolations.map((violation) => violation.field));
}

/** The transport of one variant, recording every method it calls. */
function transportFor(variant, record, extra = {}) {
  return createConnectTransport({
    baseUrl,
    httpVersion: variant.httpVersion,
    useBinaryFormat: variant.useBinaryFormat,
    interceptors: [
      (next) => async (request) => {
        const method = `${request.method.parent.typeName}/${request.method.name}`;
        record.called.add(method);
        const response = await next(request);
        record.succeeded.add(method);
        return response;
      },
    ],
    ...extra,
  });
}

async function runVariant(variant, state) {
  const index = ALL_VARIANTS.indexOf(variant);
  const record = { called: new Set(), succeeded: new Set() };
  const sessionManager = variant.httpVersion === "2" ? new Http2SessionManager(baseUrl) : undefined;
  const transport = transportFor(variant, record, sessionManager ? { sessionManager } : {});
  // Reads marked NO_SIDE_EFFECTS may also go as Connect GET requests.
  const getTransport = transportFor(variant, record, { useHttpGet: true, ...(sessionManager ? { sessionManager } : {}) });
  const users = createClient(UserService, transport);
  const usersByGet = createClient(UserService, getTransport);
  const auth = createClient(AuthService, transport);
  const system = createClient(SystemService, transport);
  const systemByGet = createClient(SystemService, getTransport);
  const memos = createClient(MemoService, transport);
  const health = createClient(Health, transport);
  // Usernames unique per variant: [a-z0-9-], starting with a letter.
  const tag = `v${index}`;
  const name = (who) => `${tag}${who}`;

  // --- SystemService.GetSystemInfo, no credentials.
  const info = await system.getSystemInfo({});
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  assert.ok(info.gitCommit.length > 0 && info.buildTime.length > 0);
  assert.ok(info.capabilities.includes("connect"), `capabilities ${info.capabilities}`);
  assert.equal(info.databaseBackend, "sqlite");
  const first = state.rootKey === undefined;
  assert.equal(info.initialized, !first, "initialized by the first variant only");

  // --- UserService.InitializeSystem: the root key once, then no key.
  const initialized = await users.initializeSystem({});
  if (first) {
    assert.equal(initialized.alreadyInitialized, false);
    assert.match(initialized.rootApiKey, /^gm_[a-z2-7]{26,}$/);
    state.rootKey = initialized.rootApiKey;
    state.rootId = uuidOf(initialized.userId);
    assert.ok(initialized.message.length > 0);
  } else {
    assert.equal(initialized.alreadyInitialized, true);
    assert.equal(initialized.rootApiKey, "");
    assert.equal(initialized.userId.length, 0);
  }
  const root = as(state.rootKey);
  const infoByGet = await systemByGet.getSystemInfo({});
  assert.equal(infoByGet.initialized, true);
  assert.equal(infoByGet.version, info.version);

  // --- grpc.health.v1.Health/Check.
  const serving = await health.check({});
  assert.equal(serving.status, HealthCheckResponse_ServingStatus.SERVING);
  const userServiceHealth = await health.check({ service: UserService.typeName });
  assert.equal(userServiceHealth.status, HealthCheckResponse_ServingStatus.SERVING);
  await rejects(Code.NotFound, health.check({ service: "no.such.Service" }), "health of an unknown service");

  // --- A call the gate refuses before reading its body (no credentials)
  // must be answered UNAUTHENTICATED, and leave the connection usable:
  // twenty refusals in a row on one transport. (Over HTTP/1.1 the server
  // answers 401 after the headers, then closes the connection without
  // reading the body or saying `connection: close`; connect-node then
  // writes the body, or the next request, into a closed socket: EPIPE.)
  const refusals = [];
  for (let attempt = 0; attempt < 20; attempt += 1) {
    try {
      await users.getUser({});
      refusals.push("OK");
    } catch (error) {
      const connectError = ConnectError.from(error);
      refusals.push(`${Code[connectError.code]}: ${connectError.rawMessage}`);
    }
  }
  const notRefused = refusals.filter((outcome) => !outcome.startsWith("Unauthenticated: "));
  assert.deepEqual(
    notRefused,
    [],
    `${variant.name}: ${notRefused.length} of 20 calls without credentials were not UNAUTHENTICATED: ` +
      "the server answered before reading the request body and closed the connection",
  );

  // --- Errors: no key, an unknown user, field violations.
  await rejects(Code.Unauthenticated, users.getUser({}), "GetUser without a key");
  await rejects(Code.Unauthenticated, users.getUser({}, as("gm_notarealtokenatallxxxxxxxxxx")), "GetUser with a bad key");
  await rejects(Code.NotFound, users.getUser({ userId: uuidBytes(randomUUID()) }, root), "GetUser of an unknown id");
  await rejects(Code.NotFound, users.getUser({ username: name("nobody") }, root), "GetUser of an unknown username");
  const invalidUser = await rejects(
    Code.InvalidArgument,
    users.createUser({ user: { email: "not-an-email", username: "-bad-", password: "short" } }, root),
    "CreateUser with bad fields",
  );
  assert.deepEqual(new Set(violatedFields(invalidUser)), new Set(["user.email", "user.username", "user.password"]));
  const invalidId = await rejects(Code.InvalidArgument, users.getUser({ userId: new Uint8Array([0, 1]) }, root), "GetUser of a 2-byte id");
  assert.deepEqual(violatedFields(invalidId), ["user_id"]);

  // --- GetUser: the caller, over POST and over GET.
  const me = await users.getUser({}, root);
  assert.equal(uuidOf(me.userId), state.rootId);
  assert.equal(me.name, `users/${state.rootId}`);
  assert.equal(me.role, User_Role.ROOT);
  assert.equal(me.username, "root");
  const meByGet = await usersByGet.getUser({ name: me.name }, root);
  assert.equal(meByGet.etag, me.etag);

  // --- SystemService instance settings; registration on.
  const settingsBefore = await system.getInstanceSettings({}, root);
  if (first) {
    assert.equal(settingsBefore.allowRegistration, false, "off by default");
    assert.equal(settingsBefore.sessionLifetimeSeconds, 604800n, "7 days by default");
    assert.equal(settingsBefore.updatedAt, undefined, "unset while the defaults hold");
  }
  const lifetime = BigInt(3600 + index);
  const changed = await system.updateInstanceSettings(
    {
      settings: { allowRegistration: true, sessionLifetimeSeconds: lifetime },
      updateMask: { paths: ["allow_registration", "session_lifetime_seconds"] },
    },
    root,
  );
  assert.equal(changed.allowRegistration, true);
  assert.equal(changed.sessionLifetimeSeconds, lifetime);
  assert.ok(changed.updatedAt && Math.abs(timestampMs(changed.updatedAt) - Date.now()) < 60_000);
  const settingsAfter = await system.getInstanceSettings({}, root);
  assert.equal(settingsAfter.sessionLifetimeSeconds, lifetime);
  assert.equal(settingsAfter.allowRegistration, true);

  // --- CreateUser: by the root, and by self-registration (no credentials).
  const alice = await users.createUser(
    {
      user: {
        username: name("alice"),
        email: `${name("alice")}@example.com`,
        displayName: "Alice",
        password: PASSWORD,
        labels: { team: "core" },
      },
      requestId: randomUUID(),
    },
    root,
  );
  assert.equal(alice.username, name("alice"));
  assert.equal(alice.email, `${name("alice")}@example.com`);
  assert.equal(alice.displayName, "Alice");
  assert.equal(alice.role, User_Role.USER);
  assert.equal(alice.state, User_State.NORMAL);
  assert.equal(alice.name, `users/${uuidOf(alice.userId)}`);
  assert.deepEqual(alice.labels, { team: "core" });
  assert.equal(alice.password, "", "never returned");
  assert.equal(uuidOf(alice.createdById), state.rootId);
  assert.ok(alice.createdAt && Math.abs(timestampMs(alice.createdAt) - Date.now()) < 60_000);
  assert.ok(alice.etag.length > 0);
  const bob = await users.createUser({
    user: { username: name("bob"), email: `${name("bob")}@example.com`, password: PASSWORD },
  });
  assert.equal(bob.role, User_Role.USER, "self-registered");
  assert.equal(uuidOf(bob.createdById), uuidOf(bob.userId), "created by themself");
  const carol = await users.createUser(
    { user: { username: name("carol"), email: `${name("carol")}@example.com`, role: User_Role.ADMIN } },
    root,
  );
  assert.equal(carol.role, User_Role.ADMIN);
  const checked = await users.createUser(
    { user: { username: name("dave"), email: `${name("dave")}@example.com` }, validateOnly: true },
    root,
  );
  assert.equal(checked.username, name("dave"));
  await rejects(
    Code.AlreadyExists,
    users.createUser({ user: { username: name("ALICE"), email: `other-${name("alice")}@example.com` } }, root),
    "CreateUser of a taken username",
  );

  // --- GetUser returns the same user, by id, email and username.
  for (const [how, request] of [
    ["id", { userId: alice.userId }],
    ["email", { email: alice.email.toUpperCase() }],
    ["username", { username: alice.username }],
    ["name", { name: alice.name }],
  ]) {
    const found = await users.getUser(request, root);
    assert.deepEqual(found.userId, alice.userId, how);
    assert.equal(found.name, alice.name, how);
    assert.equal(found.email, alice.email, how);
    assert.equal(found.etag, alice.etag, how);
    assert.deepEqual(found.createdAt, alice.createdAt, how);
    assert.deepEqual(found.labels, alice.labels, how);
  }
  const aliceByGet = await usersByGet.getUser({ userId: alice.userId }, root);
  assert.equal(aliceByGet.name, alice.name);

  // --- ListUsers pages: this variant's three users, two a page.
  const filter = `username.startsWith("${tag}")`;
  const seen = [];
  let pageToken = "";
  let pages = 0;
  do {
    const page = await users.listUsers({ filter, pageSize: 2, pageToken }, root);
    assert.ok(page.users.length <= 2);
    assert.equal(page.totalSize, 3);
    seen.push(...page.users.map((user) => user.username));
    pageToken = page.nextPageToken;
    pages += 1;
  } while (pageToken !== "" && pages < 10);
  assert.deepEqual(seen, [name("alice"), name("bob"), name("carol")], "oldest first");
  assert.equal(pages, 2);
  const byLabel = await usersByGet.listUsers({ filter: `${filter} && labels["team"] == "core"` }, root);
  assert.deepEqual(byLabel.users.map((user) => user.username), [name("alice")]);
  const badFilter = await rejects(Code.InvalidArgument, users.listUsers({ filter: "nosuchfield == 1" }, root), "ListUsers with a bad filter");
  assert.deepEqual(violatedFields(badFilter), ["filter"]);

  // --- UpdateUser: a field mask and the etag guard.
  const renamed = await users.updateUser(
    {
      user: { name: alice.name, displayName: "Alice A.", labels: { team: "core", tier: "gold" }, etag: alice.etag },
      updateMask: { paths: ["display_name", "labels.tier"] },
    },
    root,
  );
  assert.equal(renamed.displayName, "Alice A.");
  assert.deepEqual(renamed.labels, { team: "core", tier: "gold" });
  assert.notEqual(renamed.etag, alice.etag);
  assert.ok(timestampMs(renamed.updatedAt) >= timestampMs(alice.updatedAt));
  await rejects(
    Code.Aborted,
    users.updateUser({ user: { name: alice.name, displayName: "Lost", etag: alice.etag }, updateMask: { paths: ["display_name"] } }, root),
    "UpdateUser with a stale etag",
  );

  // --- AuthService: SignIn, a session, SignOut.
  const signedIn = await auth.signIn({ username: alice.username, password: PASSWORD });
  assert.match(signedIn.accessToken, /^gm_/);
  assert.equal(signedIn.user.name, alice.name);
  assert.equal(signedIn.user.displayName, "Alice A.");
  const expiresIn = timestampMs(signedIn.expiresAt) - Date.now();
  assert.ok(Math.abs(expiresIn - Number(lifetime) * 1000) < 60_000, `the session lasts the instance's lifetime: ${expiresIn} ms`);
  const session = signedIn.accessToken;
  const aliceBySession = await users.getUser({}, as(session));
  assert.equal(aliceBySession.name, alice.name);
  await auth.signOut({}, as(session));
  await rejects(Code.Unauthenticated, users.getUser({}, as(session)), "a signed-out session");
  await rejects(Code.Unauthenticated, auth.signIn({ username: alice.username, password: "wrong password!" }), "SignIn with a wrong password");
  const bobKey = (await auth.signIn({ email: bob.email, password: PASSWORD })).accessToken;

  // --- Deadlines. SignIn hashes with Argon2 for tens of milliseconds, so a
  // 1 ms deadline always expires first.
  // (a) The header alone (no client-side timer): DEADLINE_EXCEEDED can come
  // only from the server, which maps connect-timeout-ms to the call's
  // deadline; its answer carries the server's x-request-id header.
  const serverDeadline = await rejects(
    Code.DeadlineExceeded,
    auth.signIn({ username: alice.username, password: PASSWORD }, { headers: { "connect-timeout-ms": "1" } }),
    "SignIn with connect-timeout-ms: 1",
  );
  assert.ok(serverDeadline.metadata.get("x-request-id"), "the server's answer");
  // (b) The client's timeoutMs: connect-es sends connect-timeout-ms: 2 and
  // arms its own timer, so the DEADLINE_EXCEEDED is the client's or the
  // server's, whichever comes first; the summary says which (here: the
  // client's, whose timer fires before the server's answer arrives).
  const clientDeadline = await rejects(
    Code.DeadlineExceeded,
    auth.signIn({ username: alice.username, password: PASSWORD }, { timeoutMs: 2 }),
    "SignIn with timeoutMs: 2",
  );
  const deadlineFrom = clientDeadline.metadata.get("x-request-id") ? "server" : "client";

  // --- Personal access tokens, as alice (a fresh session).
  const aliceKey = (await auth.signIn({ username: alice.username, password: PASSWORD })).accessToken;
  const asAlice = as(aliceKey);
  const readOnly = await users.createPersonalAccessToken(
    { parent: alice.name, description: "read only", expiresInDays: 30, scopes: ["DISPLAY_USER_OWN"] },
    asAlice,
  );
  assert.match(readOnly.token, /^gm_/);
  const readOnlyMeta = readOnly.personalAccessToken;
  assert.ok(readOnlyMeta.name.startsWith(`${alice.name}/personalAccessTokens/`), readOnlyMeta.name);
  assert.equal(readOnlyMeta.description, "read only");
  assert.deepEqual(readOnlyMeta.scopes, ["DISPLAY_USER_OWN"]);
  assert.equal(readOnlyMeta.expired, false);
  const days = (timestampMs(readOnlyMeta.expiresAt) - timestampMs(readOnlyMeta.createdAt)) / 86_400_000;
  assert.ok(Math.abs(days - 30) < 0.01, `expires in 30 days: ${days}`);
  const forever = await users.createPersonalAccessToken({ parent: alice.name, description: "ci" }, asAlice);
  assert.equal(forever.personalAccessToken.expiresAt, undefined, "never expires");
  const viaToken = await users.getUser({}, as(readOnly.token));
  assert.equal(viaToken.name, alice.name);
  await rejects(
    Code.PermissionDenied,
    users.updateUser({ user: { name: alice.name, displayName: "x" }, updateMask: { paths: ["display_name"] } }, as(readOnly.token)),
    "a read-only token updating",
  );
  const badToken = await rejects(
    Code.InvalidArgument,
    users.createPersonalAccessToken({ parent: alice.name, expiresInDays: -1 }, asAlice),
    "a negative expiry",
  );
  assert.deepEqual(violatedFields(badToken), ["expires_in_days"]);
  const tokenNames = [];
  pageToken = "";
  pages = 0;
  do {
    const page = await users.listPersonalAccessTokens({ parent: alice.name, pageSize: 1, pageToken }, asAlice);
    assert.equal(page.personalAccessTokens.length, 1);
    tokenNames.push(...page.personalAccessTokens.map((token) => token.name));
    pageToken = page.nextPageToken;
    pages += 1;
  } while (pageToken !== "" && pages < 10);
  assert.deepEqual(tokenNames, [forever.personalAccessToken.name, readOnlyMeta.name], "newest first");
  await users.deletePersonalAccessToken({ name: readOnlyMeta.name }, asAlice);
  await rejects(Code.Unauthenticated, users.getUser({}, as(readOnly.token)), "a deleted token");
  await rejects(Code.NotFound, users.deletePersonalAccessToken({ name: readOnlyMeta.name }, asAlice), "deleting it again");
  const remaining = await usersByGet.listPersonalAccessTokens({ parent: alice.name }, asAlice);
  assert.deepEqual(remaining.personalAccessTokens.map((token) => token.name), [forever.personalAccessToken.name]);

  // --- Settings: GENERAL defaults, an update through a mask, the list.
  const generalName = `${alice.name}/settings/GENERAL`;
  const defaults = await users.getUserSetting({ name: generalName }, asAlice);
  assert.equal(defaults.name, generalName);
  assert.equal(defaults.value.case, "generalSetting");
  assert.deepEqual(
    { ...defaults.value.value, $typeName: undefined },
    { $typeName: undefined, locale: "en", theme: "default", memoVisibility: Visibility.PRIVATE },
  );
  const updatedSetting = await users.updateUserSetting(
    {
      setting: {
        name: generalName,
        value: { case: "generalSetting", value: { locale: "fr", theme: "dark", memoVisibility: Visibility.PROTECTED } },
      },
      updateMask: { paths: ["locale", "general_setting.theme", "memo_visibility"] },
    },
    asAlice,
  );
  assert.equal(updatedSetting.value.value.locale, "fr");
  assert.equal(updatedSetting.value.value.theme, "dark");
  assert.equal(updatedSetting.value.value.memoVisibility, Visibility.PROTECTED);
  const badLocale = await rejects(
    Code.InvalidArgument,
    users.updateUserSetting(
      { setting: { name: generalName, value: { case: "generalSetting", value: { locale: "not a locale!" } } }, updateMask: { paths: ["locale"] } },
      asAlice,
    ),
    "an invalid locale",
  );
  assert.ok(violatedFields(badLocale).some((field) => field.endsWith("locale")), violatedFields(badLocale).join());

  // --- Webhooks: create (the secret once), list, update, the WEBHOOKS view, delete.
  const hook = await users.createUserWebhook({ parent: alice.name, webhook: { url: HOOK_URL, displayName: "ci hook" } }, asAlice);
  assert.ok(hook.name.startsWith(`${alice.name}/webhooks/`), hook.name);
  assert.equal(hook.url, HOOK_URL);
  assert.equal(hook.displayName, "ci hook");
  assert.match(hook.signingSecret, /^whsec_/);
  assert.ok(hook.createTime);
  const hooks = await users.listUserWebhooks({ parent: alice.name }, asAlice);
  assert.deepEqual(hooks.webhooks.map((webhook) => [webhook.name, webhook.signingSecret]), [[hook.name, ""]], "no secret in lists");
  const movedHook = await users.updateUserWebhook(
    { webhook: { name: hook.name, url: `${HOOK_URL}/v2`, displayName: "moved" }, updateMask: { paths: ["url", "display_name"] } },
    asAlice,
  );
  assert.equal(movedHook.url, `${HOOK_URL}/v2`);
  assert.equal(movedHook.displayName, "moved");
  assert.equal(movedHook.signingSecret, "");
  const webhooksView = await users.getUserSetting({ name: `${alice.name}/settings/WEBHOOKS` }, asAlice);
  assert.equal(webhooksView.value.case, "webhooksSetting");
  assert.deepEqual(webhooksView.value.value.webhooks.map((webhook) => webhook.url), [`${HOOK_URL}/v2`]);
  const allSettings = await users.listUserSettings({ parent: alice.name }, asAlice);
  assert.deepEqual(allSettings.settings.map((setting) => setting.name), [generalName, `${alice.name}/settings/WEBHOOKS`]);
  assert.equal(allSettings.totalSize, 2);
  assert.equal(allSettings.settings[0].value.value.locale, "fr");
  const badHook = await rejects(
    Code.InvalidArgument,
    users.createUserWebhook({ parent: alice.name, webhook: { url: "ftp://127.0.0.1/x" } }, asAlice),
    "a webhook that is not http(s)",
  );
  assert.ok(violatedFields(badHook).some((field) => field.endsWith("url")), violatedFields(badHook).join());
  // Deleted before any memo exists, so no delivery is ever attempted.
  await users.deleteUserWebhook({ name: hook.name }, asAlice);
  assert.equal((await users.listUserWebhooks({ parent: alice.name }, asAlice)).webhooks.length, 0);

  // --- Memos and comments.
  const content = "Ship it #release\n\nSee [the notes](https://example.com/notes).\n\n- [ ] tag the build\n- [x] run `ci`\n";
  const memo = await memos.createMemo({ memo: { content, pinned: true } }, asAlice);
  assert.match(memo.name, /^memos\/[0-9a-f-]{36}$/);
  assert.equal(memo.creator, alice.name);
  assert.equal(memo.visibility, Visibility.PROTECTED, "the GENERAL setting's default");
  assert.equal(memo.pinned, true);
  assert.deepEqual(memo.tags, ["release"]);
  assert.deepEqual(
    [memo.property.hasLink, memo.property.hasTaskList, memo.property.hasCode, memo.property.hasIncompleteTasks],
    [true, true, true, true],
  );
  const fetched = await memos.getMemo({ name: memo.name }, as(bobKey));
  assert.equal(fetched.content, content, "PROTECTED: any signed-in user reads it");
  const edited = await memos.updateMemo(
    { memo: { name: memo.name, content: "Shipped #release #done" }, updateMask: { paths: ["content"] } },
    asAlice,
  );
  assert.deepEqual([...edited.tags].sort(), ["done", "release"]);
  assert.equal(edited.property.hasLink, false);
  assert.equal(edited.pinned, true);
  const draft = await memos.createMemo({ memo: { content: "draft", visibility: Visibility.PRIVATE } }, asAlice);
  await rejects(Code.NotFound, memos.getMemo({ name: draft.name }, as(bobKey)), "someone else's PRIVATE memo");
  const listed = await memos.listMemos({ parent: alice.name }, asAlice);
  assert.deepEqual(new Set(listed.memos.map((each) => each.name)), new Set([memo.name, draft.name]));
  await memos.deleteMemo({ name: draft.name }, asAlice);
  await rejects(Code.NotFound, memos.getMemo({ name: draft.name }, asAlice), "a deleted memo");
  const comment = await memos.createMemoComment({ name: memo.name, comment: { content: "nice #review" } }, as(bobKey));
  assert.equal(comment.parent, memo.name);
  assert.equal(comment.creator, bob.name);
  const comments = await memos.listMemoComments({ name: memo.name }, asAlice);
  assert.deepEqual(comments.memos.map((each) => [each.name, each.content]), [[comment.name, "nice #review"]]);

  // --- Notifications: bob's comment notified alice.
  const unread = await users.listUserNotifications({ parent: alice.name, filter: 'status == "UNREAD"' }, asAlice);
  assert.equal(unread.notifications.length, 1);
  const notification = unread.notifications[0];
  assert.ok(notification.name.startsWith(`${alice.name}/notifications/`), notification.name);
  assert.equal(notification.sender, bob.name);
  assert.equal(notification.memo, memo.name);
  assert.equal(notification.type, UserNotification_Type.MEMO_COMMENT);
  assert.equal(notification.status, UserNotification_Status.UNREAD);
  const archived = await users.updateUserNotification(
    { notification: { name: notification.name, status: UserNotification_Status.ARCHIVED }, updateMask: { paths: ["status"] } },
    asAlice,
  );
  assert.equal(archived.status, UserNotification_Status.ARCHIVED);
  assert.equal((await users.listUserNotifications({ parent: alice.name, filter: 'status == "UNREAD"' }, asAlice)).notifications.length, 0);
  await users.deleteUserNotification({ name: notification.name }, asAlice);
  assert.equal((await users.listUserNotifications({ parent: alice.name }, asAlice)).notifications.length, 0);

  // --- Stats: alice's one live memo (the draft is deleted, the comment is bob's).
  const stats = await users.getUserStats({ name: alice.name }, asAlice);
  assert.equal(stats.name, alice.name);
  assert.equal(stats.totalMemoCount, 1);
  assert.deepEqual(stats.pinnedMemos, [memo.name]);
  assert.deepEqual(stats.tagCount, { done: 1, release: 1 });
  assert.equal(stats.memoDisplayTimestamps.length, 1);
  assert.deepEqual(
    [stats.memoTypeStats.linkCount, stats.memoTypeStats.codeCount, stats.memoTypeStats.todoCount, stats.memoTypeStats.undoCount],
    [0, 0, 0, 0],
  );
  let aliceStats;
  pageToken = "";
  pages = 0;
  do {
    const page = await users.listAllUserStats({ pageSize: 5, pageToken }, root);
    aliceStats ??= page.stats.find((entry) => entry.name === alice.name);
    pageToken = page.nextPageToken;
    pages += 1;
  } while (pageToken !== "" && pages < 50);
  assert.ok(aliceStats, "alice among every user's stats");
  assert.equal(aliceStats.totalMemoCount, 1);

  // --- DeleteUser: carol goes, and stays visible only with include_deleted.
  await users.deleteUser({ userId: carol.userId }, root);
  await rejects(Code.NotFound, users.getUser({ userId: carol.userId }, root), "GetUser of a deleted user");
  const tombstone = await users.getUser({ userId: carol.userId, includeDeleted: true }, root);
  assert.ok(tombstone.deletedAt, "deleted_at is set");
  assert.equal(uuidOf(tombstone.deletedById), state.rootId);
  await rejects(Code.FailedPrecondition, users.deleteUser({ name: alice.name }, root), "DeleteUser of a user who owns data");
  await users.deleteUser({ name: alice.name, force: true }, root);
  await rejects(Code.Unauthenticated, users.getUser({}, asAlice), "a deleted user's session");

  // Registration back off: anonymous CreateUser is refused again.
  await system.updateInstanceSettings({ settings: { allowRegistration: false }, updateMask: { paths: ["allow_registration"] } }, root);
  await rejects(
    Code.PermissionDenied,
    users.createUser({ user: { username: name("eve"), email: `${name("eve")}@example.com` } }),
    "self-registration while off",
  );

  sessionManager?.abort();
  const missing = [...REQUIRED].filter((method) => !record.succeeded.has(method));
  assert.deepEqual(missing, [], `${variant.name}: RPCs never called successfully`);
  const unexpected = [...record.called].filter((method) => !REQUIRED.has(method));
  assert.deepEqual(unexpected, [], `${variant.name}: calls outside the services`);
  return { name: variant.name, called: record.succeeded.size, deadline_exceeded_by: deadlineFrom };
}

const state = {};
const results = [];
try {
  for (const variant of VARIANTS) {
    const result = await runVariant(variant, state);
    console.log(JSON.stringify(result));
    results.push(result);
  }
} catch (error) {
  console.error(error);
  process.exit(1);
}
console.log(JSON.stringify({ required: REQUIRED.size, variants: results }));
process.exit(0);
