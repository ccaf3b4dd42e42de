/* common.js - shared helpers for every storefront page (ES module).
 * All text goes in through textContent / DOM APIs, never innerHTML. */
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

/* ---- session ---- */
let mePromise = null;
export function me(refresh) {
  if (!mePromise || refresh) {
    mePromise = api("/me").then(b => b.user).catch(e => {
      if (e instanceof ApiError && e.status === 401) return null;
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
export function header(current) {
  const nav = el("nav", { "aria-label": "Main" });
  const ul = el("ul", { class: "nav" });
  const links = [["Shop", "/"], ["Search", "/search.html"], ["Account", "/account.html"]];
  for (const [label, href] of links) {
    const a = el("a", { href, text: label });
    if (label.toLowerCase() === current) a.setAttribute("aria-current", "page");
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
