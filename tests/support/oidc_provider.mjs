// A real OpenID Connect provider for the tests (the npm package `oidc-provider`), on loopback.
// Started by tests/web/test_oidc_login.py, configured by environment variables:
//   OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, OIDC_COOKIE_KEY and
//   OIDC_ACCOUNTS: a JSON object, login name -> claims (uscc, role, name, email).
// Its development login form accepts any password for a listed login; it prints READY <port>.
import Provider from 'oidc-provider';

const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);
const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    profile: ['name'],
    email: ['email'],
    enterprise: ['uscc', 'role'],
  },
  scopes: ['openid', 'profile', 'email', 'enterprise'],
  pkce: { required: () => true },
  cookies: { keys: [process.env.OIDC_COOKIE_KEY] },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${port}\n`);
});
