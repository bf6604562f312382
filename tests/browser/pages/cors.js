// Calls the Pipeline API from this page's origin with fetch and a bearer
// token, the way a browser front-end does, and writes what each step could
// read into the page: a table row per step and all outcomes as JSON in
// #results. From an origin the API does not allow, every fetch must reject.
'use strict';

const params = new URLSearchParams(location.hash.slice(1));
const api = params.get('api');
const token = params.get('token');
const name = params.get('name');
const results = {};

async function call(method, path, { body, headers = {}, auth = true } = {}) {
  const init = { method, headers: { ...headers }, cache: 'no-store' };
  if (auth) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(api + path, init);
  const text = await response.text();
  const header = (n) => response.headers.get(n);
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON: CSV, or empty */ }
  return {
    status: response.status,
    contentType: header('Content-Type'),
    requestId: header('X-Request-Id'),
    etag: header('ETag'),
    location: header('Location'),
    disposition: header('Content-Disposition'),
    // Not exposed: a page must not be able to read it.
    wwwAuthenticate: header('WWW-Authenticate'),
    json,
    text: json ? undefined : text,
  };
}

function show(label, outcome) {
  const row = document.createElement('tr');
  const cells = [label, outcome.rejected ? 'rejected' : String(outcome.status),
                 outcome.rejected ? outcome.error : JSON.stringify(outcome).slice(0, 160)];
  for (const text of cells) {
    const cell = document.createElement('td');
    cell.textContent = text;
    if (outcome.rejected) cell.className = 'fail';
    row.appendChild(cell);
  }
  document.getElementById('steps').appendChild(row);
}

async function step(label, run) {
  let outcome;
  try {
    outcome = await run();
  } catch (error) {
    outcome = { rejected: true, error: `${error.name}: ${error.message}` };
  }
  results[label] = outcome;
  show(label, outcome);
  return outcome;
}

async function main() {
  await step('health', () => call('GET', '/healthz', { auth: false }));
  await step('list', () => call('GET', '/accounts?limit=5'));
  await step('unauthorized', () => call('GET', '/accounts?limit=5', { auth: false }));
  const created = await step('create', () => call('POST', '/accounts', { body: { name } }));
  // From an origin that is not allowed nothing was created: use a path that would not exist.
  const where = created.location || '/accounts/0';
  const etag = created.etag || '"1"';
  await step('not_modified', () => call('GET', where, { headers: { 'If-None-Match': etag } }));
  const patched = await step('patch', () => call('PATCH', where, {
    body: { name: `${name} renamed` }, headers: { 'If-Match': etag } }));
  await step('stale_patch', () => call('PATCH', where, {
    body: { name: `${name} again` }, headers: { 'If-Match': etag } }));
  const key = `cors-${name}`;
  const keyed = { body: { name: `${name} keyed` }, headers: { 'Idempotency-Key': key } };
  await step('keyed_first', () => call('POST', '/accounts', keyed));
  await step('keyed_again', () => call('POST', '/accounts', keyed));
  await step('delete', () => call('DELETE', where, { headers: { 'If-Match': patched.etag || etag } }));
  await step('csv', () => call('GET', '/reports/forecast?period=this_year&split_by=owner&format=csv'));
}

main().finally(() => {
  document.getElementById('results').textContent = JSON.stringify(results);
  document.body.dataset.state = 'done';
});
