// tap.mjs - the few TAP functions the JS tests print with (plan at the
// end); FashionTest::replay_tap turns the lines into Test::More tests.
let n = 0;
let failed = 0;

export function ok(cond, name) {
	n++;
	if (!cond) failed++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${String(name).replace(/\n/g, ' ')}`);
	return !!cond;
}

export function is(got, want, name) {
	const r = ok(got === want, name);
	if (!r) diag(`got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
	return r;
}

export function diag(msg) {
	for (const l of String(msg).split('\n')) console.log(`# ${l}`);
}

export function bail(msg) {
	console.log(`Bail out! ${msg}`);
	process.exit(2);
}

// Prints the plan; the exit status to use (1 when a test failed).
export function done() {
	console.log(`1..${n}`);
	return failed ? 1 : 0;
}
