// A real OpenID Provider for jitca's tests: panva's oidc-provider on
// 127.0.0.1, issuer http://127.0.0.1:PORT (plain http is what jitcad
// allows for a loopback issuer only).
//
//   node provider.mjs [PORT]     PORT (or $PORT) 0 or absent: a free one
//
// Prints "listening on http://127.0.0.1:PORT" once it serves, like jitcad.
// Signing keys (ES256 and RS256) are generated at start with jose.
// Accounts: any login name signs in (devInteractions, any password); the
// ID token carries preferred_username = the login name and groups from
// the JSON file named by $JITCA_OIDC_USERS ({"alice": ["engineering"]}),
// or the small table below.
//
// Clients, all public (token_endpoint_auth_method none, PKCE), native, so
// any loopback port of http://127.0.0.1/callback is allowed (RFC 8252
// section 7.3): "jitca" (ES256 ID tokens), "jitca-rs" (RS256) and
// "other" (ES256, for wrong-audience tests).
//
// Test-only endpoints, beside the provider's own:
//   GET  /test/id-token?client=C&login=L&nonce=N&scope=S
//        a real ID token: runs the authorization code flow with PKCE over
//        HTTP against this provider, through its login and consent pages,
//        and redeems the code at its token endpoint; answers
//        {"id_token": "..."}
//   POST /test/rotate   new signing keys; the old ones leave the JWKS
//   POST /test/sign     {"alg", "header", "payload"}: a JWS made with the
//        current key of alg, for tokens the provider would never issue
//        (wrong iss, several audiences); answers the compact JWS as text
//   GET  /test/pem?alg=RS256   the current public key as SPKI PEM
//   GET  /test/stats    {"discovery": n, "jwks": n} requests served
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const DEFAULT_USERS = {
  alice: ['engineering'],
  bob: ['sre-leads'],
  carol: ['engineering', 'sre-leads'],
};
const users = process.env.JITCA_OIDC_USERS
  ? JSON.parse(fs.readFileSync(process.env.JITCA_OIDC_USERS, 'utf8'))
  : DEFAULT_USERS;
const REDIRECT = 'http://127.0.0.1:49152/callback';
const stats = { discovery: 0, jwks: 0 };

let issuer;
let keys; // { ES256: {priv, pub, kid}, RS256: {...} }
let provider;
let handler;

async function newKeys() {
  const out = {};
  for (const [alg, opts] of [['ES256', {}], ['RS256', { modulusLength: 2048 }]]) {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { ...opts, extractable: true });
    const kid = `${alg.toLowerCase()}-${crypto.randomBytes(6).toString('hex')}`;
    const jwk = { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' };
    out[alg] = { priv: privateKey, pub: publicKey, kid, jwk };
  }
  return out;
}

function client(id, alg) {
  return {
    client_id: id,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    // jitca's loopback redirect, and the web pages' callback (test_ui.c).
    redirect_uris: ['http://127.0.0.1/callback', 'http://127.0.0.1/ui/oidc/callback'],
    grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    id_token_signed_response_alg: alg,
    require_auth_time: true,
  };
}

function makeProvider() {
  const p = new Provider(issuer, {
    clients: [client('jitca', 'ES256'), client('jitca-rs', 'RS256'), client('other', 'ES256')],
    jwks: { keys: [keys.ES256.jwk, keys.RS256.jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
    features: { devInteractions: { enabled: true }, deviceFlow: { enabled: true } },
    conformIdTokenClaims: false,
    scopes: ['openid', 'profile', 'groups'],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups'] },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return { sub, preferred_username: sub, name: sub, groups: users[sub] ?? [] };
        },
      };
    },
  });
  return p.callback();
}

// The authorization code flow, as a browser would run it, over HTTP.
async function mintIdToken(q) {
  const clientId = q.get('client') ?? 'jitca';
  const login = q.get('login') ?? 'alice';
  const scope = q.get('scope') ?? 'openid profile groups';
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const params = new URLSearchParams({
    client_id: clientId, response_type: 'code', scope, redirect_uri: REDIRECT,
    code_challenge: challenge, code_challenge_method: 'S256',
    state: crypto.randomBytes(8).toString('hex'),
  });
  if (q.get('nonce')) params.set('nonce', q.get('nonce'));
  const jar = new Map();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let url = `${issuer}/auth?${params}`;
  let init = {};
  for (let step = 0; step < 20; step++) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: cookie() } });
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      jar.set(kv.slice(0, i), kv.slice(i + 1));
    }
    init = {};
    if (res.status >= 300 && res.status < 400) {
      const loc = new URL(res.headers.get('location'), url);
      if (loc.href.startsWith(REDIRECT)) {
        const code = loc.searchParams.get('code');
        if (!code) throw new Error(`authorization failed: ${loc.search}`);
        const tok = await fetch(`${issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code', code, redirect_uri: REDIRECT,
            client_id: clientId, code_verifier: verifier,
          }),
        });
        const body = await tok.json();
        if (!body.id_token) throw new Error(`token endpoint: ${JSON.stringify(body)}`);
        return body.id_token;
      }
      url = loc.href;
      continue;
    }
    const page = await res.text();
    const action = page.match(/action="([^"]+)"/);
    const prompt = page.match(/name="prompt" value="(\w+)"/);
    if (res.status !== 200 || !action || !prompt) throw new Error(`unexpected page ${res.status} at ${url}`);
    const form = new URLSearchParams({ prompt: prompt[1] });
    if (prompt[1] === 'login') {
      form.set('login', login);
      form.set('password', 'any');
    }
    url = new URL(action[1].replaceAll('&amp;', '&'), url).href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    };
  }
  throw new Error('too many steps');
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { s += d; if (s.length > 65536) reject(new Error('body too large')); });
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

function reply(res, status, type, body) {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

async function testRoute(req, res, u) {
  if (req.method === 'GET' && u.pathname === '/test/id-token') {
    const token = await mintIdToken(u.searchParams);
    return reply(res, 200, 'application/json', JSON.stringify({ id_token: token }));
  }
  if (req.method === 'POST' && u.pathname === '/test/rotate') {
    keys = await newKeys();
    handler = makeProvider();
    return reply(res, 200, 'application/json', JSON.stringify({ ES256: keys.ES256.kid, RS256: keys.RS256.kid }));
  }
  if (req.method === 'POST' && u.pathname === '/test/sign') {
    const { alg, header, payload } = JSON.parse(await readBody(req));
    const k = keys[alg];
    if (!k) return reply(res, 400, 'text/plain', 'alg must be ES256 or RS256\n');
    const jws = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg, kid: k.kid, typ: 'JWT', ...(header ?? {}) })
      .sign(k.priv);
    return reply(res, 200, 'text/plain', jws);
  }
  if (req.method === 'GET' && u.pathname === '/test/pem') {
    const k = keys[u.searchParams.get('alg') ?? 'RS256'];
    if (!k) return reply(res, 400, 'text/plain', 'no such alg\n');
    return reply(res, 200, 'text/plain', await jose.exportSPKI(k.pub));
  }
  if (req.method === 'GET' && u.pathname === '/test/stats') {
    return reply(res, 200, 'application/json', JSON.stringify(stats));
  }
  return reply(res, 404, 'text/plain', 'no such test endpoint\n');
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname.startsWith('/test/')) {
    testRoute(req, res, u).catch((e) => {
      process.stderr.write(`provider: ${u.pathname}: ${e.stack}\n`);
      if (!res.headersSent) reply(res, 500, 'text/plain', `${e.message}\n`);
    });
    return;
  }
  if (u.pathname === '/.well-known/openid-configuration') stats.discovery++;
  if (u.pathname === '/jwks') stats.jwks++;
  handler(req, res);
});

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
server.on('error', (e) => {
  process.stderr.write(`provider: ${e.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', async () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  keys = await newKeys();
  handler = makeProvider();
  process.stdout.write(`listening on ${issuer}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
