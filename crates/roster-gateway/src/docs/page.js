// The API reference page: renders the OpenAPI document named by the page's
// <meta name="openapi-document"> and sends requests from it. No library and
// no other origin; every text from the document goes in through
// textContent, never as HTML.
"use strict";

(() => {
  const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
  // Session storage: the key is gone when the tab closes.
  const KEY_ITEM = "api-docs:key";
  const SCHEME_ITEM = "api-docs:scheme";
  const documentPath = document.querySelector('meta[name="openapi-document"]').content;

  /** An element with attributes and children (strings become text). */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** Comment text: paragraphs, `- ` lists and `code` spans. */
  function prose(text) {
    const out = [];
    for (const block of String(text || "").split(/\n\s*\n/)) {
      const lines = block.split("\n").map((line) => line.trim()).filter(Boolean);
      if (lines.length === 0) continue;
      if (lines.every((line) => line.startsWith("- "))) {
        out.push(el("ul", {}, lines.map((line) => el("li", {}, inline(line.slice(2))))));
      } else {
        out.push(el("p", {}, inline(lines.join(" "))));
      }
    }
    return out;
  }

  function inline(text) {
    return text.split(/(`[^`]+`)/).map((part) =>
      part.startsWith("`") && part.endsWith("`") && part.length > 1
        ? el("code", { text: part.slice(1, -1) })
        : part
    );
  }

  function resolve(doc, schema) {
    let name = null;
    let seen = 0;
    while (schema && schema.$ref && seen++ < 20) {
      name = schema.$ref.replace("#/components/schemas/", "");
      schema = (doc.components.schemas || {})[name] || {};
    }
    return { name, schema: schema || {} };
  }

  /** `pkg.v1.User-Input` → `User`. */
  function shortName(name) {
    return name.replace(/-Input$/, "").split(".").pop();
  }

  function typeLabel(doc, schema) {
    if (!schema) return "any";
    if (schema.$ref) {
      const { name, schema: target } = resolve(doc, schema);
      return target.enum ? `${shortName(name)} (enum)` : shortName(name);
    }
    if (schema.anyOf) return schema.anyOf.map((part) => typeLabel(doc, part)).join(" | ");
    const types = Array.isArray(schema.type) ? schema.type : [schema.type || "any"];
    return types
      .map((type) => {
        if (type === "array") return `${typeLabel(doc, schema.items)}[]`;
        if (type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
          return `map<string, ${typeLabel(doc, schema.additionalProperties)}>`;
        }
        return schema.format && type !== "null" ? `${type} (${schema.format})` : type;
      })
      .join(" | ");
  }

  /** The object schema a property leads to, if any: its fields can be shown. */
  function nestedObject(doc, schema) {
    if (!schema) return null;
    if (schema.anyOf) {
      for (const part of schema.anyOf) {
        const found = nestedObject(doc, part);
        if (found) return found;
      }
      return null;
    }
    if (schema.type === "array") return nestedObject(doc, schema.items);
    if (schema.type === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
      return nestedObject(doc, schema.additionalProperties);
    }
    const { name, schema: target } = resolve(doc, schema);
    return target.properties ? { name, schema: target } : null;
  }

  /**
   * A table of an object schema's fields; nested messages open on demand.
   * `requiredLabel` says what `required` means here: a request must send
   * the field, or a response always holds it.
   */
  function schemaView(doc, schema, path, requiredLabel) {
    const { name, schema: target } = resolve(doc, schema);
    if (!target.properties) {
      return el("p", { class: "type" }, el("code", { text: typeLabel(doc, schema) }), enumValues(doc, schema));
    }
    const required = new Set(target.required || []);
    const rows = Object.entries(target.properties).map(([field, property]) => {
      const badges = [];
      if (required.has(field)) badges.push(el("span", { class: "badge required", text: requiredLabel }));
      if (property.readOnly) badges.push(el("span", { class: "badge", text: "read-only" }));
      if (property.writeOnly) badges.push(el("span", { class: "badge", text: "write-only" }));
      const details = [prose(property.description)];
      if (property.pattern) details.push(el("p", { class: "pattern" }, "pattern ", el("code", { text: property.pattern })));
      details.push(enumValues(doc, property));
      const nested = nestedObject(doc, property);
      if (nested && !path.includes(nested.name)) {
        const box = el("details", { class: "nested" }, el("summary", { text: `fields of ${shortName(nested.name || "object")}` }));
        box.addEventListener("toggle", () => {
          if (box.open && box.children.length === 1) box.append(schemaView(doc, { $ref: `#/components/schemas/${nested.name}` }, [...path, nested.name], requiredLabel));
        });
        details.push(box);
      }
      return el("tr", {},
        el("td", { class: "field" }, el("code", { text: field }), badges),
        el("td", { class: "type" }, el("code", { text: typeLabel(doc, property) })),
        el("td", {}, details));
    });
    return el("div", { class: "schema" },
      name ? el("p", { class: "schema-name" }, el("code", { text: name })) : null,
      target.description ? prose(target.description) : null,
      el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "field" }), el("th", { text: "type" }), el("th", { text: "description" }))), el("tbody", {}, rows)));
  }

  function enumValues(doc, schema) {
    const { schema: target } = resolve(doc, schema && schema.anyOf ? schema.anyOf[0] : schema);
    if (!target.enum) return null;
    return el("p", { class: "enum" }, "one of ", target.enum.map((value, index) => [index ? ", " : "", el("code", { text: value })]));
  }

  /** A skeleton body: every writable field with a placeholder value. */
  function example(doc, schema, depth, path) {
    const { name, schema: target } = resolve(doc, schema);
    if (target.anyOf) return example(doc, target.anyOf.find((part) => part.type !== "null"), depth, path);
    if (target.enum) return target.enum.find((value) => !/_UNSPECIFIED$/.test(value)) || target.enum[0];
    const type = Array.isArray(target.type) ? target.type.find((t) => t !== "null") : target.type;
    if (target.properties) {
      if (depth > 2 || (name && path.includes(name))) return {};
      const out = {};
      for (const [field, property] of Object.entries(target.properties)) {
        if (!property.readOnly) out[field] = example(doc, property, depth + 1, [...path, name]);
      }
      return out;
    }
    if (type === "array") return [];
    if (type === "object") return {};
    if (type === "boolean") return false;
    if (type === "integer" || type === "number") return 0;
    if (type === "string") {
      if (target.format === "uuid") return "00000000-0000-0000-0000-000000000000";
      if (target.format === "email") return "someone@example.com";
      if (target.format === "int64" || target.format === "uint64") return "0";
      return "";
    }
    return null;
  }

  const state = { doc: null, key: "", scheme: "" };

  function credentialHeaders() {
    const headers = {};
    const scheme = ((state.doc.components || {}).securitySchemes || {})[state.scheme];
    if (!state.key || !scheme) return headers;
    if (scheme.type === "http" && scheme.scheme === "bearer") headers.authorization = `Bearer ${state.key}`;
    else if (scheme.type === "apiKey" && scheme.in === "header") headers[scheme.name] = state.key;
    return headers;
  }

  function setUpCredentials(doc) {
    const schemes = (doc.components || {}).securitySchemes || {};
    const select = document.getElementById("scheme");
    const input = document.getElementById("key");
    for (const [name, scheme] of Object.entries(schemes)) {
      const label = scheme.type === "http" ? `authorization: Bearer` : `${scheme.name}: key`;
      select.append(el("option", { value: name, text: label }));
    }
    state.key = sessionStorage.getItem(KEY_ITEM) || "";
    // The document's own order of alternatives (`security`), not the map's.
    const preferred = (doc.security || []).map((requirement) => Object.keys(requirement)[0]).find((name) => schemes[name]);
    state.scheme = sessionStorage.getItem(SCHEME_ITEM) || preferred || Object.keys(schemes)[0] || "";
    input.value = state.key;
    select.value = state.scheme;
    input.addEventListener("input", () => {
      state.key = input.value.trim();
      sessionStorage.setItem(KEY_ITEM, state.key);
    });
    select.addEventListener("change", () => {
      state.scheme = select.value;
      sessionStorage.setItem(SCHEME_ITEM, state.scheme);
    });
    document.getElementById("forget").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_ITEM);
      state.key = "";
      input.value = "";
    });
  }

  function parameterRows(doc, parameters) {
    return el("table", { class: "parameters" },
      el("thead", {}, el("tr", {}, el("th", { text: "name" }), el("th", { text: "in" }), el("th", { text: "type" }), el("th", { text: "description" }))),
      el("tbody", {}, parameters.map((parameter) => el("tr", {},
        el("td", { class: "field" }, el("code", { text: parameter.name }), parameter.required ? el("span", { class: "badge required", text: "required" }) : null),
        el("td", { text: parameter.in }),
        el("td", { class: "type" }, el("code", { text: typeLabel(doc, parameter.schema) })),
        el("td", {}, prose(parameter.description), parameter.schema && parameter.schema.pattern ? el("p", { class: "pattern" }, "pattern ", el("code", { text: parameter.schema.pattern })) : null, enumValues(doc, parameter.schema))))));
  }

  function tryIt(doc, path, method, operation) {
    const parameters = operation.parameters || [];
    const inputs = new Map();
    const fields = parameters.map((parameter) => {
      const id = `${operation.operationId}-${parameter.in}-${parameter.name}`;
      const input = el("input", { id, type: "text", spellcheck: "false", placeholder: parameter.in === "query" ? "optional" : "required" });
      inputs.set(parameter, input);
      return el("div", { class: "input" }, el("label", { for: id }, el("code", { text: parameter.name }), ` (${parameter.in})`), input);
    });
    let body = null;
    const bodySchema = operation.requestBody && operation.requestBody.content["application/json"].schema;
    if (bodySchema) {
      body = el("textarea", { rows: 8, spellcheck: "false", "aria-label": "request body (JSON)" });
      body.value = "{}";
      const fill = el("button", { type: "button", class: "secondary", text: "Fill in every field" });
      fill.addEventListener("click", () => {
        body.value = JSON.stringify(example(doc, bodySchema, 0, []), null, 2);
      });
      fields.push(el("div", { class: "input body" }, el("label", { text: "body (JSON)" }), body, fill));
    }
    const send = el("button", { type: "button", text: "Send" });
    const result = el("div", { class: "result", "aria-live": "polite" });
    send.addEventListener("click", async () => {
      let url = path;
      const query = new URLSearchParams();
      for (const [parameter, input] of inputs) {
        const value = input.value.trim();
        if (parameter.in === "path") {
          url = url.replace(`{${parameter.name}}`, encodeURIComponent(value));
        } else if (value !== "") {
          const values = parameter.schema && parameter.schema.type === "array" ? value.split(",").map((v) => v.trim()) : [value];
          for (const one of values) query.append(parameter.name, one);
        }
      }
      const text = query.toString();
      if (text) url += `?${text}`;
      const headers = { accept: "application/json", ...credentialHeaders() };
      const init = { method: method.toUpperCase(), headers };
      if (body && body.value.trim() !== "") {
        headers["content-type"] = "application/json";
        init.body = body.value;
      }
      result.replaceChildren(el("p", { class: "pending", text: `${init.method} ${url}…` }));
      const started = performance.now();
      try {
        const response = await fetch(url, init);
        const raw = await response.text();
        let shown = raw;
        try {
          shown = JSON.stringify(JSON.parse(raw), null, 2);
        } catch (_) {
          // Not JSON: show it as it came.
        }
        const took = Math.round(performance.now() - started);
        result.replaceChildren(
          el("p", { class: `status ${response.ok ? "ok" : "error"}` }, `${response.status} ${response.statusText}`, el("span", { class: "took", text: ` · ${took} ms · ${init.method} ${url}` })),
          el("pre", {}, el("code", { text: shown })));
      } catch (error) {
        result.replaceChildren(el("p", { class: "status error", text: `request failed: ${error.message}` }));
      }
    });
    return el("section", { class: "try" }, el("h4", { text: "Try it" }), fields, el("div", { class: "actions" }, send), result);
  }

  function securityNote(doc, operation) {
    const security = operation.security !== undefined ? operation.security : doc.security || [];
    if (security.length === 0) {
      return el("p", { class: "auth public", text: "No credentials needed. A key, if set above, is sent and checked." });
    }
    const names = security.map((requirement) => Object.keys(requirement)[0]).filter(Boolean);
    const labels = names.map((name) => {
      const scheme = ((doc.components || {}).securitySchemes || {})[name] || {};
      return scheme.type === "http" ? "authorization: Bearer <token>" : `${scheme.name}: <token>`;
    });
    return el("p", { class: "auth" }, "Needs a credential: ", labels.map((label, index) => [index ? " or " : "", el("code", { text: label })]), ".");
  }

  function operationView(doc, path, method, operation) {
    const view = el("details", { class: "operation", id: operation.operationId });
    view.append(el("summary", {},
      el("span", { class: `method ${method}`, text: method.toUpperCase() }),
      el("code", { class: "path", text: path }),
      el("span", { class: "summary", text: operation.summary || "" })));
    // Built when first opened: the page stays light with many operations.
    view.addEventListener("toggle", () => {
      if (!view.open || view.dataset.built) return;
      view.dataset.built = "yes";
      const parameters = operation.parameters || [];
      const response = operation.responses["200"].content["application/json"].schema;
      view.append(el("div", { class: "operation-body" },
        el("p", { class: "operation-id" }, "operationId ", el("code", { text: operation.operationId })),
        prose(operation.description),
        securityNote(doc, operation),
        parameters.length ? [el("h4", { text: "Parameters" }), parameterRows(doc, parameters)] : null,
        operation.requestBody ? [el("h4", { text: "Request body" }), prose(operation.requestBody.description), schemaView(doc, operation.requestBody.content["application/json"].schema, [], "required")] : null,
        el("h4", { text: "Response (200)" }),
        schemaView(doc, response, [], "always present"),
        el("p", { class: "errors" }, "Errors: ", el("code", { text: "{code, message, details}" }), " (google.rpc.Status), with the HTTP status of the gRPC code."),
        tryIt(doc, path, method, operation)));
    });
    return view;
  }

  function render(doc) {
    state.doc = doc;
    document.title = `${doc.info.title} · API reference`;
    document.getElementById("version").textContent = `v${doc.info.version}`;
    setUpCredentials(doc);

    const groups = new Map((doc.tags || []).map((tag) => [tag.name, { tag, operations: [] }]));
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const name = (operation.tags || ["Other"])[0];
        if (!groups.has(name)) groups.set(name, { tag: { name }, operations: [] });
        groups.get(name).operations.push({ path, method, operation });
      }
    }

    const main = document.getElementById("main");
    const nav = document.getElementById("nav-list");
    main.replaceChildren(el("section", { class: "intro" }, el("h2", { text: doc.info.title }), prose(doc.info.description)));
    nav.replaceChildren();
    const navEntries = [];
    for (const { tag, operations } of groups.values()) {
      if (operations.length === 0) continue;
      // By operationId: an RPC's bindings (`GetUser`, `GetUserByEmail`) sit together.
      operations.sort((a, b) => a.operation.operationId.localeCompare(b.operation.operationId));
      const links = operations.map(({ path, method, operation }) => {
        const link = el("a", { href: `#${operation.operationId}` },
          el("span", { class: `method ${method}`, text: method.toUpperCase() }), " ", operation.operationId);
        link.addEventListener("click", () => {
          document.getElementById(operation.operationId).open = true;
        });
        const entry = el("li", {}, link);
        navEntries.push({ entry, text: `${operation.operationId} ${path} ${operation.summary || ""}`.toLowerCase() });
        return entry;
      });
      nav.append(el("h3", { text: tag.name }), el("ul", {}, links));
      main.append(el("section", { class: "tag", id: `tag-${tag.name}` },
        el("h2", { text: tag.name }),
        prose(tag.description),
        operations.map(({ path, method, operation }) => operationView(doc, path, method, operation))));
    }
    document.getElementById("filter").addEventListener("input", (event) => {
      const needle = event.target.value.trim().toLowerCase();
      for (const { entry, text } of navEntries) entry.hidden = needle !== "" && !text.includes(needle);
    });
    if (location.hash) {
      const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target && target.tagName === "DETAILS") {
        target.open = true;
        target.scrollIntoView();
      }
    }
  }

  fetch(documentPath, { headers: { accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error(`${documentPath} answered ${response.status}`);
      return response.json();
    })
    .then(render)
    .catch((error) => {
      document.getElementById("main").replaceChildren(el("p", { class: "status error", text: `Cannot load the API description: ${error.message}` }));
    });
})();
