/* product.js - one product: large image, attributes, price, like/unlike,
 * add to cart, and "Similar items" from vector search. */
import { api, el, header, grid, friendly, setStatus, me, money, cartAdd, busy, ApiError } from "./common.js";

header("shop");
const status = document.getElementById("status");
const box = document.getElementById("product");
const id = new URLSearchParams(location.search).get("id");

const ATTRS = [["Brand", "brand"], ["Gender", "gender"], ["Category", "master_category"],
  ["Sub-category", "sub_category"], ["Article type", "article_type"], ["Colour", "base_color"],
  ["Season", "season"], ["Year", "year"], ["Usage", "usage"]];

async function load() {
  if (!id || !/^\d+$/.test(id)) {
    setStatus(status, "error", "No such product.");
    status.append(" ", el("a", { href: "/catalog.html", text: "Back to the shop" }));
    return;
  }
  /* the similar items are asked for at once, beside the product */
  const similarReq = api(`/products/${id}/similar?limit=8`);
  similarReq.catch(() => {});   /* handled in similar(); not an unhandled rejection meanwhile */
  let p;
  try { p = await api("/products/" + id); }
  catch (e) {
    setStatus(status, "error", e instanceof ApiError && e.status === 404 ?
      "This product does not exist (any more)." : friendly(e));
    return;
  }
  const name = p.product_display_name || "Product " + p.product_id;
  document.title = name + " – Fashion store";
  setStatus(status, "", "");
  const dl = el("dl", { class: "attrs" });
  for (const [label, k] of ATTRS)
    if (p[k] !== null && p[k] !== undefined) dl.append(el("dt", { text: label }), el("dd", { text: p[k] }));
  const cartMsg = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const qty = el("input", { id: "qty", name: "qty", type: "number", min: 1, max: 99, value: "1",
                            inputMode: "numeric", class: "qty" });
  const addBtn = el("button", { type: "button", text: "Add to cart",
    onclick: () => {
      const n = Math.max(1, Math.min(99, parseInt(qty.value, 10) || 1));
      qty.value = String(n);
      cartAdd(p, n);
      setStatus(cartMsg, "ok", n === 1 ? "Added to your cart." : `Added ${n} to your cart.`);
    } });
  const actions = el("div", { class: "actions" },
    el("span", { class: "field inline" }, el("label", { for: "qty", text: "Quantity" }), qty), addBtn);
  const info = el("div", null,
    el("h1", { text: name }),
    p.brand ? el("p", { class: "meta", text: p.brand }) : null,
    p.price !== null && p.price !== undefined ? el("p", { class: "bigprice", text: money.format(Number(p.price)) }) : null,
    actions, cartMsg, dl);
  box.replaceChildren(el("div", { class: "product" },
    el("img", { class: "hero", src: p.image_url || "/images/" + p.product_id + ".jpg", alt: name, width: 480, height: 640 }),
    info));
  await Promise.allSettled([likeButton(p, actions, cartMsg), similar(similarReq)]);
}

async function likeButton(p, actions, msg) {
  const u = await me();
  if (!u) {
    actions.append(el("a", { href: "/account.html?next=" + encodeURIComponent(location.pathname + location.search),
      text: "Sign in to like this" }));
    return;
  }
  /* The API has no "is liked" lookup; remember our own likes per user in the browser. */
  const key = "fashion_likes_" + u.user_id;
  let liked = new Set();
  try { liked = new Set(JSON.parse(localStorage.getItem(key) || "[]")); } catch (e) { /* ignore */ }
  /* Named "Like" or "Unlike" (the heart is decoration). */
  const btn = el("button", { type: "button", class: "secondary like" });
  const paint = () => {
    const on = liked.has(p.product_id);
    btn.replaceChildren(el("span", { "aria-hidden": "true", text: on ? "♥ " : "♡ " }), on ? "Unlike" : "Like");
  };
  btn.addEventListener("click", async () => {
    const on = liked.has(p.product_id);
    btn.disabled = true;
    try {
      const r = await api(`/users/${u.user_id}/likes/${p.product_id}`, { method: on ? "DELETE" : "POST" });
      if (r.liked) liked.add(p.product_id); else liked.delete(p.product_id);
      try { localStorage.setItem(key, JSON.stringify([...liked])); } catch (e) { /* ignore */ }
      setStatus(msg, "ok", r.liked ? "Liked — your recommendations will follow your taste." : "Removed from your likes.");
    } catch (e) { setStatus(msg, "error", friendly(e)); }
    btn.disabled = false;
    paint();
  });
  paint();
  actions.append(btn);
}

async function similar(similarReq) {
  const sec = document.getElementById("similar-section");
  const st = document.getElementById("similar-status");
  const out = document.getElementById("similar");
  sec.hidden = false;
  setStatus(st, "loading", "Finding similar items…");
  try {
    const r = await similarReq;
    const items = r.products || [];
    if (!items.length) { setStatus(st, "empty", "No similar items found."); return; }
    setStatus(st, "", "");
    out.replaceChildren(grid(items));
  } catch (e) { setStatus(st, "error", friendly(e)); }
}

load().finally(() => busy(false));
