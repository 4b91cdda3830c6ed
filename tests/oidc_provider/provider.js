// A real OpenID Provider for the single sign-on tests: panva/oidc-provider
// (OpenID Certified), configured from one JSON document on the command line:
// { "port", "issuer", "jwks": {"keys": [private JWK]}, "clients": [...],
//   "accounts": { "<id>": { "email", "email_verified", "acr", "amr" } } }.
// Its login and consent pages are the smallest forms that finish the
// interactions: the login form takes the account id (no password: the test
// plays the person), the consent form grants what the client asked.
// Prints "ready <issuer>" on stdout once it listens.
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2]);
const accounts = config.accounts;

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: config.jwks,
  acrValues: ['urn:sexto:test:password', 'urn:sexto:test:mfa'],
  // acr and amr in every ID token, as Entra ID and Keycloak put them.
  claims: { openid: ['sub', 'acr', 'amr', 'auth_time'], email: ['email', 'email_verified'] },
  // The email claims in the ID token, as Google, Keycloak and Entra ID (with
  // its optional claims) put them.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600 },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, id) => {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      claims: async () => ({ sub: id, email: account.email, email_verified: account.email_verified }),
    };
  },
});

function form(res, uid, action, field) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<form method="post" action="/interaction/${uid}/${action}">${field}<button>OK</button></form>`);
}

async function body(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

async function interaction(req, res) {
  const [, , uid, action] = req.url.split('?')[0].split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    if (details.prompt.name === 'login') return form(res, uid, 'login', '<input name="login">');
    return form(res, uid, 'confirm', '');
  }
  if (action === 'login') {
    const id = (await body(req)).get('login');
    const account = accounts[id];
    if (!account) {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'unknown' });
    }
    const login = { accountId: id };
    if (account.acr) login.acr = account.acr;
    if (account.amr) login.amr = account.amr;
    return provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    const { prompt: { details: missing }, params, session: { accountId } } = details;
    const grant = new provider.Grant({ accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    if (missing.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  res.writeHead(404);
  res.end();
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err && err.message));
    });
    return;
  }
  callback(req, res);
});
// A browser retries a request on a kept-alive connection the server has just
// closed; the tests' httpx browser does not. Node closes idle connections after
// 5 s, which a loaded run can leave between two steps of one sign-in, so the
// provider here keeps them as long as the test needs them.
server.keepAliveTimeout = 10 * 60 * 1000;
server.headersTimeout = server.keepAliveTimeout + 1000;
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${config.issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
