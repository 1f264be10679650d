// Drives the console in headless Chromium against a running server:
//   node e2e/console.e2e.mjs <base-url> <screenshot-dir>
// Each step saves a screenshot and prints its path; any failure exits 1.
// tests/api/console.rs starts a fresh server and runs this.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [baseUrl, screenshotDir] = process.argv.slice(2);
if (!baseUrl || !screenshotDir) {
  console.error("usage: console.e2e.mjs <base-url> <screenshot-dir>");
  process.exit(2);
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** A Connect JSON call beside the browser: another client changing things. */
async function api(method, body, token, service = "UserService") {
  const response = await fetch(`${baseUrl}/goodmem.v1.${service}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => ({})) };
}

const userDataDir = mkdtempSync(join(tmpdir(), "roster-console-e2e-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
  viewport: { width: 1200, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
// Generous: CI runs this beside the rest of the suite on two cores.
page.setDefaultTimeout(20_000);
const browserErrors = [];
page.on("pageerror", (error) => browserErrors.push(String(error)));
page.on("console", (message) => {
  if (message.type() === "error") browserErrors.push(message.text());
});

let stepNumber = 0;
async function step(name, body) {
  stepNumber += 1;
  const started = Date.now();
  await body();
  const path = join(screenshotDir, `${String(stepNumber).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`ok ${stepNumber} ${name} (${Date.now() - started} ms) screenshot: ${path}`);
}

const byTestId = (id) => page.getByTestId(id);
let rootKey = "";
let exitCode = 0;
try {
  await step("setup-page", async () => {
    await page.goto(baseUrl);
    await byTestId("setup-form").waitFor();
  });

  await step("root-key-shown-once", async () => {
    await byTestId("setup-form").getByRole("button", { name: "Initialize Roster" }).click();
    rootKey = (await byTestId("root-key").textContent()) ?? "";
    check(/^gm_[a-z2-7]{26,}$/.test(rootKey), `root key looks like a token: ${rootKey}`);
  });

  await step("signed-in-with-root-key", async () => {
    await byTestId("continue-with-key").click();
    await byTestId("signed-in-as").waitFor();
    check((await byTestId("signed-in-as").textContent()).includes("ROOT"), "signed in as ROOT");
    await page.reload();
    await byTestId("users-list").waitFor();
    check((await byTestId("root-key").count()) === 0, "the root key is not shown again");
    check((await byTestId("setup-form").count()) === 0, "set-up is one-time");
  });

  async function createUser(username, password, role = "USER") {
    const form = byTestId("create-user-form");
    await form.getByLabel("Username").fill(username);
    await form.getByLabel("Email").fill(`${username}@example.com`);
    await form.getByLabel("Display name").fill(`${username} Example`);
    await form.getByLabel(/^Password/).fill(password);
    await form.getByLabel("Role").selectOption(role);
    await form.getByRole("button", { name: "Create user" }).click();
    await form.getByText(`created ${username}`).waitFor();
  }

  await step("users-created", async () => {
    await createUser("alice", "correct-horse-9", "ADMIN");
    await createUser("alex", "battery-staple-9");
    await createUser("bob", "another-secret-9");
    await byTestId("user-bob").waitFor();
    // A field violation lands at its field: a password that is too short.
    const form = byTestId("create-user-form");
    await form.getByLabel("Username").fill("shorty");
    await form.getByLabel(/^Password/).fill("short");
    await form.getByRole("button", { name: "Create user" }).click();
    const passwordError = form.locator('[data-error-for="password"]');
    await passwordError.filter({ hasText: /./ }).waitFor();
    console.log(`   create with a short password, at the field: ${await passwordError.textContent()}`);
  });

  await step("sign-out-and-sign-in-with-password", async () => {
    await byTestId("sign-out").click();
    const keyForm = byTestId("api-key-form");
    await keyForm.getByLabel(/API key/).fill("gm_notarealtokenatallnotarealtoken");
    await keyForm.getByRole("button", { name: "Use key" }).click();
    await keyForm.locator(".form-error").filter({ hasText: /not signed in|credential/ }).waitFor();
    const form = byTestId("sign-in-form");
    await form.getByLabel("Username or email").fill("alice");
    await form.getByLabel("Password").fill("wrong-password-1");
    await form.getByRole("button", { name: "Sign in" }).click();
    await form.locator(".form-error").filter({ hasText: /./ }).waitFor();
    // The same box takes an email.
    await form.getByLabel("Username or email").fill("alice@example.com");
    await form.getByLabel("Password").fill("correct-horse-9");
    await form.getByRole("button", { name: "Sign in" }).click();
    await byTestId("signed-in-as").filter({ hasText: "alice" }).waitFor();
    const stored = await page.evaluate(() => sessionStorage.getItem("roster.token"));
    check(stored && stored !== rootKey, "the session token is kept in sessionStorage");
  });

  await step("users-filtered", async () => {
    await byTestId("users-filter").fill('username.startsWith("al")');
    await page.getByRole("button", { name: "Apply" }).click();
    await byTestId("users-total").filter({ hasText: "2 user(s)" }).waitFor();
    await byTestId("user-alice").waitFor();
    await byTestId("user-alex").waitFor();
    check((await byTestId("user-bob").count()) === 0, "bob is filtered out");
    await byTestId("users-filter").fill("username.nosuchfunction(");
    await page.getByRole("button", { name: "Apply" }).click();
    const error = page.locator(".filter .form-error, .filter [data-error-for]").filter({ hasText: /./ }).first();
    await error.waitFor();
    console.log(`   a bad filter, at the filter box: ${await error.textContent()}`);
  });

  await step("users-paged", async () => {
    for (let index = 0; index < 10; index += 1) {
      const created = await api("CreateUser", { user: { username: `member${index}`, email: `member${index}@example.com` } }, rootKey);
      check(created.status === 200, `CreateUser member${index}: ${JSON.stringify(created.body)}`);
    }
    await byTestId("users-filter").fill("");
    await page.getByRole("button", { name: "Apply" }).click();
    await byTestId("users-total").filter({ hasText: "14 user(s)" }).waitFor();
    check((await byTestId("users-list").locator("tbody tr").count()) === 10, "a page holds 10 users");
    await byTestId("users-pager").getByRole("button", { name: "Next →" }).click();
    await byTestId("users-pager").getByText("page 2").waitFor();
    check((await byTestId("users-list").locator("tbody tr").count()) === 4, "page 2 holds the other 4");
    await byTestId("users-pager").getByRole("button", { name: "← Previous" }).click();
    await byTestId("users-pager").getByText("page 1").waitFor();
  });

  let rawToken = "";
  await step("scoped-token-shown-once", async () => {
    await page.getByRole("link", { name: "My account" }).click();
    const form = byTestId("create-token-form");
    await form.getByLabel("Description").fill("ci-read");
    await form.getByLabel(/Expires in days/).fill("7");
    await form.getByLabel(/Scopes/).fill("NO_SUCH_PERMISSION");
    await form.getByRole("button", { name: "Create token" }).click();
    await form.locator(".form-error").filter({ hasText: /./ }).waitFor();
    await form.getByLabel(/Scopes/).fill("DISPLAY_USER_OWN");
    await form.getByRole("button", { name: "Create token" }).click();
    rawToken = (await byTestId("new-token").textContent()) ?? "";
    check(rawToken.startsWith("gm_"), `raw token shown: ${rawToken}`);
    await byTestId("token-ci-read").getByText("DISPLAY_USER_OWN").waitFor();
    const me = await api("GetUser", {}, rawToken);
    check(me.status === 200 && me.body.username === "alice", `the token works: ${JSON.stringify(me)}`);
    const outside = await api("ListUsers", {}, rawToken);
    check(outside.status === 403, `a call outside its scopes is refused: ${outside.status}`);
  });

  await step("token-revoked", async () => {
    await page.reload();
    await byTestId("token-ci-read").waitFor();
    check((await byTestId("new-token").count()) === 0, "the raw token is not shown again");
    await byTestId("revoke-ci-read").click();
    await byTestId("tokens-list").getByText("No tokens.").waitFor();
    const after = await api("GetUser", {}, rawToken);
    check(after.status === 401 && after.body.code === "unauthenticated", `revoked token refused: ${JSON.stringify(after)}`);
    console.log(`   a call with the revoked token: HTTP ${after.status} ${after.body.code}: ${after.body.message}`);
  });

  await step("preferences-notifications-instance", async () => {
    const preferences = byTestId("preferences-form");
    await preferences.getByLabel(/^Locale/).fill("not a locale!!");
    await preferences.getByRole("button", { name: "Save preferences" }).click();
    const atLocale = preferences.locator('[data-error-for="locale"]');
    await atLocale.filter({ hasText: /./ }).waitFor();
    console.log(`   a bad locale, at the field: ${await atLocale.textContent()}`);
    await preferences.getByLabel(/^Locale/).fill("fr");
    await preferences.getByRole("button", { name: "Save preferences" }).click();
    await preferences.getByText("saved").waitFor();
    await byTestId("stats").getByText("Memos").waitFor();
    await page.getByRole("link", { name: "Notifications" }).click();
    await byTestId("notifications-list").getByText("No notifications.").waitFor();
    await page.getByRole("link", { name: "Instance" }).click();
    const instance = byTestId("instance-form");
    await instance.getByRole("button", { name: "Save" }).click();
    await instance.getByText("saved").waitFor();
  });

  await step("webhook-private-url-refused", async () => {
    await page.getByRole("link", { name: "Webhooks" }).click();
    const form = byTestId("create-webhook-form");
    await byTestId("webhook-url").fill("http://127.0.0.1/x");
    await form.getByRole("button", { name: "Add webhook" }).click();
    const atField = form.locator('[data-error-for="url"]');
    await atField.filter({ hasText: /./ }).waitFor();
    check((await byTestId("webhook-url").getAttribute("aria-invalid")) === "true", "the URL field is marked invalid");
    console.log(`   at the URL field: ${await atField.textContent()}`);
    check((await atField.textContent()).includes("loopback"), "the field says why");
  });

  await step("webhook-created-edited-deleted", async () => {
    const form = byTestId("create-webhook-form");
    // A documentation address (TEST-NET-3): accepted, and never called, as
    // nothing in this test makes an event.
    await byTestId("webhook-url").fill("https://203.0.113.7/hook");
    await form.getByLabel("Display name").fill("audit");
    await form.getByRole("button", { name: "Add webhook" }).click();
    const secret = (await byTestId("webhook-secret").textContent()) ?? "";
    check(secret.startsWith("whsec_"), `signing secret shown once: ${secret}`);
    const row = byTestId("webhooks-list").locator("tbody tr").first();
    await row.getByLabel("url").fill("http://10.0.0.1/x");
    await row.getByRole("button", { name: "Save" }).click();
    await row.locator('[data-error-for="url"]').filter({ hasText: "private" }).waitFor();
    await row.getByLabel("url").fill("https://203.0.113.8/hook");
    await row.getByLabel("display name").fill("audit log");
    await row.getByRole("button", { name: "Save" }).click();
    // The list is rebuilt from the server once the update is stored.
    await byTestId("webhooks-list").locator('input[value="audit log"]').waitFor();
    await page.reload();
    const saved = byTestId("webhooks-list").locator("tbody tr").first();
    check((await saved.getByLabel("display name").inputValue()) === "audit log", "the new name is stored");
    check((await saved.getByLabel("url").inputValue()) === "https://203.0.113.8/hook", "the new URL is stored");
    check((await byTestId("webhook-secret").count()) === 0, "the secret is not shown again");
    await saved.getByRole("button", { name: "Delete" }).click();
    await byTestId("webhooks-list").getByText("No webhooks.").waitFor();
  });

  await step("stale-etag-conflict-explained", async () => {
    await page.getByRole("link", { name: "Users" }).click();
    await byTestId("edit-bob").click();
    const form = byTestId("edit-user-form");
    await form.getByLabel("Display name").fill("Bob from the console");
    // Meanwhile another client changes bob.
    const bob = await api("GetUser", { username: "bob" }, rootKey);
    check(bob.status === 200, `GetUser bob: ${JSON.stringify(bob)}`);
    const changed = await api("UpdateUser", { user: { name: bob.body.name, displayName: "Bob elsewhere" }, updateMask: "displayName" }, rootKey);
    check(changed.status === 200, `background UpdateUser: ${JSON.stringify(changed)}`);
    await form.getByRole("button", { name: "Save" }).click();
    const message = form.locator(".form-error");
    await message.filter({ hasText: "someone changed this user since you opened it; reload" }).waitFor();
    console.log(`   on save: ${await message.textContent()}`);
    await byTestId("reload-user").waitFor();
  });

  await step("stale-etag-reloaded-and-saved", async () => {
    await byTestId("reload-user").click();
    // The form is rebuilt from a fresh GetUser: it shows the other change.
    await byTestId("edit-user-form").locator('input[value="Bob elsewhere"]').waitFor();
    const reloaded = byTestId("edit-user-form");
    await reloaded.getByLabel("Display name").fill("Bob from the console");
    await reloaded.getByRole("button", { name: "Save" }).click();
    await page.getByText("saved bob").waitFor();
    await byTestId("user-bob").getByText("Bob from the console").waitFor();
  });

  await step("user-deleted-with-force", async () => {
    await byTestId("user-alex").getByRole("button", { name: "Delete" }).click();
    await byTestId("confirm-delete").click();
    await byTestId("users-total").filter({ hasText: "13 user(s)" }).waitFor();
    check((await byTestId("user-alex").count()) === 0, "alex is gone");
  });

  await step("all-user-stats-paged", async () => {
    const root = await api("GetUser", {}, rootKey);
    check(root.status === 200, `GetUser root: ${JSON.stringify(root)}`);
    // The browser is signed in as alice: root's public memo counts for her,
    // its private one does not.
    const content = "See [the docs](https://example.com/docs) and `cargo test`.\n\n- [ ] ship it #release\n- [x] test it #release #ci";
    for (const visibility of ["PUBLIC", "PRIVATE"]) {
      const memo = await api("CreateMemo", { memo: { content, visibility } }, rootKey, "MemoService");
      check(memo.status === 200, `CreateMemo ${visibility}: ${JSON.stringify(memo)}`);
    }
    await page.getByRole("link", { name: "Stats" }).click();
    const row = byTestId(`stats-${root.body.name}`);
    await row.waitFor();
    const cells = await row.locator("td").allTextContents();
    console.log(`   ${root.body.name}: ${cells.join(" | ")}`);
    check(
      JSON.stringify(cells.slice(0, 6)) === JSON.stringify([`root${root.body.name}`, "1", "1", "1", "1", "1"]),
      `root's public memo counted, with a link, code, tasks and an open task: ${cells.join(" | ")}`,
    );
    check(
      cells[6].split(", ").sort().join(", ") === "#ci (1), #release (1)",
      `its tags counted once each: ${cells[6]}`,
    );
    const bob = await api("GetUser", { username: "bob" }, rootKey);
    const bobCells = await byTestId(`stats-${bob.body.name}`).locator("td").allTextContents();
    check(bobCells[0] === `bob${bob.body.name}` && bobCells[1] === "0", `bob has no memos: ${bobCells.join(" | ")}`);
    // 13 live users: 10 on the first page, 3 on the second.
    const rows = byTestId("all-stats-list").locator("tbody tr");
    check((await rows.count()) === 10, "a page holds 10 users");
    await byTestId("all-stats-pager").getByRole("button", { name: "Next →" }).click();
    await byTestId("all-stats-pager").getByText("page 2").waitFor();
    check((await rows.count()) === 3, "page 2 holds the other 3");
    check((await row.count()) === 0, "root is on page 1 only");
    await byTestId("all-stats-pager").getByRole("button", { name: "← Previous" }).click();
    await row.waitFor();
  });

  check(browserErrors.length === 0, `no errors in the browser console: ${browserErrors.join("; ")}`);
  console.log("all steps passed");
} catch (error) {
  exitCode = 1;
  console.error(`FAILED at step ${stepNumber + 1}: ${error?.stack ?? error}`);
  const path = join(screenshotDir, `failure-${String(stepNumber + 1).padStart(2, "0")}.png`);
  await page.screenshot({ path, fullPage: true }).catch(() => undefined);
  console.error(`screenshot: ${path}`);
  console.error(`browser errors: ${browserErrors.join("\n") || "none"}`);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(exitCode);
