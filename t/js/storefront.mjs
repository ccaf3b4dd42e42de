// storefront.mjs - the storefront (htdocs/) in headless Chromium, driven by
// playwright-core, against the real stack t/95-storefront.t starts (nginx
// serving htdocs/ under the production CSP, fashiond, PostgreSQL, CLIP,
// Vector Search).  Prints TAP (t/js/tap.mjs); the .t file replays it.
//
// Environment: BASE_URL (the harness nginx; or the demo's https://localhost:8443
// with INSECURE=1 and NODE_TLS_REJECT_UNAUTHORIZED=0), CHROMIUM (executable),
// SHOTS (folder for screenshots and timings.json), PHOTO (a catalog JPEG
// whose product id is PHOTO_ID), PHASE:
//   full      every shopper flow, screenshots of every page at desktop and
//             phone widths, contrast / alt text / overflow audits;
//   degraded  CLIP and Vector Search are down: friendly messages, the
//             catalog still works;
//   nodb      PostgreSQL is down: friendly messages, no blank pages;
//   bench     (bench/storefront) RUNS cold and warm loads of every page,
//             some signed in as the budget persona (PERSONA_PASSWORD),
//             times into SHOTS/bench.json.
// Each flow runs in a fresh browser context; console errors, uncaught
// exceptions and CSP violations fail the flow (in the degraded phases only
// the failed API responses themselves may be logged by the browser).

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ok, is, diag, bail, done } from './tap.mjs';

const env = process.env;
const BASE = env.BASE_URL;
const SHOTS = env.SHOTS;
const PHASE = env.PHASE || 'full';
if (!BASE || !SHOTS) bail('BASE_URL and SHOTS are required');
fs.mkdirSync(SHOTS, { recursive: true });
const watchdog = setTimeout(() => bail('not finished within 420 s'), 420000);

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 740 };
const PERSONA = { name: 'Budget-Conscious Shopper', email: 'budget@demo.fashion.invalid' };
const timings = {};

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium' });

// --- helpers -------------------------------------------------------------

// A browser context with a page whose console is watched.
async function session(viewport = DESKTOP, opts = {}) {
	const context = await browser.newContext({ viewport, isMobile: !!opts.phone,
	    ignoreHTTPSErrors: !!env.INSECURE,
	    hasTouch: !!opts.phone, deviceScaleFactor: 1 });
	// When #main first loses aria-busy (the page has settled), measured in
	// the page (an init script runs before the page's own, CSP aside).
	await context.addInitScript(() => {
		const check = () => {
			const m = document.getElementById('main');
			if (m && !m.hasAttribute('aria-busy') && window.__settledAt === undefined)
				window.__settledAt = performance.now();
		};
		new MutationObserver(check).observe(document, { subtree: true, childList: true,
		    attributes: true, attributeFilter: ['aria-busy'] });
	});
	const page = await context.newPage();
	page.setDefaultTimeout(15000);
	const errors = [];
	page.on('console', (m) => {
		if (m.type() === 'error') errors.push(`console: ${m.text()} (${m.location().url || '?'})`);
	});
	page.on('pageerror', (e) => errors.push(`exception: ${e.message}`));
	page.on('requestfailed', (r) => {
		const f = r.failure() ? r.failure().errorText : '';
		if (f !== 'net::ERR_ABORTED') errors.push(`request failed: ${r.url()} ${f}`);
	});
	return { context, page, errors };
}

// "No console errors": in the degraded phases the browser's own line for
// each failed API answer ("Failed to load resource: ... status of 503")
// is expected; anything else is not.
function noErrors(s, what, allowStatus) {
	const bad = s.errors.filter((e) => !(allowStatus &&
	    /^console: Failed to load resource: the server responded with a status of (\d+)/.test(e) &&
	    allowStatus.includes(Number(RegExp.$1))));
	ok(bad.length === 0, `${what}: no console errors`) || diag(bad.join('\n'));
	s.errors.length = 0;
}

async function ready(page) {
	await page.locator('#main:not([aria-busy])').waitFor({ state: 'attached' });
}

// Opens a page and waits until it says it has settled; records the time
// from navigation start (reported, and benchmarked by bench/storefront).
async function open(page, url, label) {
	await page.goto(BASE + url);
	await ready(page);
	const ms = await page.evaluate(() => window.__settledAt ?? performance.now());
	if (label) (timings[label] ||= []).push(Math.round(ms));
	return ms;
}

async function api(method, url, body) {
	const init = { method, headers: { Origin: BASE, Accept: 'application/json' } };
	if (body instanceof FormData) init.body = body;
	else if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	const r = await fetch(BASE + '/api/v1' + url, init);
	return r.json();
}

// Product ids of the cards under a container, in page order.
function cardIds(page, scope) {
	return page.locator(`${scope} .card h3 a`).evaluateAll((as) =>
	    as.map((a) => Number(new URL(a.href).searchParams.get('id'))));
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Full-page screenshots: the lazy images below the fold are loaded first.
async function shot(page, name) {
	await page.evaluate(() => Promise.all([...document.images].map((i) => {
		i.loading = 'eager';
		return i.complete ? null : new Promise((r) => { i.onload = i.onerror = r; });
	})));
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Images in view have loaded (lazy ones below the fold are left alone).
async function imagesLoaded(page, what) {
	await page.waitForFunction(() => [...document.images].filter((i) => {
		const r = i.getBoundingClientRect();
		return r.bottom > 0 && r.top < innerHeight && r.width > 0;
	}).every((i) => i.complete), null, { timeout: 10000 }).catch(() => {});
	const broken = await page.evaluate(() => [...document.images].filter((i) => {
		const r = i.getBoundingClientRect();
		return r.bottom > 0 && r.top < innerHeight && r.width > 0 && !(i.complete && i.naturalWidth > 0);
	}).map((i) => i.src));
	ok(broken.length === 0, `${what}: the images in view load`) || diag(broken.join('\n'));
}

// Accessibility checks of a settled page: alt text on every image, and the
// contrast of every visible text against the background actually behind it
// (WCAG 2.1 AA: 4.5:1, 3:1 for large text), computed from the styles.
async function audit(page, what) {
	const r = await page.evaluate(() => {
		const parse = (c) => {
			const m = /^rgba?\(([^)]+)\)$/.exec(c);
			if (!m) return null;
			const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
			return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
		};
		const over = (top, under) => {
			const a = top[3];
			return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1);
		};
		const lum = (c) => {
			const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
			return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
		};
		// The colour behind an element: its and its ancestors' backgrounds,
		// composited over white; null when an image or gradient is behind.
		const background = (e) => {
			const layers = [];
			for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
				const cs = getComputedStyle(n);
				if (cs.backgroundImage !== 'none') return null;
				const c = parse(cs.backgroundColor);
				if (c === null) return null;
				if (c[3] > 0) layers.push(c);
				if (c[3] === 1) break;
			}
			let bg = [255, 255, 255, 1];
			for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
			return bg;
		};
		const fails = [];
		let checked = 0, skipped = 0;
		for (const e of document.querySelectorAll('body *')) {
			if (['SCRIPT', 'STYLE', 'OPTION', 'NOSCRIPT'].includes(e.tagName)) continue;
			const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.data.trim());
			if (!own || !e.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
			const rect = e.getBoundingClientRect();
			if (rect.width < 1 || rect.height < 1 || rect.right < 0 || rect.left > innerWidth) continue;
			const cs = getComputedStyle(e);
			const fg0 = parse(cs.color);
			const bg = background(e);
			if (!fg0 || !bg) { skipped++; continue; }
			const fg = over(fg0, bg);
			const l1 = lum(fg), l2 = lum(bg);
			const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
			const size = parseFloat(cs.fontSize);
			const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
			const need = large ? 3 : 4.5;
			checked++;
			if (ratio < need) fails.push(`${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 30)}" ${cs.color} on rgb(${bg.slice(0, 3).map(Math.round)}) = ${ratio.toFixed(2)} < ${need}`);
		}
		const noAlt = [...document.images].filter((i) => !i.alt || !i.alt.trim()).map((i) => i.src);
		return { fails, checked, skipped, noAlt, overflow: document.documentElement.scrollWidth - innerWidth };
	});
	ok(r.checked > 0 && r.fails.length === 0,
	    `${what}: ${r.checked} texts meet WCAG AA contrast`) || diag(r.fails.join('\n'));
	if (r.skipped) diag(`${what}: ${r.skipped} texts over images not measured`);
	ok(r.noAlt.length === 0, `${what}: every image has alt text`) || diag(r.noAlt.join('\n'));
	ok(r.overflow <= 0, `${what}: no horizontal scrolling (${r.overflow} px)`);
}

// --- the flows -------------------------------------------------------------

async function home() {
	const s = await session();
	const { page } = s;
	await open(page, '/', 'home');
	await page.getByRole('heading', { name: 'New arrivals' }).waitFor();
	const ids = await cardIds(page, '#arrivals');
	const want = await api('GET', '/products?sort_by=year&sort_order=desc&page_size=8');
	ok(ids.length === 8 && same(ids, want.products.map((p) => p.product_id)),
	    'home: new arrivals are the 8 newest products') || diag(`page ${ids}`);
	ok(await page.getByRole('link', { name: /sign in/i }).first().isVisible(),
	    'home: signed out, a link invites to sign in for picks');
	await imagesLoaded(page, 'home');
	noErrors(s, 'home');
	await s.context.close();
}

// browse -> filter (select, colour swatch, price slider) -> back/forward ->
// product -> similar items -> a similar item.
async function browse() {
	const s = await session();
	const { page } = s;
	await open(page, '/catalog.html', 'catalog');
	const all = await api('GET', '/products?page=1&page_size=24');
	is(await page.locator('#results .card').count(), 24, 'catalog: a first page of 24 products');
	ok(same(await cardIds(page, '#results'), all.products.map((p) => p.product_id)),
	    'catalog: the products of the API, in its order');
	await imagesLoaded(page, 'catalog');

	// A select facet, with counts.
	const opts = await api('GET', '/products/filters/options');
	const men = opts.genders.find((g) => g.value === 'Men');
	const gender = page.getByLabel('Gender', { exact: true });
	ok(await gender.locator('option', { hasText: `Men (${men.count})` }).count() === 1,
	    `catalog: the Gender filter shows counts (Men (${men.count}))`);
	await gender.selectOption('Men');
	await page.waitForURL(/gender=Men/);
	await ready(page);
	let want = await api('GET', '/products?page=1&page_size=24&gender=Men');
	ok(same(await cardIds(page, '#results'), want.products.map((p) => p.product_id)),
	    'filter gender=Men: the grid shows the API\'s men\'s products');
	ok((await page.locator('#status').textContent()).includes(String(want.total)),
	    `filter gender=Men: the total (${want.total}) is shown`);

	// A colour swatch (a radio), chosen with the keyboard.
	const colour = (await api('GET', '/products/filters/options?gender=Men')).base_colors
	    ?.[0]?.value || 'Black';
	const swatch = page.getByRole('radio', { name: new RegExp(`^${colour} \\(`) });
	ok(await swatch.count() === 1, `catalog: a colour swatch for ${colour}`);
	await swatch.focus();
	await page.keyboard.press('Space');
	await page.waitForURL(new RegExp(`base_color=${encodeURIComponent(colour).replace(/%20/g, '\\+')}`));
	await ready(page);
	want = await api('GET', `/products?page=1&page_size=24&gender=Men&base_color=${encodeURIComponent(colour)}`);
	ok(same(await cardIds(page, '#results'), want.products.map((p) => p.product_id)),
	    `swatch ${colour} (keyboard): the grid shows the API's men's ${colour} products`);
	ok(await swatch.isChecked(), 'the swatch shows as chosen');

	// The price slider: lower the maximum with the keyboard.
	const maxSlider = page.getByRole('slider', { name: 'Maximum price' });
	ok(await maxSlider.count() === 1 && await page.getByRole('slider', { name: 'Minimum price' }).count() === 1,
	    'catalog: a price range slider (minimum and maximum)');
	await maxSlider.focus();
	for (let i = 0; i < 5; i++) await page.keyboard.press('PageDown');
	await page.waitForURL(/max_price=/);
	await ready(page);
	const maxPrice = Number(new URL(page.url()).searchParams.get('max_price'));
	want = await api('GET', `/products?page=1&page_size=24&gender=Men&base_color=${encodeURIComponent(colour)}&max_price=${maxPrice}`);
	const prices = await page.locator('#results .card .price').allTextContents();
	ok(same(await cardIds(page, '#results'), want.products.map((p) => p.product_id)),
	    `slider max ${maxPrice}: the grid shows the API's products up to that price`);
	diag(`price slider: max_price=${maxPrice}, ${prices.length} products, e.g. ${prices.slice(0, 3)}`);

	// Back and forward restore the views (grid and controls).
	await page.goBack();
	await page.waitForURL((u) => !u.searchParams.has('max_price'));
	await ready(page);
	want = await api('GET', `/products?page=1&page_size=24&gender=Men&base_color=${encodeURIComponent(colour)}`);
	ok(same(await cardIds(page, '#results'), want.products.map((p) => p.product_id)),
	    'back: the view before the price filter');
	await page.goBack();
	await page.waitForURL((u) => !u.searchParams.has('base_color'));
	await ready(page);
	ok(await page.getByRole('radio', { name: /^Any colour/ }).isChecked() &&
	    await gender.inputValue() === 'Men', 'back again: controls show gender=Men, any colour');
	await page.goForward();
	await page.waitForURL(/base_color=/);
	await ready(page);
	ok(await swatch.isChecked(), 'forward: the swatch is chosen again');

	// Open a product from the grid.
	const first = page.locator('#results .card h3 a').first();
	const name = (await first.textContent()).trim();
	const pid = Number(new URL(await first.evaluate((a) => a.href)).searchParams.get('id'));
	await first.click();
	await page.waitForURL(/product\.html\?id=/);
	await ready(page);
	ok(await page.getByRole('heading', { level: 1, name }).isVisible(), `product ${pid}: the page is about "${name}"`);
	const big = page.locator('#product img').first();
	ok(await big.getAttribute('alt') === name && await big.evaluate((i) => i.naturalWidth > 0),
	    'product: the large image loads and has the name as alt text');
	const prod = await api('GET', `/products/${pid}`);
	const text = await page.locator('#product').textContent();
	ok(text.includes(prod.article_type) && text.includes(prod.base_color) &&
	    (!prod.brand || text.includes(prod.brand)), 'product: attributes and brand are shown');
	const sim = await api('GET', `/products/${pid}/similar?limit=8`);
	const simIds = await cardIds(page, '#similar');
	ok(simIds.length > 0 && same(simIds, sim.products.map((p) => p.product_id)),
	    `product: ${simIds.length} similar items, as vector search orders them`);
	ok(!simIds.includes(pid), 'product: not similar to itself');
	await imagesLoaded(page, 'product');
	const next = page.locator('#similar .card h3 a').first();
	await next.click();
	await page.waitForURL(new RegExp(`id=${simIds[0]}$`));
	await ready(page);
	ok((await page.locator('h1').textContent()).trim() === sim.products[0].product_display_name,
	    'a similar item opens its own page');
	noErrors(s, 'browse');
	await s.context.close();
}

// A link with filters, sort and page in the URL reproduces the view.
async function deepLink() {
	const s = await session();
	const { page } = s;
	const q = 'gender=Women&master_category=Apparel&sort=price-desc&page=2';
	await open(page, '/catalog.html?' + q, 'catalog (deep link)');
	const want = await api('GET', '/products?page=2&page_size=24&gender=Women&master_category=Apparel&sort_by=price&sort_order=desc');
	ok(same(await cardIds(page, '#results'), want.products.map((p) => p.product_id)),
	    'deep link: page 2 of women\'s apparel, priciest first, as the API gives it');
	ok(await page.getByLabel('Gender', { exact: true }).inputValue() === 'Women' &&
	    await page.getByLabel('Category', { exact: true }).inputValue() === 'Apparel' &&
	    await page.getByLabel('Sort by').inputValue() === 'price-desc',
	    'deep link: the controls show the filters and the sort');
	ok(/Page 2 of/.test(await page.locator('#pager').textContent()), 'deep link: on page 2');
	await page.getByRole('link', { name: 'Previous page' }).click();
	await page.waitForURL((u) => !u.searchParams.has('page'));
	await ready(page);
	const p1 = await api('GET', '/products?page=1&page_size=24&gender=Women&master_category=Apparel&sort_by=price&sort_order=desc');
	ok(same(await cardIds(page, '#results'), p1.products.map((p) => p.product_id)),
	    'deep link: "Previous" goes to page 1 with the same filters');
	// A view with nothing in it says so.
	await open(page, '/catalog.html?gender=Men&min_price=99999999');
	ok(/No products match/.test(await page.locator('#status').textContent()) &&
	    await page.locator('#results .card').count() === 0, 'a filter that matches nothing: the empty state');
	noErrors(s, 'deep link');
	await s.context.close();
}

async function search() {
	const s = await session();
	const { page } = s;
	await open(page, '/search.html', 'search');
	const box = page.getByLabel('Describe what you are looking for');
	await box.fill('blue denim jeans');
	await box.press('Enter');
	await page.waitForURL(/q=blue/);
	await ready(page);
	let want = await api('POST', '/search/text', { query: 'blue denim jeans', limit: 24 });
	let ids = await cardIds(page, '#results');
	ok(ids.length > 0 && same(ids, want.products.map((p) => p.product_id)),
	    `text search: ${ids.length} results in the API's order`);
	const scores = await page.locator('#results .card .score').allTextContents();
	ok(scores.length === ids.length && scores.every((x) => /Match \d+%/.test(x)),
	    'text search: every result shows its similarity');
	const jeans = want.products.filter((p) => p.article_type === 'Jeans').length;
	ok(jeans >= 3, `text search: "blue denim jeans" finds jeans (${jeans} of ${ids.length})`);
	await imagesLoaded(page, 'search');

	// Filters apply to search results.
	await page.getByText('Filters', { exact: true }).click();
	await page.getByLabel('Gender', { exact: true }).selectOption('Women');
	await page.getByRole('button', { name: 'Search', exact: true }).click();
	await page.waitForURL(/gender=Women/);
	await ready(page);
	want = await api('POST', '/search/text', { query: 'blue denim jeans', limit: 24, filters: { gender: 'Women' } });
	ids = await cardIds(page, '#results');
	ok(ids.length > 0 && same(ids, want.products.map((p) => p.product_id)) &&
	    want.products.every((p) => p.gender === 'Women'), 'text search with gender=Women: only women\'s results');
	noErrors(s, 'text search');

	// The URL reproduces the search.
	const url = new URL(page.url());
	await open(page, url.pathname + url.search);
	ok(same(await cardIds(page, '#results'), ids), 'a search link reproduces the results');
	noErrors(s, 'search link');
	await s.context.close();
}

async function photoSearch() {
	const s = await session();
	const { page } = s;
	await open(page, '/search.html');
	await page.locator('#photo').setInputFiles(env.PHOTO);
	await page.locator('#preview img').waitFor();
	ok(true, 'photo search: the chosen photo is previewed');
	await page.getByRole('button', { name: 'Search', exact: true }).click();
	await page.locator('#results .card').first().waitFor();
	await ready(page);
	const ids = await cardIds(page, '#results');
	is(ids[0], Number(env.PHOTO_ID), 'photo search: a catalog photo finds its own product first');
	const fd = new FormData();
	fd.append('image', new Blob([fs.readFileSync(env.PHOTO)], { type: 'image/jpeg' }), 'p.jpg');
	fd.append('limit', '24');
	const want = await api('POST', '/search/image', fd);
	ok(same(ids, want.products.map((p) => p.product_id)), 'photo search: the API\'s results, in order');
	ok(/Photo search/.test(await page.locator('#status').textContent()), 'photo search: says it searched by photo');
	await shot(page, 'search-photo-desktop');

	// The same photo dropped on the drop zone.
	await open(page, '/search.html');
	const dt = await page.evaluateHandle((b64) => {
		const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
		const d = new DataTransfer();
		d.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
		return d;
	}, fs.readFileSync(env.PHOTO).toString('base64'));
	await page.locator('#drop').dispatchEvent('drop', { dataTransfer: dt });
	await page.locator('#preview img').waitFor();
	await page.getByRole('button', { name: 'Search', exact: true }).click();
	await page.locator('#status', { hasText: 'Photo search' }).waitFor();
	await ready(page);
	ok(same(await cardIds(page, '#results'), ids), 'photo search: a dropped photo gives the same results');

	// Photo and words together: cross-modal.
	await page.getByLabel('Describe what you are looking for').fill('in red');
	await page.getByRole('button', { name: 'Search', exact: true }).click();
	await page.locator('#status', { hasText: 'Photo + text' }).waitFor();
	await ready(page);
	const cm = await cardIds(page, '#results');
	const fd2 = new FormData();
	fd2.append('image', new Blob([fs.readFileSync(env.PHOTO)], { type: 'image/jpeg' }), 'p.jpg');
	fd2.append('query', 'in red');
	fd2.append('limit', '24');
	const want2 = await api('POST', '/search/cross-modal', fd2);
	ok(cm.length > 0 && same(cm, want2.products.map((p) => p.product_id)) && !same(cm, ids),
	    'photo + "in red": cross-modal results, different from the photo alone');
	const red = (l) => l.filter((p) => p.base_color === 'Red').length;
	ok(red(want2.products) > red(want.products),
	    `photo + "in red": more red items (${red(want2.products)} vs ${red(want.products)})`);
	noErrors(s, 'photo search');
	await s.context.close();
}

// Sign in as a persona -> recommendations -> like -> they change.
async function persona() {
	const s = await session();
	const { page } = s;
	await open(page, '/account.html', 'account');
	await page.getByRole('button', { name: `Sign in as ${PERSONA.name}` }).click();
	await page.getByRole('button', { name: 'Sign out' }).waitFor();
	await ready(page);
	// The context's own requests carry the browser's cookies (not the page's
	// console: the 401 after signing out is the test's, not the shop's).
	const req = s.context.request;
	const me = await (await req.get(`${BASE}/api/v1/me`)).json();
	is(me.user && me.user.email, PERSONA.email, 'account: the session cookie works for the API');
	const uid = me.user.user_id;
	const shopper = me.user.display_name;
	ok(await page.locator('#profile').getByText(shopper).isVisible() &&
	    (await page.locator('#who').textContent()).includes(shopper),
	    `account: the page and the header say signed in as ${shopper}`);
	const recs = async (u) => (await req.get(`${BASE}/api/v1/users/${u}/recommendations?limit=12`)).json();
	const before = await cardIds(page, '#recs');
	const api1 = await recs(uid);
	ok(before.length > 0 && same(before, api1.products.slice(0, before.length).map((p) => p.product_id)),
	    `account: ${before.length} recommendations, as the API gives them`);
	const reasons = await page.locator('#recs .card .reason').allTextContents();
	ok(reasons.length === before.length && reasons.every((r) => r.trim()),
	    'account: every recommendation shows its reason');
	await imagesLoaded(page, 'account');
	await shot(page, 'account-signed-in-desktop');
	await audit(page, 'account (signed in)');

	// Home: picks for the persona.
	await open(page, '/', 'home (signed in)');
	ok(await page.getByRole('heading', { name: `Picked for ${shopper}` }).isVisible(),
	    'home: "Picked for" the persona');
	ok(await page.locator('#picks').getByText(/^Because you like /).isVisible(), 'home: "Because you like …"');
	ok(await page.locator('#picks .card').count() > 0, 'home: picks are shown');
	await shot(page, 'home-signed-in-desktop');
	await audit(page, 'home (signed in)');

	// Like the three priciest products: the budget shopper's picks move.
	const lux = await api('GET', '/products?sort_by=price&sort_order=desc&page_size=3');
	for (const p of lux.products) {
		await open(page, `/product.html?id=${p.product_id}`);
		const like = page.getByRole('button', { name: 'Like', exact: true });
		await like.click();
		await page.getByRole('button', { name: 'Unlike', exact: true }).waitFor();
		ok(true, `product ${p.product_id}: Like turns into Unlike`);
	}
	await open(page, `/product.html?id=${lux.products[0].product_id}`);
	ok(await page.getByRole('button', { name: 'Unlike', exact: true }).isVisible(),
	    'a liked product shows as liked on a new visit');
	await open(page, '/account.html');
	await page.locator('#recs .card').first().waitFor();
	const after = await cardIds(page, '#recs');
	const api2 = await recs(uid);
	ok(same(after, api2.products.slice(0, after.length).map((p) => p.product_id)),
	    'account: after the likes, the recommendations are the API\'s new ones');
	ok(!same(after, before), 'account: the likes changed the recommendations');
	const median = (l) => { const s2 = l.map((p) => Number(p.price)).sort((a, b) => a - b); return s2[s2.length >> 1]; };
	ok(median(api2.products) > median(api1.products),
	    `recommendations moved toward pricier items (median ${median(api1.products)} -> ${median(api2.products)})`);

	// Unlike on the product page.
	await open(page, `/product.html?id=${lux.products[0].product_id}`);
	await page.getByRole('button', { name: 'Unlike', exact: true }).click();
	await page.getByRole('button', { name: 'Like', exact: true }).waitFor();
	ok(true, 'Unlike turns back into Like');

	// Edit the preferences: saved, and a refused change leaves them.
	await open(page, '/account.html');
	const colours = page.locator('#p-colors');
	await colours.fill('Red, Navy Blue');
	await page.getByRole('button', { name: 'Save preferences' }).click();
	await page.locator('#prefs-msg', { hasText: 'Preferences saved.' }).waitFor();
	await ready(page);
	let prefs = await (await req.get(`${BASE}/api/v1/users/${uid}/preferences`)).json();
	ok(same(prefs.preferred_colors, ['Red', 'Navy Blue']), 'preferences: the colours are saved');
	await page.locator('#p-min').fill('900');
	await page.locator('#p-max').fill('100');
	await page.getByRole('button', { name: 'Save preferences' }).click();
	await page.locator('#prefs-msg.error').waitFor();
	const said = await page.locator('#prefs-msg').textContent();
	prefs = await (await req.get(`${BASE}/api/v1/users/${uid}/preferences`)).json();
	ok(/price/i.test(said) && prefs.min_price !== 900, `preferences: min above max is refused ("${said}"), nothing saved`);

	// Sign out.
	await open(page, '/account.html');
	const reloaded = page.waitForEvent('load');
	await page.getByRole('button', { name: 'Sign out' }).click();
	await reloaded;
	await page.getByRole('button', { name: `Sign in as ${PERSONA.name}` }).waitFor();
	await ready(page);
	const gone = (await req.get(`${BASE}/api/v1/me`)).status();
	is(gone, 401, 'signed out: the session is gone on the server');
	noErrors(s, 'persona');
	await s.context.close();
}

async function signup() {
	const s = await session();
	const { page } = s;
	await open(page, '/account.html');
	const email = `shopper${Date.now()}@example.com`;
	await page.getByLabel('Display name').fill('Test Shopper');
	await page.locator('#su-email').fill(email);
	await page.locator('#su-password').fill('correct horse battery');
	await page.getByRole('button', { name: 'Sign up' }).click();
	await page.getByRole('button', { name: 'Sign out' }).waitFor();
	await ready(page);
	ok(await page.getByText('Test Shopper').first().isVisible(), 'sign up: signed in as the new shopper');
	const recsText = await page.locator('#recs-status').textContent();
	ok(recsText.trim().length > 0 || await page.locator('#recs .card').count() > 0,
	    'sign up: recommendations (or a note why there are none yet)');
	noErrors(s, 'sign up');
	await s.context.close();
}

async function cart() {
	const s = await session();
	const { page } = s;
	const list = await api('GET', '/products?page_size=2&min_price=100');
	const [a, b] = list.products;
	await open(page, `/product.html?id=${a.product_id}`);
	await page.getByLabel('Quantity', { exact: true }).fill('2');
	await page.getByRole('button', { name: 'Add to cart' }).click();
	await page.locator('#cart-count', { hasText: '2' }).waitFor();
	ok(true, 'cart: adding 2 of a product counts 2 in the header');
	await open(page, `/product.html?id=${b.product_id}`);
	await page.getByRole('button', { name: 'Add to cart' }).click();
	await page.locator('#cart-count', { hasText: '3' }).waitFor();
	await open(page, '/cart.html', 'cart');
	const money = (v) => Number(String(v).replace(/[^\d.]/g, ''));
	const total = async () => money(await page.locator('#cart-total').textContent());
	is(await page.locator('#cart-lines .line, #cart-lines li').count(), 2, 'cart: two lines');
	is(await total(), 2 * Math.round(a.price) + Math.round(b.price), 'cart: the total is 2 x A + B');
	const qa = page.getByLabel(`Quantity for ${a.product_display_name}`);
	await qa.fill('3');
	await qa.press('Tab');
	await page.locator('#cart-count', { hasText: '4' }).waitFor();
	is(await total(), 3 * Math.round(a.price) + Math.round(b.price), 'cart: changing the quantity updates the total');
	await page.reload();
	await ready(page);
	is(await page.getByLabel(`Quantity for ${a.product_display_name}`).inputValue(), '3',
	    'cart: kept in the browser across a reload');
	await shot(page, 'cart-desktop');
	await audit(page, 'cart (two lines)');
	await page.getByRole('button', { name: new RegExp(`^Remove.*${b.product_display_name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`) }).click();
	is(await page.locator('#cart-count').textContent(), '3', 'cart: removing a line');
	await page.getByRole('button', { name: /^Remove/ }).click();
	ok(await page.getByText('Your cart is empty').isVisible(), 'cart: the empty state');
	is(await page.locator('#cart-count').textContent(), '0', 'cart: header count back to 0');
	noErrors(s, 'cart');
	await s.context.close();
}

// Keyboard only: skip link, then the first product of the catalog.
async function keyboard() {
	const s = await session();
	const { page } = s;
	await open(page, '/catalog.html');
	await page.keyboard.press('Tab');
	ok(await page.evaluate(() => document.activeElement.textContent) === 'Skip to content',
	    'keyboard: the first Tab reaches "Skip to content"');
	await page.keyboard.press('Enter');
	ok(await page.evaluate(() => document.activeElement.closest('#main') !== null),
	    'keyboard: it moves focus into the main content');
	const visible = await page.evaluate(() => {
		const a = document.querySelector('#results .card h3 a');
		a.focus();
		const cs = getComputedStyle(a);
		return cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
	});
	ok(visible, 'keyboard: a focused link shows a focus ring');
	await page.keyboard.press('Enter');
	await page.waitForURL(/product\.html/);
	ok(true, 'keyboard: Enter on a card opens the product');
	noErrors(s, 'keyboard');
	await s.context.close();
}

// Every page at desktop and phone width: screenshots and the audits.
const PAGES = [['home', '/'], ['catalog', '/catalog.html'],
    ['catalog-filtered', '/catalog.html?gender=Women&base_color=Black'],
    ['product', `/product.html?id=${env.PHOTO_ID}`], ['search', '/search.html?q=red+dress'],
    ['account', '/account.html'], ['cart', '/cart.html'],
    ['product-missing', '/product.html?id=999999999']];

async function pages() {
	const list = PAGES;
	for (const [vp, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
		const s = await session(size, { phone: vp === 'phone' });
		const { page } = s;
		for (const [name, url] of list) {
			await open(page, url, vp === 'desktop' ? null : `${name} (phone)`);
			await imagesLoaded(page, `${name} (${vp})`);
			await audit(page, `${name} (${vp})`);
			await shot(page, `${name}-${vp}`);
		}
		// A missing product is a 404 answer the browser logs; nothing else.
		noErrors(s, `every page (${vp})`, [404]);
		if (vp === 'phone') {
			await open(page, '/catalog.html');
			const btn = page.getByRole('button', { name: /^Filters/ });
			ok(await btn.isVisible() && await btn.getAttribute('aria-expanded') === 'false' &&
			    !await page.getByLabel('Gender', { exact: true }).isVisible(),
			    'phone: the filter panel is collapsed behind a "Filters" button');
			await btn.click();
			ok(await btn.getAttribute('aria-expanded') === 'true' &&
			    await page.getByLabel('Gender', { exact: true }).isVisible(), 'phone: the button opens it');
			await shot(page, 'catalog-filters-open-phone');
			await page.getByLabel('Gender', { exact: true }).selectOption('Women');
			await page.waitForURL(/gender=Women/);
			await ready(page);
			ok(/Filters \(1\)/.test(await btn.textContent()), 'phone: the button counts the active filters');
			noErrors(s, 'phone filters');
		} else {
			await open(page, '/catalog.html');
			ok(await page.getByLabel('Gender', { exact: true }).isVisible() &&
			    !await page.getByRole('button', { name: /^Filters/ }).isVisible(),
			    'desktop: the filter panel is always shown, no "Filters" button');
		}
		await s.context.close();
	}
}

// --- bench (bench/storefront): load times --------------------------------

// RUNS times each page: a cold load (a new browser context: empty cache,
// new connections) then a warm one (the same context again).  Signed in
// as the persona for the pages marked so.
async function bench() {
	const runs = Number(env.RUNS || 11);
	const list = PAGES.filter(([n]) => n !== 'product-missing').map((p) => [...p, false])
	    .concat([['home (signed in)', '/', true], ['account (signed in)', '/account.html', true]]);
	const out = {};
	for (const [name, url, signed] of list) {
		const cold = [], warm = [];
		for (let i = 0; i < runs; i++) {
			const s = await session();
			if (signed) {
				const r = await s.context.request.post(`${BASE}/api/v1/auth/login`, {
				    headers: { Origin: BASE }, data: { email: PERSONA.email, password: env.PERSONA_PASSWORD } });
				if (!r.ok()) bail(`login: ${r.status()}`);
				await s.context.addInitScript(() => localStorage.setItem('fashion_signed_in', '1'));
			}
			cold.push(await open(s.page, url));
			warm.push(await open(s.page, url));
			noErrors(s, `${name} run ${i + 1}`);
			await s.context.close();
		}
		out[name] = { cold: cold.map(Math.round), warm: warm.map(Math.round) };
	}
	fs.writeFileSync(path.join(SHOTS, 'bench.json'), JSON.stringify(out, null, 1));
}

// --- degraded: CLIP and Vector Search are down ----------------------------

async function degraded() {
	const s = await session();
	const { page } = s;
	await open(page, '/search.html?q=red+dress');
	const msg = await page.locator('#status').textContent();
	ok(/temporarily unavailable|took too long/.test(msg), `search down: a friendly message ("${msg}")`);
	await shot(page, 'search-down-desktop');
	await open(page, '/catalog.html');
	ok(await page.locator('#results .card').count() > 0, 'search down: the catalog still works');
	await open(page, `/product.html?id=${env.PHOTO_ID}`);
	ok(await page.locator('h1').isVisible(), 'search down: the product page still shows the product');
	const sm = await page.locator('#similar-section').textContent();
	ok(/unavailable|took too long|problem/i.test(sm), 'search down: similar items say why they are missing');
	await shot(page, 'product-search-down-desktop');
	noErrors(s, 'search down', [502, 503, 504]);
	await s.context.close();
}

async function nodb() {
	const s = await session();
	const { page } = s;
	for (const [name, url, sel] of [['home', '/', '#main'], ['catalog', '/catalog.html', '#status'],
	    ['product', `/product.html?id=${env.PHOTO_ID}`, '#status']]) {
		await open(page, url);
		const t = await page.locator(sel).textContent();
		ok(/temporarily unavailable/.test(t), `database down: ${name} shows a friendly message`) || diag(t);
		await shot(page, `${name}-db-down-desktop`);
	}
	noErrors(s, 'database down', [503]);
	await s.context.close();
}

const flows = { full: [home, browse, deepLink, search, photoSearch, persona, signup, cart, keyboard, pages],
    degraded: [degraded], nodb: [nodb], bench: [bench] }[PHASE];
if (!flows) bail(`unknown PHASE ${PHASE}`);
for (const f of flows) {
	try {
		await f();
	} catch (e) {
		ok(false, `${f.name}: ${e.message.split('\n')[0]}`);
		diag(e.stack);
	}
}
fs.writeFileSync(path.join(SHOTS, `timings-${PHASE}.json`), JSON.stringify(timings, null, 1));
for (const [k, v] of Object.entries(timings)) diag(`load ${k}: ${v.join(', ')} ms`);
await browser.close();
clearTimeout(watchdog);
process.exit(done());
