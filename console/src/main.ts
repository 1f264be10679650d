// Roster's console: set-up, sign-in, users and everyone's memo statistics
// (admins), the caller's account and tokens, and webhooks, all over gRPC-Web with the generated client.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { auth, Code, credential, problemOf, system, users, type ApiProblem } from "./api.js";
import { formatTime, h, input, replace, select } from "./dom.js";
import { User_Role, User_State, type User } from "./gen/goodmem/v1/user_pb.js";
import type { UserStats } from "./gen/goodmem/v1/user_service_pb.js";
import { UserNotification_Status, UserNotification_Type, Visibility } from "./gen/goodmem/v1/user_resources_pb.js";
import "./app.css";

const CONFLICT_HINT = "someone changed this user since you opened it; reload";
const PAGE_SIZE = 10;

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;

let me: User | null = null;

function time(timestamp: Timestamp | undefined): string {
  return formatTime(timestamp ? timestampDate(timestamp) : undefined);
}

function isAdmin(user: User | null): boolean {
  return user?.role === User_Role.ROOT || user?.role === User_Role.ADMIN;
}

/** Shows an API error at the fields it names, and its message on the form. */
function showProblem(form: HTMLElement, problem: ApiProblem | null): void {
  for (const slot of form.querySelectorAll<HTMLElement>("[data-error-for]")) slot.textContent = "";
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  const formError = form.querySelector<HTMLElement>(".form-error");
  if (formError) formError.textContent = problem ? problem.message : "";
  if (!problem) return;
  let unplaced = 0;
  for (const violation of problem.fields) {
    const slot = [...form.querySelectorAll<HTMLElement>("[data-error-for]")].find((candidate) => {
      const name = candidate.dataset.errorFor ?? "";
      return violation.field === name || violation.field.endsWith(`.${name}`);
    });
    if (slot) {
      slot.textContent = violation.description;
      form.querySelector(`[data-field="${slot.dataset.errorFor}"]`)?.setAttribute("aria-invalid", "true");
    } else {
      unplaced += 1;
      if (formError) formError.textContent += ` — ${violation.field}: ${violation.description}`;
    }
  }
  // Every violation stands at its field: say so once instead of repeating it.
  if (formError && problem.fields.length > 0 && unplaced === 0) {
    formError.textContent = problem.fields.length === 1 ? "please correct the marked field" : "please correct the marked fields";
  }
}

function formError(): HTMLElement {
  return h("div", { class: "form-error", role: "alert" });
}

/** A value shown once (root key, token, signing secret) with a copy button. */
function secretBox(label: string, value: string, testId: string): HTMLElement {
  const code = h("code", { class: "secret", "data-testid": testId }, value);
  const status = h("span", { class: "copy-status" });
  return h(
    "div",
    { class: "once" },
    h("p", {}, h("strong", {}, label), " — shown once: copy it now, it cannot be shown again."),
    code,
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(value);
            status.textContent = "copied";
          } catch {
            const range = document.createRange();
            range.selectNodeContents(code);
            window.getSelection()?.removeAllRanges();
            window.getSelection()?.addRange(range);
            status.textContent = "selected: press Ctrl+C";
          }
        },
      },
      "Copy",
    ),
    status,
  );
}

// ---------------------------------------------------------------- routing

async function route(): Promise<void> {
  const info = await system.getSystemInfo({}).catch((error: unknown) => {
    const problem = problemOf(error);
    replace(main, h("p", { class: "form-error", role: "alert" }, problem.message));
    // A server still connecting to its database answers UNAVAILABLE: retry.
    if (problem.code === Code.Unavailable) window.setTimeout(() => void route(), 2000);
    return null;
  });
  if (!info) return;
  if (!info.initialized) {
    renderNav();
    return renderSetup();
  }
  if (credential.token && !me) {
    try {
      me = await users.getUser({});
    } catch (error) {
      credential.clear();
      renderNav();
      return renderSignIn(problemOf(error).message);
    }
  }
  renderNav();
  if (!me) return renderSignIn();
  const view = window.location.hash.replace(/^#\/?/, "") || (isAdmin(me) ? "users" : "account");
  if (view === "users" && isAdmin(me)) return renderUsers();
  if (view === "stats" && isAdmin(me)) return renderAllStats();
  if (view === "webhooks") return renderWebhooks();
  if (view === "notifications") return renderNotifications();
  if (view === "instance" && isAdmin(me)) return renderInstanceSettings();
  return renderAccount();
}

function renderNav(): void {
  if (!me) return replace(nav);
  replace(
    nav,
    isAdmin(me) && h("a", { href: "#/users" }, "Users"),
    isAdmin(me) && h("a", { href: "#/stats" }, "Stats"),
    h("a", { href: "#/account" }, "My account"),
    h("a", { href: "#/webhooks" }, "Webhooks"),
    h("a", { href: "#/notifications" }, "Notifications"),
    isAdmin(me) && h("a", { href: "#/instance" }, "Instance"),
    h("span", { class: "who", "data-testid": "signed-in-as" }, `${me.username || me.email} (${User_Role[me.role]})`),
    h("button", { type: "button", "data-testid": "sign-out", onclick: signOut }, "Sign out"),
  );
}

async function signOut(): Promise<void> {
  if (credential.kind === "session") {
    // The session ends on the server too; a failure still forgets it here.
    await auth.signOut({}).catch(() => undefined);
  }
  credential.clear();
  me = null;
  window.location.hash = "";
  await route();
}

// ---------------------------------------------------------------- set-up

function renderSetup(): void {
  const code = input("setup_code", "Set-up code (only when not on the server's machine)", { autocomplete: "off" });
  const form = h("form", { class: "card", "data-testid": "setup-form" });
  const button = h("button", { type: "submit" }, "Initialize Roster");
  replace(
    form,
    h("h2", {}, "Set up this instance"),
    h("p", {}, "This instance has no root user yet. Initializing creates it and its root API key."),
    code.row,
    button,
    formError(),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.setAttribute("disabled", "");
    try {
      const response = await users.initializeSystem({ setupCode: code.control.value.trim() });
      if (response.alreadyInitialized || !response.rootApiKey) {
        showProblem(form, { code: Code.AlreadyExists, message: response.message || "already initialized", fields: [] });
        return;
      }
      const key = response.rootApiKey;
      replace(
        main,
        h(
          "div",
          { class: "card" },
          h("h2", {}, "Roster is initialized"),
          secretBox("Root API key", key, "root-key"),
          h(
            "button",
            {
              type: "button",
              "data-testid": "continue-with-key",
              onclick: async () => {
                credential.set(key, "key");
                await route();
              },
            },
            "I have saved it — sign in with this key",
          ),
        ),
      );
    } catch (error) {
      showProblem(form, problemOf(error));
    } finally {
      button.removeAttribute("disabled");
    }
  });
  replace(main, form);
}

// ---------------------------------------------------------------- sign-in

function renderSignIn(notice?: string): void {
  const login = input("login", "Username or email", { autocomplete: "username", required: true });
  const password = input("password", "Password", { type: "password", autocomplete: "current-password", required: true });
  const passwordForm = h("form", { class: "card", "data-testid": "sign-in-form" });
  replace(
    passwordForm,
    h("h2", {}, "Sign in"),
    notice && h("p", { class: "notice" }, notice),
    login.row,
    password.row,
    h("button", { type: "submit" }, "Sign in"),
    formError(),
  );
  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = login.control.value.trim();
    try {
      const response = await auth.signIn(
        value.includes("@")
          ? { email: value, password: password.control.value }
          : { username: value, password: password.control.value },
      );
      credential.set(response.accessToken, "session");
      me = response.user ?? null;
      await route();
    } catch (error) {
      const problem = problemOf(error);
      // The login box stands for both request fields.
      problem.fields = problem.fields.map((field) =>
        field.field === "username" || field.field === "email" ? { ...field, field: "login" } : field,
      );
      showProblem(passwordForm, problem);
    }
  });

  const key = input("api_key", "API key or token (gm_…)", { type: "password", autocomplete: "off", required: true });
  const keyForm = h("form", { class: "card", "data-testid": "api-key-form" });
  replace(keyForm, h("h2", {}, "Or use an API key"), key.row, h("button", { type: "submit" }, "Use key"), formError());
  keyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    credential.set(key.control.value.trim(), "key");
    try {
      me = await users.getUser({});
      await route();
    } catch (error) {
      credential.clear();
      showProblem(keyForm, problemOf(error));
    }
  });
  replace(main, passwordForm, keyForm);
}

// ---------------------------------------------------------------- paging

/** Keyset paging: the tokens of the pages before this one, for "previous". */
class Pager {
  private previous: string[] = [];
  current = "";
  next = "";

  reset(): void {
    this.previous = [];
    this.current = "";
    this.next = "";
  }

  forward(): void {
    this.previous.push(this.current);
    this.current = this.next;
  }

  back(): void {
    this.current = this.previous.pop() ?? "";
  }

  get hasPrevious(): boolean {
    return this.previous.length > 0;
  }

  get pageNumber(): number {
    return this.previous.length + 1;
  }

  controls(reload: () => void, testId: string): HTMLElement {
    return h(
      "div",
      { class: "pager", "data-testid": testId },
      h("button", { type: "button", disabled: !this.hasPrevious, onclick: () => { this.back(); reload(); } }, "← Previous"),
      h("span", {}, `page ${this.pageNumber}`),
      h("button", { type: "button", disabled: !this.next, onclick: () => { this.forward(); reload(); } }, "Next →"),
    );
  }
}

// ---------------------------------------------------------------- users

const usersPager = new Pager();
let usersFilter = "";

function renderUsers(): void {
  const filter = input("filter", "Filter (CEL, e.g. username.startsWith(\"al\"))", { value: usersFilter, "data-testid": "users-filter" });
  const filterForm = h("form", { class: "filter" }, filter.row, h("button", { type: "submit" }, "Apply"), formError());
  const list = h("div", { "data-testid": "users-list" });
  const editor = h("div");
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    usersFilter = filter.control.value.trim();
    usersPager.reset();
    void load();
  });

  async function load(): Promise<void> {
    showProblem(filterForm, null);
    try {
      const response = await users.listUsers({ pageSize: PAGE_SIZE, pageToken: usersPager.current, filter: usersFilter });
      usersPager.next = response.nextPageToken;
      replace(
        list,
        h("p", { "data-testid": "users-total" }, `${response.totalSize} user(s)`),
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, ...["Username", "Email", "Display name", "Role", "State", "Created", ""].map((title) => h("th", {}, title)))),
          h("tbody", {}, ...response.users.map((user) => userRow(user))),
        ),
        usersPager.controls(() => void load(), "users-pager"),
      );
    } catch (error) {
      showProblem(filterForm, problemOf(error));
      replace(list);
    }
  }

  function userRow(user: User): HTMLElement {
    const actions = h("td", { class: "actions" });
    const deleteButton = h("button", { type: "button", class: "danger", onclick: () => confirmDelete() }, "Delete");
    function confirmDelete(): void {
      replace(
        actions,
        h("span", {}, "Delete with all their data? "),
        h("button", { type: "button", class: "danger", "data-testid": "confirm-delete", onclick: async () => {
          try {
            await users.deleteUser({ name: user.name, force: true });
            await load();
          } catch (error) {
            replace(actions, h("span", { class: "form-error", role: "alert" }, problemOf(error).message), deleteButton);
          }
        } }, "Yes, delete"),
        h("button", { type: "button", onclick: () => replace(actions, editButton, deleteButton) }, "Cancel"),
      );
    }
    const editButton = h("button", { type: "button", "data-testid": `edit-${user.username}`, onclick: () => openEditor(user) }, "Edit");
    replace(actions, editButton, user.role !== User_Role.ROOT && deleteButton);
    return h(
      "tr",
      { "data-testid": `user-${user.username}` },
      h("td", {}, user.username),
      h("td", {}, user.email),
      h("td", {}, user.displayName),
      h("td", {}, User_Role[user.role] ?? ""),
      h("td", {}, User_State[user.state] ?? ""),
      h("td", {}, time(user.createdAt)),
      actions,
    );
  }

  function openEditor(user: User): void {
    const displayName = input("display_name", "Display name", { value: user.displayName });
    const role = select("role", "Role", [["ADMIN", "ADMIN"], ["USER", "USER"], ["ROOT", "ROOT"]], User_Role[user.role]);
    const state = select("state", "State", [["NORMAL", "NORMAL"], ["ARCHIVED", "ARCHIVED"]], User_State[user.state]);
    const form = h("form", { class: "card", "data-testid": "edit-user-form" });
    replace(
      form,
      h("h3", {}, `Edit ${user.username || user.email}`),
      h("p", { class: "muted" }, `version ${user.etag}`),
      displayName.row,
      user.role !== User_Role.ROOT && role.row,
      user.role !== User_Role.ROOT && state.row,
      h("button", { type: "submit" }, "Save"),
      h("button", { type: "button", onclick: () => replace(editor) }, "Close"),
      formError(),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const paths: string[] = [];
      const newRole = User_Role[role.control.value as keyof typeof User_Role];
      const newState = User_State[state.control.value as keyof typeof User_State];
      if (displayName.control.value !== user.displayName) paths.push("display_name");
      if (user.role !== User_Role.ROOT && newRole !== user.role) paths.push("role");
      if (user.role !== User_Role.ROOT && newState !== user.state) paths.push("state");
      if (paths.length === 0) {
        showProblem(form, { code: Code.InvalidArgument, message: "nothing changed", fields: [] });
        return;
      }
      try {
        await users.updateUser({
          user: { name: user.name, etag: user.etag, displayName: displayName.control.value, role: newRole, state: newState },
          updateMask: { paths },
          // SPEC: role and state are sensitive, changed only with allow_missing.
          allowMissing: paths.includes("role") || paths.includes("state"),
        });
        replace(editor, h("p", { class: "ok", role: "status" }, `saved ${user.username || user.email}`));
        await load();
      } catch (error) {
        const problem = problemOf(error, CONFLICT_HINT);
        showProblem(form, problem);
        if (problem.code === Code.Aborted) {
          form.append(
            h("button", { type: "button", "data-testid": "reload-user", onclick: async () => {
              try {
                openEditor(await users.getUser({ name: user.name }));
              } catch (reloadError) {
                showProblem(form, problemOf(reloadError));
              }
            } }, "Reload this user"),
          );
        }
      }
    });
    replace(editor, form);
  }

  replace(main, h("h2", {}, "Users"), filterForm, list, editor, createUserForm(() => void load()));
  void load();
}

function createUserForm(created: () => void): HTMLElement {
  const username = input("username", "Username", { autocomplete: "off" });
  const email = input("email", "Email", { type: "email", autocomplete: "off" });
  const displayName = input("display_name", "Display name");
  const password = input("password", "Password (optional, at least 8 characters)", { type: "password", autocomplete: "new-password" });
  const role = select("role", "Role", [["USER", "USER"], ["ADMIN", "ADMIN"]], "USER");
  const form = h("form", { class: "card", "data-testid": "create-user-form" });
  const done = h("p", { class: "ok", role: "status" });
  replace(form, h("h3", {}, "Create a user"), username.row, email.row, displayName.row, password.row, role.row, h("button", { type: "submit" }, "Create user"), formError(), done);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    done.textContent = "";
    try {
      const user = await users.createUser({
        user: {
          username: username.control.value.trim(),
          email: email.control.value.trim(),
          displayName: displayName.control.value,
          password: password.control.value,
          role: User_Role[role.control.value as keyof typeof User_Role],
        },
        requestId: crypto.randomUUID(),
      });
      showProblem(form, null);
      form.querySelectorAll("input").forEach((control) => (control.value = ""));
      done.textContent = `created ${user.username || user.email}`;
      created();
    } catch (error) {
      showProblem(form, problemOf(error));
    }
  });
  return form;
}

// ---------------------------------------------------------------- stats

const statsPager = new Pager();

/** "#tag (count)", most used first, at most ten. */
function topTags(tagCount: UserStats["tagCount"]): string {
  const tags = Object.entries(tagCount).sort(([, a], [, b]) => b - a).slice(0, 10);
  return tags.length ? tags.map(([tag, count]) => `#${tag} (${count})`).join(", ") : "—";
}

/** Every live user's memo statistics (ListAllUserStats), a page at a time. */
function renderAllStats(): void {
  const list = h("div", { "data-testid": "all-stats-list" });
  async function load(): Promise<void> {
    try {
      const response = await users.listAllUserStats({ pageSize: PAGE_SIZE, pageToken: statsPager.current });
      statsPager.next = response.nextPageToken;
      // The statistics name users by id only: their usernames, for people to
      // read; a user who cannot be read (deleted meanwhile) keeps just the id.
      const usernames = await Promise.all(
        response.stats.map((stats) => users.getUser({ name: stats.name }).then((user) => user.username || user.email, () => "")),
      );
      replace(
        list,
        response.stats.length === 0
          ? h("p", { class: "muted" }, "No users.")
          : h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ...["User", "Memos", "Links", "Code", "Tasks", "Open tasks", "Top tags"].map((title) => h("th", {}, title)))),
              h("tbody", {}, ...response.stats.map((stats, index) => {
                const types = stats.memoTypeStats;
                return h(
                  "tr",
                  { "data-testid": `stats-${stats.name}` },
                  h("td", {}, usernames[index] || "—", h("div", { class: "muted" }, stats.name)),
                  h("td", {}, String(stats.totalMemoCount)),
                  h("td", {}, String(types?.linkCount ?? 0)),
                  h("td", {}, String(types?.codeCount ?? 0)),
                  h("td", {}, String(types?.todoCount ?? 0)),
                  h("td", {}, String(types?.undoCount ?? 0)),
                  h("td", {}, topTags(stats.tagCount)),
                );
              })),
            ),
        statsPager.controls(() => void load(), "all-stats-pager"),
      );
    } catch (error) {
      replace(list, h("p", { class: "form-error", role: "alert" }, problemOf(error).message));
    }
  }
  replace(main, h("h2", {}, "Memo statistics"), h("p", { class: "muted" }, "Every user's memos that are not comments and not deleted: all of your own, the public and protected ones of others."), list);
  void load();
}

// ---------------------------------------------------------------- account

const tokensPager = new Pager();

function renderAccount(): void {
  if (!me) return;
  const user = me;
  const profile = h(
    "div",
    { class: "card" },
    h("h2", {}, "My account"),
    h("dl", {},
      h("dt", {}, "Username"), h("dd", {}, user.username || "—"),
      h("dt", {}, "Email"), h("dd", {}, user.email || "—"),
      h("dt", {}, "Role"), h("dd", {}, User_Role[user.role] ?? ""),
      h("dt", {}, "Created"), h("dd", {}, time(user.createdAt)),
    ),
  );

  const list = h("div", { "data-testid": "tokens-list" });
  const shown = h("div");
  async function load(): Promise<void> {
    try {
      const response = await users.listPersonalAccessTokens({ parent: user.name, pageSize: PAGE_SIZE, pageToken: tokensPager.current });
      tokensPager.next = response.nextPageToken;
      replace(
        list,
        response.personalAccessTokens.length === 0
          ? h("p", { class: "muted" }, "No tokens.")
          : h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ...["Description", "Scopes", "Created", "Expires", "Last used", ""].map((title) => h("th", {}, title)))),
              h(
                "tbody",
                {},
                ...response.personalAccessTokens.map((token) => {
                  const cell = h("td", { class: "actions" });
                  replace(cell, h("button", { type: "button", class: "danger", "data-testid": `revoke-${token.description}`, onclick: async () => {
                    try {
                      await users.deletePersonalAccessToken({ name: token.name });
                      await load();
                    } catch (error) {
                      replace(cell, h("span", { class: "form-error", role: "alert" }, problemOf(error).message));
                    }
                  } }, "Revoke"));
                  return h(
                    "tr",
                    { "data-testid": `token-${token.description}` },
                    h("td", {}, token.description || "—"),
                    h("td", {}, token.scopes.length ? token.scopes.join(", ") : "all of mine"),
                    h("td", {}, time(token.createdAt)),
                    h("td", {}, token.expired ? "expired" : time(token.expiresAt)),
                    h("td", {}, time(token.lastUsedAt)),
                    cell,
                  );
                }),
              ),
            ),
        tokensPager.controls(() => void load(), "tokens-pager"),
      );
    } catch (error) {
      replace(list, h("p", { class: "form-error", role: "alert" }, problemOf(error).message));
    }
  }

  const description = input("description", "Description");
  const expires = input("expires_in_days", "Expires in days (0 = never)", { type: "number", min: "0", value: "30" });
  const scopes = input("scopes", "Scopes (comma-separated permission names; empty = all of mine)", { placeholder: "DISPLAY_USER_OWN, DISPLAY_WEBHOOK_OWN" });
  const form = h("form", { class: "card", "data-testid": "create-token-form" });
  replace(form, h("h3", {}, "Create a personal access token"), description.row, expires.row, scopes.row, h("button", { type: "submit" }, "Create token"), formError());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const response = await users.createPersonalAccessToken({
        parent: user.name,
        description: description.control.value,
        expiresInDays: Number.parseInt(expires.control.value || "0", 10),
        scopes: scopes.control.value.split(",").map((scope) => scope.trim()).filter(Boolean),
      });
      showProblem(form, null);
      replace(shown, secretBox("New token", response.token, "new-token"));
      tokensPager.reset();
      await load();
    } catch (error) {
      showProblem(form, problemOf(error));
    }
  });

  replace(main, profile, profileForm(user), preferencesForm(user), statsCard(user), h("h2", {}, "Personal access tokens"), shown, list, form);
  void load();
}

/** The caller's own fields, saved against the etag they were read with. */
function profileForm(user: User): HTMLElement {
  const displayName = input("display_name", "Display name", { value: user.displayName });
  const email = input("email", "Email", { type: "email", value: user.email });
  const password = input("password", "New password (empty = unchanged)", { type: "password", autocomplete: "new-password" });
  const form = h("form", { class: "card", "data-testid": "profile-form" });
  const done = h("p", { class: "ok", role: "status" });
  replace(form, h("h3", {}, "Profile"), displayName.row, email.row, password.row, h("button", { type: "submit" }, "Save profile"), formError(), done);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    done.textContent = "";
    const paths: string[] = [];
    if (displayName.control.value !== user.displayName) paths.push("display_name");
    if (email.control.value.trim() !== user.email) paths.push("email");
    if (password.control.value) paths.push("password");
    if (paths.length === 0) {
      showProblem(form, { code: Code.InvalidArgument, message: "nothing changed", fields: [] });
      return;
    }
    try {
      me = await users.updateUser({
        user: { name: user.name, etag: user.etag, displayName: displayName.control.value, email: email.control.value.trim(), password: password.control.value },
        updateMask: { paths },
        allowMissing: paths.includes("password"),
      });
      showProblem(form, null);
      renderNav();
      renderAccount();
    } catch (error) {
      showProblem(form, problemOf(error, "your account changed since this page was opened; reload"));
    }
  });
  return form;
}

/** GENERAL: locale, theme and the default memo visibility. */
function preferencesForm(user: User): HTMLElement {
  const form = h("form", { class: "card", "data-testid": "preferences-form" }, h("h3", {}, "Preferences"), h("p", { class: "muted" }, "Loading…"));
  const name = `${user.name}/settings/GENERAL`;
  void users.getUserSetting({ name }).then(
    (setting) => {
      const general = setting.value.case === "generalSetting" ? setting.value.value : undefined;
      const locale = input("locale", "Locale (BCP-47, e.g. en, fr)", { value: general?.locale ?? "en" });
      const theme = input("theme", "Theme", { value: general?.theme ?? "default" });
      const visibility = select(
        "memo_visibility",
        "Default memo visibility",
        [["PRIVATE", "private"], ["PROTECTED", "signed-in users"], ["PUBLIC", "public"]],
        Visibility[general?.memoVisibility ?? Visibility.PRIVATE],
      );
      const done = h("p", { class: "ok", role: "status" });
      replace(form, h("h3", {}, "Preferences"), locale.row, theme.row, visibility.row, h("button", { type: "submit" }, "Save preferences"), formError(), done);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        done.textContent = "";
        try {
          await users.updateUserSetting({
            setting: {
              name,
              value: {
                case: "generalSetting",
                value: { locale: locale.control.value.trim(), theme: theme.control.value.trim(), memoVisibility: Visibility[visibility.control.value as keyof typeof Visibility] },
              },
            },
            updateMask: { paths: ["general_setting.locale", "general_setting.theme", "general_setting.memo_visibility"] },
          });
          showProblem(form, null);
          done.textContent = "saved";
        } catch (error) {
          showProblem(form, problemOf(error));
        }
      });
    },
    (error: unknown) => replace(form, h("h3", {}, "Preferences"), h("p", { class: "form-error", role: "alert" }, problemOf(error).message)),
  );
  return form;
}

function statsCard(user: User): HTMLElement {
  const card = h("div", { class: "card", "data-testid": "stats" }, h("h3", {}, "Statistics"));
  void users.getUserStats({ name: user.name }).then(
    (stats) => {
      const types = stats.memoTypeStats;
      card.append(
        h("dl", {},
          h("dt", {}, "Memos"), h("dd", {}, String(stats.totalMemoCount)),
          h("dt", {}, "With links / code / tasks / open tasks"),
          h("dd", {}, `${types?.linkCount ?? 0} / ${types?.codeCount ?? 0} / ${types?.todoCount ?? 0} / ${types?.undoCount ?? 0}`),
          h("dt", {}, "Top tags"), h("dd", {}, topTags(stats.tagCount)),
        ),
      );
    },
    (error: unknown) => card.append(h("p", { class: "form-error", role: "alert" }, problemOf(error).message)),
  );
  return card;
}

// ---------------------------------------------------------------- webhooks

const webhooksPager = new Pager();

function renderWebhooks(): void {
  if (!me) return;
  const owner = me;
  const list = h("div", { "data-testid": "webhooks-list" });
  const shown = h("div");
  async function load(): Promise<void> {
    try {
      const response = await users.listUserWebhooks({ parent: owner.name, pageSize: PAGE_SIZE, pageToken: webhooksPager.current });
      webhooksPager.next = response.nextPageToken;
      replace(
        list,
        response.webhooks.length === 0
          ? h("p", { class: "muted" }, "No webhooks.")
          : h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ...["Name", "URL", "Updated", ""].map((title) => h("th", {}, title)))),
              h("tbody", {}, ...response.webhooks.map((webhook) => {
                const cell = h("td", { class: "actions" });
                const nameInput = h("input", { value: webhook.displayName, "data-field": "display_name", "aria-label": "display name" }) as HTMLInputElement;
                const urlInput = h("input", { value: webhook.url, "data-field": "url", "aria-label": "url" }) as HTMLInputElement;
                const row = h("tr", {}, h("td", {}, nameInput, h("div", { class: "field-error", "data-error-for": "display_name" })), h("td", {}, urlInput, h("div", { class: "field-error", "data-error-for": "url" })), h("td", {}, time(webhook.updateTime)), cell);
                replace(
                  cell,
                  h("button", { type: "button", onclick: async () => {
                    const paths = [];
                    if (nameInput.value !== webhook.displayName) paths.push("display_name");
                    if (urlInput.value !== webhook.url) paths.push("url");
                    if (paths.length === 0) return;
                    try {
                      await users.updateUserWebhook({ webhook: { name: webhook.name, displayName: nameInput.value, url: urlInput.value }, updateMask: { paths } });
                      await load();
                    } catch (error) {
                      showProblem(row, problemOf(error));
                    }
                  } }, "Save"),
                  h("button", { type: "button", class: "danger", onclick: async () => {
                    try {
                      await users.deleteUserWebhook({ name: webhook.name });
                      await load();
                    } catch (error) {
                      showProblem(row, problemOf(error));
                    }
                  } }, "Delete"),
                  h("div", { class: "form-error", role: "alert" }),
                );
                return row;
              })),
            ),
        webhooksPager.controls(() => void load(), "webhooks-pager"),
      );
    } catch (error) {
      replace(list, h("p", { class: "form-error", role: "alert" }, problemOf(error).message));
    }
  }
  const url = input("url", "URL (http or https)", { type: "text", placeholder: "https://example.com/hooks/roster", "data-testid": "webhook-url" });
  const displayName = input("display_name", "Display name");
  const form = h("form", { class: "card", "data-testid": "create-webhook-form" });
  replace(form, h("h3", {}, "Add a webhook"), url.row, displayName.row, h("button", { type: "submit" }, "Add webhook"), formError());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const webhook = await users.createUserWebhook({ parent: owner.name, webhook: { url: url.control.value.trim(), displayName: displayName.control.value } });
      showProblem(form, null);
      replace(shown, secretBox("Signing secret", webhook.signingSecret, "webhook-secret"));
      webhooksPager.reset();
      await load();
    } catch (error) {
      showProblem(form, problemOf(error));
    }
  });
  replace(main, h("h2", {}, "Webhooks"), shown, list, form);
  void load();
}

// ---------------------------------------------------------------- notifications

const notificationsPager = new Pager();

function renderNotifications(): void {
  if (!me) return;
  const owner = me;
  const list = h("div", { "data-testid": "notifications-list" });
  async function load(): Promise<void> {
    try {
      const response = await users.listUserNotifications({ parent: owner.name, pageSize: PAGE_SIZE, pageToken: notificationsPager.current });
      notificationsPager.next = response.nextPageToken;
      replace(
        list,
        response.notifications.length === 0
          ? h("p", { class: "muted" }, "No notifications.")
          : h(
              "table",
              {},
              h("thead", {}, h("tr", {}, ...["When", "Type", "From", "Memo", "Status", ""].map((title) => h("th", {}, title)))),
              h("tbody", {}, ...response.notifications.map((notification) => {
                const cell = h("td", { class: "actions" });
                const failed = (error: unknown) => cell.append(h("div", { class: "form-error", role: "alert" }, problemOf(error).message));
                replace(
                  cell,
                  notification.status === UserNotification_Status.UNREAD &&
                    h("button", { type: "button", onclick: () => users.updateUserNotification({ notification: { name: notification.name, status: UserNotification_Status.ARCHIVED }, updateMask: { paths: ["status"] } }).then(load, failed) }, "Archive"),
                  h("button", { type: "button", class: "danger", onclick: () => users.deleteUserNotification({ name: notification.name }).then(load, failed) }, "Delete"),
                );
                return h(
                  "tr",
                  {},
                  h("td", {}, time(notification.createTime)),
                  h("td", {}, UserNotification_Type[notification.type] ?? ""),
                  h("td", {}, notification.sender),
                  h("td", {}, notification.memo),
                  h("td", {}, UserNotification_Status[notification.status] ?? ""),
                  cell,
                );
              })),
            ),
        notificationsPager.controls(() => void load(), "notifications-pager"),
      );
    } catch (error) {
      replace(list, h("p", { class: "form-error", role: "alert" }, problemOf(error).message));
    }
  }
  replace(main, h("h2", {}, "Notifications"), list);
  void load();
}

// ---------------------------------------------------------------- instance

function renderInstanceSettings(): void {
  const form = h("form", { class: "card", "data-testid": "instance-form" }, h("h2", {}, "Instance settings"), h("p", { class: "muted" }, "Loading…"));
  replace(main, form);
  void system.getInstanceSettings({}).then(
    (settings) => {
      const allow = h("input", { type: "checkbox", id: "allow-registration", "data-field": "allow_registration", checked: settings.allowRegistration }) as HTMLInputElement;
      const lifetime = input("session_lifetime_seconds", "Session lifetime (seconds)", { type: "number", min: "1", value: String(settings.sessionLifetimeSeconds) });
      const done = h("p", { class: "ok", role: "status" });
      replace(
        form,
        h("h2", {}, "Instance settings"),
        h("div", { class: "field" }, allow, h("label", { for: "allow-registration" }, " Anyone may register (CreateUser without credentials)"), h("div", { class: "field-error", "data-error-for": "allow_registration" })),
        lifetime.row,
        h("p", { class: "muted" }, `updated ${time(settings.updatedAt)}`),
        h("button", { type: "submit" }, "Save"),
        formError(),
        done,
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        done.textContent = "";
        try {
          await system.updateInstanceSettings({
            settings: { allowRegistration: allow.checked, sessionLifetimeSeconds: BigInt(lifetime.control.value || "0") },
            updateMask: { paths: ["allow_registration", "session_lifetime_seconds"] },
          });
          showProblem(form, null);
          done.textContent = "saved";
        } catch (error) {
          showProblem(form, problemOf(error));
        }
      });
    },
    (error: unknown) => form.append(h("p", { class: "form-error", role: "alert" }, problemOf(error).message)),
  );
}

window.addEventListener("hashchange", () => void route());
void route();
