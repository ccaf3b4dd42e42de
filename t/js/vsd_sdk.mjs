// vsd_sdk.mjs - the official Databricks JS SDK (@databricks/sdk-experimental,
// pinned in package.json) against fashion-vsd; run by t/88-vsd-sdk.t, which
// writes the expectations.  Prints TAP (plan at the end); exit 1 if any test
// failed, 2 on a bail out.
//
// Environment: VSD_HOST (http://127.0.0.1:PORT, the nginx loopback block),
// DATABRICKS_TOKEN, VSD_INDEX, VSD_EXPECT (JSON file: query_vector, query_id,
// num_results, columns, expected [{id, score, ...}], filters [{filters_json,
// expected, check}], indexed_row_count, page_size).
//
// What the SDK does (read from dist/ of 0.14.2; 0.15+ need Node >= 22 while
// Debian 12 has Node 18, hence the pin):
// - Client: new WorkspaceClient(config, {agent}); the service is
//   w.vectorSearchIndexes (VectorSearchIndexesService).  PAT auth:
//   {host, token, authType: 'pat'} sends "Authorization: Bearer TOKEN".
//   Config attributes also come from process.env (DATABRICKS_HOST,
//   DATABRICKS_TOKEN, ...) unless config.env is given (here: {}), and from
//   ~/.databrickscfg unless host or auth is set: hermetic with env {}.
// - It insists on https: Config.fixHost() rewrites any host to
//   "https://" + hostname, DROPPING the scheme AND the port
//   (http://127.0.0.1:8090 becomes https://127.0.0.1), and ApiClient uses an
//   https.Agent unless ClientOptions.agent is given (an http URL with it
//   fails: ERR_INVALID_PROTOCOL).  So this test subclasses Config to keep
//   the origin as given and passes an http.Agent; all else (requests, auth
//   header, JSON, errors, retries) is the SDK's own code.
// - Wire (snake_case both ways; no camelCase conversion; requests are sent
//   as given, responses returned as parsed JSON):
//     getIndex({index_name})       GET  /api/2.0/vector-search/indexes/NAME
//     queryIndex({index_name, columns, query_vector, num_results,
//       filters_json, query_text, query_type, score_threshold, ...})
//                                  POST .../NAME/query, body has only the
//                                  fields given, filters_json a JSON string
//     queryNextPage({index_name, endpoint_name, page_token})
//                                  POST .../NAME/query-next-page,
//                                  body {endpoint_name, page_token}
//     syncIndex({index_name})      POST .../NAME/sync, no body
//                                  (Content-Length: 0, no Content-Type)
//   NAME goes into the path unencoded.  Headers: Accept: application/json,
//   User-Agent "unknown/0.0.0 databricks-sdk-js/0.14.2 nodejs/... auth/pat".
// - Errors: a status >= 400 rejects with ApiError {message, errorCode,
//   statusCode, response}, from a JSON body {"error_code", "message"} (both
//   needed; otherwise errorCode is the HTTP reason phrase and message
//   "Response from server (...) BODY").  429, or a message containing e.g.
//   "Unexpected error" or "connection refused", is retried with backoff
//   until retryTimeoutSeconds (default 300; 30 here).  Connection errors
//   reject with the plain Node error (ECONNREFUSED), not retried.

import http from 'node:http';
import fs from 'node:fs';
import sdk from '@databricks/sdk-experimental';
import { ok, diag, bail, done } from './tap.mjs';

const { WorkspaceClient, Config, ApiError } = sdk;

const env = process.env;
for (const v of ['VSD_HOST', 'DATABRICKS_TOKEN', 'VSD_INDEX', 'VSD_EXPECT']) {
	if (!env[v]) bail(`${v} not set`);
}
const expect = JSON.parse(fs.readFileSync(env.VSD_EXPECT, 'utf8'));
const INDEX = env.VSD_INDEX;
const watchdog = setTimeout(() => bail('no answer within 240 s'), 240000);
watchdog.unref();

// The SDK's Config, except that the host keeps its scheme and port.
class LoopbackConfig extends Config {
	fixHost() {
		if (this.host) this.host = new URL(this.host).origin;
	}
}

const agents = [];
function client(token) {
	const agent = new http.Agent({ keepAlive: true });
	agents.push(agent);
	return new WorkspaceClient(new LoopbackConfig({
		host: env.VSD_HOST, token, authType: 'pat', env: {},
		retryTimeoutSeconds: 30,
	}), { agent, product: 'fashion-vsd-test', productVersion: '0.0.0' });
}

const w = client(env.DATABRICKS_TOKEN);
const vs = w.vectorSearchIndexes;

// Await P; the error it rejects with (undefined when it resolves).
async function rejection(p) {
	try {
		await p;
		return undefined;
	} catch (e) {
		return e;
	}
}

function describe(e) {
	if (e === undefined) return 'resolved';
	return `${e.constructor?.name}: statusCode=${e.statusCode} ` +
	    `errorCode=${e.errorCode} code=${e.code} message=${e.message}`;
}

// Every page of a query: first queryIndex, then queryNextPage while there
// is a next_page_token.  {pages: [response...], rows: [...], error}.
async function queryAll(req, endpointName) {
	const pages = [];
	let rows = [];
	try {
		let r = await vs.queryIndex(req);
		pages.push(r);
		rows = rows.concat(r.result?.data_array ?? []);
		while (r.next_page_token) {
			if (pages.length > 100) throw new Error('more than 100 pages');
			const next = { index_name: req.index_name,
			    page_token: r.next_page_token };
			if (endpointName) next.endpoint_name = endpointName;
			r = await vs.queryNextPage(next);
			pages.push(r);
			rows = rows.concat(r.result?.data_array ?? []);
		}
	} catch (e) {
		return { pages, rows, error: e };
	}
	return { pages, rows };
}

// Ids in order as expected; a swap between rows whose expected scores are
// equal (a tie, which the service breaks by snapshot row order) is fine.
function sameRanking(got, want) {
	if (got.length !== want.length) return false;
	const score = new Map(want.map((x) => [x.id, x.score]));
	for (let i = 0; i < want.length; i++) {
		if (got[i] === want[i].id) continue;
		if (!score.has(got[i]) || Math.abs(score.get(got[i]) - want[i].score) > 1e-12)
			return false;
	}
	return new Set(got).size === got.length;
}

function columnNames(resp) {
	return (resp?.manifest?.columns ?? []).map((c) => c.name);
}

// --- getIndex ---------------------------------------------------------
let endpointName;
{
	const e = await rejection(vs.getIndex({ index_name: INDEX }).then((ix) => {
		endpointName = ix.endpoint_name;
		ok(ix.name === INDEX, `getIndex: name is ${INDEX}`) || diag(JSON.stringify(ix));
		ok(ix.status?.ready === true, 'getIndex: status.ready is true') ||
		    diag(JSON.stringify(ix.status));
		ok(Number(ix.status?.indexed_row_count) === expect.indexed_row_count,
		    `getIndex: status.indexed_row_count is ${expect.indexed_row_count}`) ||
		    diag(`got ${ix.status?.indexed_row_count}`);
		ok(ix.primary_key === 'product_id', 'getIndex: primary_key is product_id') ||
		    diag(`got ${ix.primary_key}`);
	}));
	if (e) {
		ok(false, 'getIndex resolves');
		diag(describe(e));
		bail('getIndex failed; the rest would fail too');
	}
}

// --- queryIndex: the brute-force top 10 -----------------------------------
const cols = expect.columns;
{
	const q = await queryAll({ index_name: INDEX, columns: cols,
	    query_vector: expect.query_vector, num_results: expect.num_results },
	    endpointName);
	ok(!q.error, `queryIndex (query_vector, ${cols.length} columns, num_results ${expect.num_results}) resolves`) ||
	    diag(describe(q.error));
	const first = q.pages[0];
	const names = columnNames(first);
	ok(names.length === cols.length + 1 && cols.every((c, i) => names[i] === c) &&
	    names[names.length - 1] === 'score',
	    `manifest columns are ${cols.join(', ')}, score`) || diag(JSON.stringify(first?.manifest));
	if (first?.manifest?.column_count !== undefined)
		ok(first.manifest.column_count === names.length, 'manifest column_count matches') ||
		    diag(JSON.stringify(first.manifest));
	ok(q.pages.every((p) => (p.result?.data_array ?? []).length === Number(p.result?.row_count ?? 0)),
	    'result.row_count is the number of rows, on every page') ||
	    diag(JSON.stringify(q.pages.map((p) => p.result?.row_count)));
	const ids = q.rows.map((r) => Number(r[0]));
	const scores = q.rows.map((r) => Number(r[r.length - 1]));
	const want = expect.expected;
	ok(sameRanking(ids, want), `${want.length} rows, ids in the brute-force order`) ||
	    diag(`got      ${JSON.stringify(ids)}\nexpected ${JSON.stringify(want.map((x) => x.id))}`);
	let worst = 0;
	for (let i = 0; i < Math.min(scores.length, want.length); i++) {
		const s = want.find((x) => x.id === ids[i])?.score ?? want[i].score;
		worst = Math.max(worst, Math.abs(scores[i] - s));
	}
	ok(scores.length === want.length && worst <= 1e-6,
	    `scores match 1/(1 + d2) within 1e-6 (worst ${worst.toExponential(2)})`) ||
	    diag(`got      ${JSON.stringify(scores)}\nexpected ${JSON.stringify(want.map((x) => x.score))}`);
	ok(ids[0] === expect.query_id && Math.abs(scores[0] - 1) <= 1e-9,
	    `the query's own product ${expect.query_id} ranks first with score 1`) ||
	    diag(`first row: ${JSON.stringify(q.rows[0])}`);
	const types = q.rows.map((r) => r[1]);
	ok(types.length === want.length &&
	    types.every((t, i) => t === want.find((x) => x.id === ids[i])?.article_type),
	    'article_type of every row is the product\'s') || diag(JSON.stringify(q.rows));
	ok(scores.every((s, i) => i === 0 || s <= scores[i - 1]), 'scores are non-increasing') ||
	    diag(JSON.stringify(scores));

	// Pagination: with vs.page_size below num_results the rows come in
	// pages, each but the last full, the last one without a token.
	if (expect.page_size && expect.page_size < want.length) {
		const pages = Math.ceil(want.length / expect.page_size);
		ok(q.pages.length === pages,
		    `${pages} pages of at most ${expect.page_size} rows (queryNextPage)`) ||
		    diag(`got ${q.pages.length} pages: ${JSON.stringify(q.pages.map((p) => p.result?.row_count))}`);
		ok(q.pages.slice(0, -1).every((p) => p.result?.data_array?.length === expect.page_size),
		    'every page but the last is full') ||
		    diag(JSON.stringify(q.pages.map((p) => p.result?.row_count)));
		ok(q.pages.slice(1).every((p) => JSON.stringify(columnNames(p)) === JSON.stringify(names)),
		    'next pages have the same manifest columns') ||
		    diag(JSON.stringify(q.pages.map((p) => p.manifest)));
		const e = await rejection(vs.queryNextPage({ index_name: INDEX,
		    ...(endpointName ? { endpoint_name: endpointName } : {}),
		    page_token: 'not-a-page-token' }));
		ok(e instanceof ApiError && e.statusCode >= 400 && e.statusCode < 500,
		    'queryNextPage with a made-up page_token: an ApiError, 4xx') || diag(describe(e));
	}
}

// --- filters_json ---------------------------------------------------------
for (const f of expect.filters ?? []) {
	const q = await queryAll({ index_name: INDEX, columns: cols,
	    query_vector: expect.query_vector, num_results: expect.num_results,
	    filters_json: f.filters_json }, endpointName);
	ok(!q.error, `queryIndex with filters_json ${f.filters_json} resolves`) || diag(describe(q.error));
	const ids = q.rows.map((r) => Number(r[0]));
	ok(sameRanking(ids, f.expected), `  ${f.expected.length} rows, the brute-force matches in order`) ||
	    diag(`got      ${JSON.stringify(ids)}\nexpected ${JSON.stringify(f.expected.map((x) => x.id))}`);
	for (const [col, val] of Object.entries(f.check ?? {})) {
		const i = cols.indexOf(col);
		ok(q.rows.length > 0 && q.rows.every((r) => r[i] === val), `  every row has ${col} = ${val}`) ||
		    diag(JSON.stringify(q.rows));
	}
}

// --- errors -------------------------------------------------------------
const MISSING = INDEX.replace(/[^.]*$/, 'no_such_index');
{
	let e = await rejection(vs.getIndex({ index_name: MISSING }));
	ok(e instanceof ApiError, `getIndex(${MISSING}) rejects with an ApiError`) || diag(describe(e));
	ok(e?.statusCode === 404 && e?.errorCode === 'RESOURCE_DOES_NOT_EXIST',
	    '  404, error_code RESOURCE_DOES_NOT_EXIST') || diag(describe(e));
	ok(/does not exist|not found/i.test(e?.message ?? ''), '  the message says it does not exist') ||
	    diag(describe(e));

	e = await rejection(vs.queryIndex({ index_name: MISSING, columns: cols,
	    query_vector: expect.query_vector, num_results: 3 }));
	ok(e instanceof ApiError && e.statusCode === 404 && e.errorCode === 'RESOURCE_DOES_NOT_EXIST',
	    'queryIndex on a missing index: ApiError 404 RESOURCE_DOES_NOT_EXIST') || diag(describe(e));

	e = await rejection(vs.queryIndex({ index_name: INDEX, columns: cols,
	    query_vector: expect.query_vector, num_results: 3,
	    filters_json: '{"no_such_column": "x"}' }));
	ok(e instanceof ApiError && e.statusCode === 400, 'a filter on an unknown column: ApiError 400') ||
	    diag(describe(e));
	ok(/no_such_column/.test(e?.message ?? ''), '  the message names the column') || diag(describe(e));

	e = await rejection(vs.queryIndex({ index_name: INDEX, columns: cols,
	    query_vector: expect.query_vector.slice(0, 7), num_results: 3 }));
	ok(e instanceof ApiError && e.statusCode === 400, 'a query_vector of the wrong dimension: ApiError 400') ||
	    diag(describe(e));

	const wrong = `${env.DATABRICKS_TOKEN}-wrong`;
	const bad = client(wrong).vectorSearchIndexes;
	e = await rejection(bad.getIndex({ index_name: INDEX }));
	ok(e instanceof ApiError && (e.statusCode === 401 || e.statusCode === 403),
	    'getIndex with a wrong token: ApiError 401/403') || diag(describe(e));
	ok(/UNAUTHENTICATED|PERMISSION_DENIED|INVALID_TOKEN|Unauthorized|Forbidden/i.test(e?.errorCode ?? ''),
	    `  error_code says so (${e?.errorCode})`) || diag(describe(e));
	ok(!String(e?.message).includes(wrong), '  the message does not echo the token');
	e = await rejection(bad.queryIndex({ index_name: INDEX, columns: cols,
	    query_vector: expect.query_vector, num_results: 3 }));
	ok(e instanceof ApiError && (e.statusCode === 401 || e.statusCode === 403),
	    'queryIndex with a wrong token: ApiError 401/403') || diag(describe(e));
}

// --- syncIndex ------------------------------------------------------------
{
	const e = await rejection(vs.syncIndex({ index_name: INDEX }));
	ok(!e, 'syncIndex resolves') || diag(describe(e));
	let ix;
	const until = Date.now() + 60000;
	for (;;) {
		ix = await vs.getIndex({ index_name: INDEX }).catch((x) => ({ error: describe(x) }));
		if (ix.status?.ready === true || Date.now() > until) break;
		await new Promise((r) => setTimeout(r, 200));
	}
	ok(ix.status?.ready === true && Number(ix.status?.indexed_row_count) === expect.indexed_row_count,
	    'after the sync the index is ready with the same row count') || diag(JSON.stringify(ix));
	const q = await queryAll({ index_name: INDEX, columns: cols,
	    query_vector: expect.query_vector, num_results: expect.num_results }, endpointName);
	ok(!q.error && sameRanking(q.rows.map((r) => Number(r[0])), expect.expected),
	    'and queries give the same rows') || diag(q.error ? describe(q.error) : JSON.stringify(q.rows));
}

const status = done();
for (const a of agents) a.destroy();
process.exit(status);
