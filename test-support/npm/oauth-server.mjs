// A real OAuth 2 server for the integration tests: oauth2-mock-server (authorization code with
// PKCE, client credentials, refresh), on a free loopback port. Each token request is printed as
// one JSON line (what was asked, what was issued) so a test can check what ferrocat sent;
// TOKEN_TTL sets the lifetime the answers announce, so a test can make tokens due for refresh.
const { OAuth2Server } = await import(process.env.OAUTH2_MOCK_SERVER);
const ttl = Number(process.env.TOKEN_TTL ?? '3600');
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.service.on('beforeResponse', (response, req) => {
  if (response.body && response.body.access_token) response.body.expires_in = ttl;
  const asked = req.body ?? {};
  console.log(JSON.stringify({
    event: 'token',
    grant_type: asked.grant_type,
    client_id: asked.client_id,
    client_secret: asked.client_secret,
    scope: asked.scope,
    refresh_token: asked.refresh_token,
    code_verifier: asked.code_verifier,
    redirect_uri: asked.redirect_uri,
    status: response.statusCode,
    issued_access_token: response.body?.access_token,
    issued_refresh_token: response.body?.refresh_token,
  }));
});
await server.start(0, '127.0.0.1');
console.log(JSON.stringify({ event: 'ready', url: server.issuer.url.replace('localhost', '127.0.0.1') }));
