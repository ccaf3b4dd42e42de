/* home.js - the home page: intro, "New arrivals" (newest first) and, for a
 * signed-in shopper, picks from the recommendations with their reasons. */
import { api, el, header, grid, friendly, setStatus, me, busy } from "./common.js";

header("home");
const $ = id => document.getElementById(id);

async function newArrivals() {
  const st = $("new-status");
  const out = $("new-results");
  setStatus(st, "loading", "Loading new arrivals…");
  try {
    const r = await api("/products?sort_by=year&sort_order=desc&page_size=8");
    const items = r.products || [];
    if (!items.length) { out.replaceChildren(); setStatus(st, "empty", "No products in the shop yet."); return; }
    setStatus(st, "", "");
    out.replaceChildren(grid(items));
  } catch (e) {
    out.replaceChildren();
    setStatus(st, "error", friendly(e));
  }
}

/* "Because you like Topwear, Shoes and Blue." - or null with no preferences. */
function becauseLine(p) {
  const names = [...(p.preferred_categories || []), ...(p.preferred_colors || [])]
    .filter(x => typeof x === "string" && x.trim());
  if (!names.length) return null;
  const list = names.length === 1 ? names[0] :
    names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
  return el("p", { class: "because", text: "Because you like " + list + "." });
}

async function picks() {
  const slot = $("picks-slot");
  const u = await me();
  if (!u) {
    slot.replaceChildren(el("aside", { class: "picks-cta box", "aria-label": "Personal picks" },
      el("p", null, el("a", { href: "/account.html?next=%2F", text: "Sign in for picks chosen for you" }),
        " — recommendations that follow your likes and preferences.")));
    return;
  }
  const st = el("p", { id: "picks-status", class: "status loading", role: "status", "aria-live": "polite",
                       text: "Finding picks for you…" });
  const out = el("div", { id: "picks-results" });
  const head = el("h2", { id: "picks-title", text: "Picked for " + u.display_name });
  const sec = el("section", { id: "picks", class: "home-section picks", "aria-labelledby": "picks-title" }, head, st, out);
  slot.replaceChildren(sec);
  const [prefs, recs] = await Promise.allSettled([
    api(`/users/${u.user_id}/preferences`),
    api(`/users/${u.user_id}/recommendations?limit=8`)
  ]);
  if (prefs.status === "fulfilled" && prefs.value) {
    const line = becauseLine(prefs.value);
    if (line) head.after(line);
  }
  if (recs.status === "rejected") { out.replaceChildren(); setStatus(st, "error", friendly(recs.reason)); return; }
  const items = (recs.value && recs.value.products) || [];
  if (!items.length) {
    out.replaceChildren();
    setStatus(st, "empty", "No picks yet. Like a few products to get started.");
    return;
  }
  setStatus(st, "", "");
  out.replaceChildren(grid(items, p => p.personalization_reason ?
    el("p", { class: "reason", text: "Why: " + p.personalization_reason }) : null));
}

Promise.allSettled([newArrivals(), picks()]).then(() => busy(false));
