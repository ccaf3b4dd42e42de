/* common.js - shared helpers for every storefront page (ES module).
 * All text goes in through textContent / DOM APIs, never parsed as HTML. */
export const API = "/api/v1";

export const money = new Intl.NumberFormat(undefined, {
  style: "currency", currency: "INR", maximumFractionDigits: 0
});

export function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = String(v);
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k in e && typeof e[k] !== "function" && k !== "list") e[k] = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const kid of kids) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : String(kid));
  }
  return e;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const FRIENDLY = {
  db_unavailable: "The shop's catalogue is temporarily unavailable. Please try again in a moment.",
  upstream_unavailable: "Search is temporarily unavailable. Browsing the catalogue still works.",
  upstream_timeout: "Search took too long to answer. Please try again.",
  upstream_error: "Search ran into a problem. Please try again.",
  too_many_requests: "Too many attempts. Please wait a minute and try again.",
  too_many_attempts: "This account is temporarily locked after failed sign-ins. Please wait and try again.",
  internal: "Something went wrong on our side. Please try again.",
  not_embedded: "Similar items are not available for this product yet."
};

export function friendly(err) {
  if (err instanceof ApiError) {
    if (FRIENDLY[err.code]) return FRIENDLY[err.code];
    if (err.status >= 500) return "The shop is having trouble right now. Please try again shortly.";
    /* no JSON error body: not an answer from the shop's API */
    if (/^http_/.test(err.code)) return "The shop could not answer (HTTP " + err.status + "). Please try again later.";
    return err.message || "The request failed.";
  }
  return "Could not reach the shop. Check your connection and try again.";
}

/* fetch wrapper: JSON body or FormData; throws ApiError. */
export async function api(path, opts = {}) {
  const init = { method: opts.method || "GET", credentials: "same-origin",
                 headers: { Accept: "application/json" } };
  if (opts.form) init.body = opts.form;
  else if (opts.json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.json);
  }
  let res;
  try { res = await fetch(API + path, init); }
  catch (e) { throw new ApiError(0, "network", "network error"); }
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const er = body && body.error;
    throw new ApiError(res.status, er ? er.code : "http_" + res.status,
                       er ? er.message : "HTTP " + res.status);
  }
  return body;
}

/* ---- session ----
 * The session cookie is HttpOnly, so the page cannot see it; a flag in
 * localStorage remembers that this browser signed in, and only then is
 * /me asked (a signed-out visitor's pages make no request that answers 401).
 * A flag left over from an expired session costs one 401, then is cleared. */
const SESSION_KEY = "fashion_signed_in";
export function rememberSession(on) {
  try { if (on) localStorage.setItem(SESSION_KEY, "1"); else localStorage.removeItem(SESSION_KEY); }
  catch (e) { /* storage off: /me is asked every time */ }
}
function sessionHinted() {
  try { return localStorage.getItem(SESSION_KEY) === "1"; } catch (e) { return true; }
}
let mePromise = null;
export function me(refresh) {
  if (!mePromise || refresh) {
    mePromise = !sessionHinted() ? Promise.resolve(null) :
      api("/me").then(b => { rememberSession(!!b.user); return b.user || null; }).catch(e => {
        if (e instanceof ApiError && e.status === 401) rememberSession(false);
        return null;
      });
  }
  return mePromise;
}

/* ---- cart (localStorage) ---- */
const CART_KEY = "fashion_cart_v1";
export function cartGet() {
  try {
    const c = JSON.parse(localStorage.getItem(CART_KEY) || "[]");
    return Array.isArray(c) ? c.filter(i => i && Number.isInteger(i.id) && i.qty > 0) : [];
  } catch (e) { return []; }
}
export function cartSave(items) {
  try { localStorage.setItem(CART_KEY, JSON.stringify(items)); } catch (e) { /* full/private */ }
  updateCartCount();
}
export function cartAdd(p, qty = 1) {
  const items = cartGet();
  const found = items.find(i => i.id === p.product_id);
  if (found) found.qty = Math.min(99, found.qty + qty);
  else items.push({ id: p.product_id, name: p.product_display_name || "Product " + p.product_id,
                    price: p.price === null || p.price === undefined ? null : Number(p.price),
                    image: p.image_url || "/images/" + p.product_id + ".jpg", qty });
  cartSave(items);
}
export function cartCount() { return cartGet().reduce((n, i) => n + i.qty, 0); }
export function updateCartCount() {
  const c = document.getElementById("cart-count");
  if (c) {
    const n = cartCount();
    c.textContent = String(n);
    c.parentElement.setAttribute("aria-label", "Cart, " + n + (n === 1 ? " item" : " items"));
  }
}
window.addEventListener("storage", e => { if (e.key === CART_KEY) updateCartCount(); });

/* ---- header ---- */
/* current: "home", "shop", "search", "account" or "cart" (aria-current). */
export function header(current) {
  const nav = el("nav", { "aria-label": "Main" });
  const ul = el("ul", { class: "nav" });
  const links = [["Home", "/", "home"], ["Shop", "/catalog.html", "shop"],
                 ["Search", "/search.html", "search"], ["Account", "/account.html", "account"]];
  for (const [label, href, key] of links) {
    const a = el("a", { href, text: label });
    if (key === current) a.setAttribute("aria-current", "page");
    ul.append(el("li", null, a));
  }
  const cart = el("a", { href: "/cart.html", class: "cart-link" }, "Cart ",
                  el("span", { id: "cart-count", class: "badge", text: "0" }));
  if (current === "cart") cart.setAttribute("aria-current", "page");
  ul.append(el("li", null, cart));
  nav.append(ul);
  const who = el("span", { id: "who", class: "who" });
  const h = el("header", { class: "top" },
    el("a", { href: "/", class: "brand", text: "Fashion store" }), nav, who);
  const skip = el("a", { class: "skip", href: "#main", text: "Skip to content" });
  document.body.prepend(skip, h);
  updateCartCount();
  me().then(u => { who.textContent = u ? "Signed in as " + u.display_name : ""; });
}

/* ---- ready signal ----
 * Every page's <main id="main"> starts with aria-busy="true" in the HTML;
 * busy(false) removes it once the page's primary content has settled
 * (loaded, empty or error), busy(true) sets it again during a reload. */
export function busy(on) {
  const m = document.getElementById("main");
  if (!m) return;
  if (on) m.setAttribute("aria-busy", "true");
  else m.removeAttribute("aria-busy");
}

/* ---- filter facets (catalog and search) ----
 * [URL / API key, key in /products/filters/options, label] */
export const FACETS = [
  ["gender", "genders", "Gender"],
  ["master_category", "master_categories", "Category"],
  ["sub_category", "sub_categories", "Sub-category"],
  ["article_type", "article_types", "Article type"],
  ["base_color", "base_colors", "Colour"],
  ["season", "seasons", "Season"],
  ["usage", "usages", "Usage"],
  ["brand", "brands", "Brand"]
];

/* A labelled <select> for one facet: "Any", then "Value (count)". */
export function facetSelect(key, label, values) {
  const id = "f-" + key;
  const sel = el("select", { id, name: key }, el("option", { value: "", text: "Any" }));
  for (const o of values) {
    if (o.value === null || o.value === undefined) continue;
    sel.append(el("option", { value: String(o.value), text: o.value + " (" + o.count + ")" }));
  }
  return el("div", { class: "field" }, el("label", { for: id, text: label }), sel);
}

/* Kaggle fashion-dataset base colours -> CSS backgrounds for the swatches. */
export const COLOURS = {
  "Navy Blue": "#1f2a5a", "Blue": "#1e5bd8", "Silver": "linear-gradient(135deg, #e6e6e6, #a8a8a8)",
  "Black": "#111111", "Grey": "#8a8a8a", "Green": "#2e8b3a", "Purple": "#6a2c91",
  "White": "#ffffff", "Beige": "#e8d9b5", "Brown": "#7a4a24", "Bronze": "linear-gradient(135deg, #d49a5a, #8c5a2b)",
  "Teal": "#0f7c7c", "Copper": "linear-gradient(135deg, #d98c5f, #9a4f28)", "Pink": "#f3a6c0",
  "Off White": "#f6f1e4", "Maroon": "#6e1423", "Red": "#d32f2f", "Khaki": "#c3b091",
  "Orange": "#f28c28", "Coffee Brown": "#4b3621", "Yellow": "#f7d635", "Charcoal": "#36454f",
  "Gold": "linear-gradient(135deg, #f5d77a, #b8860b)", "Steel": "#71797e", "Tan": "#d2b48c",
  "Multi": "conic-gradient(#d32f2f, #f7d635, #2e8b3a, #1e5bd8, #6a2c91, #d32f2f)",
  "Magenta": "#c2187a", "Lavender": "#b9a5e0", "Sea Green": "#2e8b57", "Cream": "#fff5d6",
  "Peach": "#ffcba4", "Olive": "#6b6b1f", "Skin": "#e8b894", "Burgundy": "#800020",
  "Grey Melange": "repeating-linear-gradient(45deg, #9a9a9a 0 2px, #c4c4c4 2px 4px)",
  "Rust": "#b7410e", "Rose": "#e8828f", "Lime Green": "#7ccd32", "Mauve": "#c19ab7",
  "Turquoise Blue": "#30c5d2", "Metallic": "linear-gradient(135deg, #f0f0f0, #8d8d8d, #e0e0e0)",
  "Mustard": "#d4a017", "Taupe": "#8b7d6b", "Nude": "#e3bc9a", "Mushroom Brown": "#9c8a76",
  "Fluorescent Green": "#39ff14"
};
const UNKNOWN_COLOUR = "repeating-linear-gradient(45deg, #9e9e9e 0 3px, #d0d0d0 3px 6px)";
export function colourCss(name) {
  return Object.prototype.hasOwnProperty.call(COLOURS, name) ? COLOURS[name] : UNKNOWN_COLOUR;
}

function swatch(name, value, text) {
  const id = "f-" + name + "-" + (value === "" ? "any" : value.toLowerCase().replace(/[^a-z0-9]+/g, "-"));
  const input = el("input", { type: "radio", name, value, id, class: "swatch-input" });
  const chip = el("span", { class: "chip" + (value === "" ? " chip-any" : ""), "aria-hidden": "true" });
  if (value !== "") chip.style.background = colourCss(value);
  return el("label", { class: "swatch", for: id },
    el("span", { class: "dot" }, input, chip), el("span", { class: "swatch-text", text }));
}

/* The colour facet as a radio group of swatches: "Any colour", then one per
 * colour, each named "Blue (12)". Changing it fires the form's change event. */
export function colourSwatches(values, name = "base_color") {
  const list = el("div", { class: "swatches" }, swatch(name, "", "Any colour"));
  for (const o of values || []) {
    if (o.value === null || o.value === undefined || o.value === "") continue;
    list.append(swatch(name, String(o.value), o.value + " (" + o.count + ")"));
  }
  list.querySelector("input").checked = true;
  return el("fieldset", { class: "field swatch-set" }, el("legend", { text: "Colour" }), list);
}

/* Read / set a named form control whether it is a select, an input or a radio group. */
export function fieldValue(form, name) {
  const f = form.elements[name];
  return f ? f.value || "" : "";
}
export function setField(form, name, value) {
  const f = form.elements[name];
  if (!f) return;
  value = value || "";
  if (f instanceof RadioNodeList || (f instanceof HTMLInputElement && f.type === "radio")) {
    const radios = f instanceof RadioNodeList ? [...f] : [f];
    let hit = radios.find(r => r.value === value);
    if (!hit && value) {
      /* a value from a link that the options do not list (yet) */
      const lbl = swatch(name, value, value);
      radios[radios.length - 1].closest(".swatches").append(lbl);
      hit = lbl.querySelector("input");
    }
    if (hit) hit.checked = true;
    return;
  }
  if (f.tagName === "SELECT" && value && ![...f.options].some(o => o.value === value))
    f.append(el("option", { value, text: value }));
  f.value = value;
}

/* ---- product card ---- */
export function productCard(p, extra) {
  const id = p.product_id;
  const name = p.product_display_name || "Product " + id;
  const href = "/product.html?id=" + encodeURIComponent(id);
  const img = el("img", { src: p.image_url || "/images/" + id + ".jpg", alt: name,
                          loading: "lazy", decoding: "async", width: 240, height: 320 });
  const body = el("div", { class: "body" },
    el("h3", { class: "name" }, el("a", { href, text: name })));
  const meta = [p.brand, p.gender, p.article_type, p.base_color].filter(Boolean);
  if (meta.length) body.append(el("p", { class: "meta", text: meta.join(" · ") }));
  if (p.price !== null && p.price !== undefined && isFinite(Number(p.price)))
    body.append(el("p", { class: "price", text: money.format(Number(p.price)) }));
  if (typeof p.similarity_score === "number")
    body.append(el("p", { class: "score", text: "Match " + Math.round(p.similarity_score * 100) + "%" }));
  if (extra) body.append(extra);
  return el("li", null, el("article", { class: "card" }, img, body));
}

export function setStatus(node, kind, text) {
  node.className = "status " + (kind || "");
  node.textContent = text || "";
}

export function grid(products, extraFn) {
  const ul = el("ul", { class: "grid" });
  for (const p of products) ul.append(productCard(p, extraFn ? extraFn(p) : null));
  return ul;
}
