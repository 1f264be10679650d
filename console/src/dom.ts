// A tiny DOM builder: no framework, no innerHTML (so nothing the API returns
// is ever parsed as markup), no inline styles (the CSP forbids them).

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | ((event: Event) => void) | undefined>;

export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      element.addEventListener(key.replace(/^on/, ""), value);
    } else if (value === true) {
      element.setAttribute(key, "");
    } else {
      element.setAttribute(key, value);
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function input(
  field: string,
  label: string,
  attrs: Attrs = {},
): { row: HTMLElement; control: HTMLInputElement } {
  const id = `f-${field}-${Math.random().toString(36).slice(2, 8)}`;
  const control = h("input", { id, name: field, "data-field": field, ...attrs }) as HTMLInputElement;
  const row = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    h("div", { class: "field-error", "data-error-for": field, role: "alert" }),
  );
  return { row, control };
}

export function select(
  field: string,
  label: string,
  options: [string, string][],
  value: string,
): { row: HTMLElement; control: HTMLSelectElement } {
  const id = `f-${field}-${Math.random().toString(36).slice(2, 8)}`;
  const control = h(
    "select",
    { id, name: field, "data-field": field },
    ...options.map(([optionValue, text]) =>
      h("option", { value: optionValue, selected: optionValue === value }, text),
    ),
  ) as HTMLSelectElement;
  const row = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    h("div", { class: "field-error", "data-error-for": field, role: "alert" }),
  );
  return { row, control };
}

export function formatTime(date: Date | undefined): string {
  if (!date || date.getTime() === 0) return "—";
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}
