// A real OpenID Connect provider for tests (npm `oidc-provider` v9, from e2e/node_modules):
// one confidential client, accounts whose claims tests can change, and sign-ins that finish
// without a form, so reqwest or a browser can walk through them.
//
// From a Playwright test (or any ESM code):
//
//   import { startProvider } from '../../scripts/oidc_provider.mjs';
//   const idp = await startProvider({
//     port: 0,                                   // 0: a free port; read idp.port / idp.issuer
//     clientId: 'weft', clientSecret: 'secret',
//     redirectUris: ['http://127.0.0.1:8080/api/auth/oidc/callback'],
//     accounts: { alice: { preferred_username: 'alice', email: 'alice@example.com', weft_role: 'editor' } },
//   });
//   idp.login('alice');                          // who the next sign-in is (default: the first account)
//   idp.setClaims('alice', { weft_role: 'viewer' });
//   // start `weft serve --oidc-issuer ${idp.issuer} --oidc-client-id weft --oidc-client-secret secret`
//   await idp.close();
//
// From the command line (the Rust tests do this): `node scripts/oidc_provider.mjs` with the
// options as JSON in `OIDC_PROVIDER_OPTIONS`. It prints one line, `{"issuer": …, "port": …}`,
// and runs until its standard input closes. The same two controls are HTTP calls then:
// `POST /_test/login {"account": "alice"}` and `POST /_test/accounts/alice {claims}` (merged).
//
// The flow: Weft's `/api/auth/oidc/login` sends the browser to `/auth`, which sends it to
// `/interaction/<uid>`; that page signs the chosen account in and grants what was asked at
// once (no login or consent form), so the browser goes back to `/auth/<uid>` and on to the
// redirect URI with `code` and `state`. Claims listed under the `profile` scope (including
// `weft_role` and `groups`) reach userinfo; with `idTokenClaims: true` there is no userinfo
// endpoint and they are in the ID token. The module is found in `WEFT_E2E_DIR` (default: `e2e/` next to this script).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const e2e = process.env.WEFT_E2E_DIR ?? join(here, '..', 'e2e');

/** Starts a provider; resolves once it listens. */
export async function startProvider({
  port = 0,
  host = '127.0.0.1',
  clientId = 'weft',
  clientSecret = 'weft-test-secret',
  redirectUris,
  accounts = {},
  idTokenClaims = false,
} = {}) {
  const { default: Provider } = await import(
    pathToFileURL(join(e2e, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href
  );
  const claims = new Map(Object.entries(accounts).map(([id, c]) => [id, { ...c }]));
  let next = claims.keys().next().value;

  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address().port;
  const issuer = `http://${host}:${bound}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['preferred_username', 'name', 'weft_role', 'groups'],
    },
    conformIdTokenClaims: !idTokenClaims,
    // `idTokenClaims`: no userinfo endpoint, every claim in the ID token.
    features: { devInteractions: { enabled: false }, userinfo: { enabled: !idTokenClaims } },
    pkce: { required: () => true },
    findAccount(ctx, id) {
      if (!claims.has(id)) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...claims.get(id) }) };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider:', err));

  // Every interaction finishes at once: login as `next`, then consent to what was asked.
  async function interact(req, res) {
    try {
      const details = await provider.interactionDetails(req, res);
      const { prompt, params, session } = details;
      if (prompt.name === 'login') {
        if (!claims.has(next)) throw new Error(`no account ${next} to sign in`);
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: next } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${err.message}`);
    }
  }

  async function body(req) {
    let text = '';
    for await (const chunk of req) text += chunk;
    return text ? JSON.parse(text) : {};
  }

  // Test controls over HTTP, for a test that runs this as a child process.
  async function control(req, res) {
    try {
      const url = new URL(req.url, issuer);
      const input = await body(req);
      if (req.method === 'POST' && url.pathname === '/_test/login') {
        next = input.account;
      } else if (req.method === 'POST' && url.pathname.startsWith('/_test/accounts/')) {
        const id = decodeURIComponent(url.pathname.slice('/_test/accounts/'.length));
        claims.set(id, { ...(claims.get(id) ?? {}), ...input });
      } else {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(204).end();
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(err.message);
    }
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url.startsWith('/interaction/')) return interact(req, res);
    if (req.url.startsWith('/_test/')) return control(req, res);
    return callback(req, res);
  });

  return {
    issuer,
    port: bound,
    login(account) {
      next = account;
    },
    setClaims(account, more) {
      claims.set(account, { ...(claims.get(account) ?? {}), ...more });
    },
    close() {
      return new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
    },
  };
}

// Run directly: options from OIDC_PROVIDER_OPTIONS, the address on stdout, stop when stdin ends.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const options = JSON.parse(process.env.OIDC_PROVIDER_OPTIONS ?? '{}');
  const idp = await startProvider(options);
  process.stdout.write(`${JSON.stringify({ issuer: idp.issuer, port: idp.port })}\n`);
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => idp.close().then(() => process.exit(0)));
  process.stdin.resume();
}
