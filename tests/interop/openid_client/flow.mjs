// One relying app's whole life with Jati, written with panva's openid-client v6 as its
// documentation shows, for each app of the config read from stdin. Run by
// tests/interop/test_openid_client.py, which starts `jati serve`, registers the apps with
// the CLI and asserts on what this prints: one JSON object, each app's steps in order with
// what openid-client returned, or the first step that threw and its error. A step that
// throws ends that app's run; the other apps still run.
//
// stdin: {issuer, redirect_uri, citizen: {nik, password},
//         apps: [{name, client_id, scope, auth, client_secret?, private_jwk?,
//                 id_token_signed_response_alg}]}
//   auth: client_secret_basic | client_secret_post | private_key_jwt

import { readFile } from "node:fs/promises";
import * as client from "openid-client";
import { Browser, formsOf, hiddenFields } from "./browser.mjs";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** What a thrown error says, as JSON (openid-client's ClientError/ResponseBodyError and
 * oauth4webapi's OperationProcessingError carry `code`, `error`, `status`, `cause`). */
function describe(error) {
  const seen = {
    name: error?.name,
    message: error?.message,
    code: error?.code,
    error: error?.error,
    error_description: error?.error_description,
    status: error?.status,
  };
  const cause = error?.cause;
  if (cause !== undefined) {
    try {
      seen.cause = JSON.parse(JSON.stringify(cause, (k, v) => (v instanceof URL ? v.href : v)));
    } catch {
      seen.cause = String(cause);
    }
  }
  return Object.fromEntries(Object.entries(seen).filter(([, v]) => v !== undefined));
}

async function importPrivateKey(jwk) {
  const algorithm =
    jwk.kty === "OKP" ? { name: "Ed25519" } : { name: "ECDSA", namedCurve: jwk.crv };
  const { kty, crv, x, y, d } = jwk;
  return crypto.subtle.importKey("jwk", { kty, crv, x, y, d }, algorithm, false, ["sign"]);
}

async function clientAuthentication(app) {
  switch (app.auth) {
    case "client_secret_basic":
      return client.ClientSecretBasic(app.client_secret);
    case "client_secret_post":
      return client.ClientSecretPost(app.client_secret);
    case "private_key_jwt":
      return client.PrivateKeyJwt({ key: await importPrivateKey(app.private_jwk), kid: app.private_jwk.kid });
    default:
      throw new Error(`unknown client authentication ${app.auth}`);
  }
}

/** Drive Jati's pages from the authorization URL to the redirect back to the app: sign in
 * when asked, and on the consent screen say yes to every purpose. */
async function signInAndConsent(browser, url, citizen) {
  const pages = [];
  let page = await browser.open(url);
  for (let step = 0; step < 5 && !page.location; step++) {
    const forms = formsOf(page.html);
    const login = forms.find((f) => f.inputs.some((i) => i.name === "nik"));
    const consent = forms.find((f) => "notice_hash" in hiddenFields(f));
    if (login) {
      pages.push("login");
      page = await browser.submit(page.url, login, {
        ...hiddenFields(login),
        nik: citizen.nik,
        password: citizen.password,
      });
    } else if (consent) {
      pages.push("consent");
      const choices = Object.fromEntries(
        consent.inputs.filter((i) => i.type === "radio" && i.value === "yes").map((i) => [i.name, "yes"]),
      );
      page = await browser.submit(page.url, consent, { ...hiddenFields(consent), ...choices, action: "submit" });
    } else {
      throw new Error(`unexpected page ${new URL(page.url).pathname} (${page.status}): ${page.html.slice(0, 300)}`);
    }
  }
  if (!page.location) throw new Error("Jati never redirected back to the app");
  return { pages, callback: new URL(page.location) };
}

async function runApp(app, settings, browser) {
  const steps = {};
  let current = "setup";
  const step = async (name, body) => {
    current = name;
    const started = performance.now();
    const result = await body();
    steps[name] = { ...result, ms: Math.round(performance.now() - started) };
  };
  try {
    let config, tokens, claims, refreshed;
    const auth = await clientAuthentication(app);

    await step("discovery", async () => {
      config = await client.discovery(
        new URL(settings.issuer),
        app.client_id,
        { id_token_signed_response_alg: app.id_token_signed_response_alg },
        auth,
        // loopback http issuer; and verify every ID token's signature against the JWKS,
        // selecting the key by kid and alg as openid-client does
        { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] },
      );
      const metadata = config.serverMetadata();
      return {
        issuer: metadata.issuer,
        supports_pkce: metadata.supportsPKCE(),
        code_challenge_methods_supported: metadata.code_challenge_methods_supported,
        id_token_signing_alg_values_supported: metadata.id_token_signing_alg_values_supported,
        token_endpoint_auth_methods_supported: metadata.token_endpoint_auth_methods_supported,
      };
    });

    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    let callback;
    await step("authorization", async () => {
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirect_uri,
        scope: app.scope,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
        nonce,
      });
      const driven = await signInAndConsent(browser, url, settings.citizen);
      callback = driven.callback;
      return {
        pages: driven.pages,
        callback_parameters: [...callback.searchParams.keys()].sort(),
        state_returned: callback.searchParams.get("state") === state,
        iss: callback.searchParams.get("iss"),
      };
    });

    await step("authorization_code_grant", async () => {
      tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
      const [header] = tokens.id_token.split(".");
      return {
        token_type: tokens.token_type,
        scope: tokens.scope,
        expires_in: tokens.expiresIn(),
        has_refresh_token: typeof tokens.refresh_token === "string",
        id_token_header: decodeSegment(header),
        id_token_claims: claims,
        expected_nonce: nonce,
      };
    });

    await step("userinfo", async () => ({
      userinfo: await client.fetchUserInfo(config, tokens.access_token, claims.sub),
    }));

    await step("refresh_token_grant", async () => {
      refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
      const idClaims = refreshed.id_token ? refreshed.claims() : undefined;
      return {
        token_type: refreshed.token_type,
        access_token_rotated: refreshed.access_token !== tokens.access_token,
        refresh_token_rotated:
          typeof refreshed.refresh_token === "string" && refreshed.refresh_token !== tokens.refresh_token,
        id_token_header: refreshed.id_token ? decodeSegment(refreshed.id_token.split(".")[0]) : null,
        id_token_sub: idClaims?.sub ?? null,
      };
    });

    await step("introspection", async () => ({
      access_token: await client.tokenIntrospection(config, refreshed.access_token),
      refresh_token: await client.tokenIntrospection(config, refreshed.refresh_token, {
        token_type_hint: "refresh_token",
      }),
    }));

    await step("revocation", async () => {
      const answer = await client.tokenRevocation(config, refreshed.refresh_token, {
        token_type_hint: "refresh_token",
      });
      let refreshAfter;
      try {
        await client.refreshTokenGrant(config, refreshed.refresh_token);
        refreshAfter = { refused: false };
      } catch (error) {
        refreshAfter = { refused: true, ...describe(error) };
      }
      return {
        answer: answer ?? null,
        access_token_after: await client.tokenIntrospection(config, refreshed.access_token),
        refresh_token_after: await client.tokenIntrospection(config, refreshed.refresh_token),
        refresh_after: refreshAfter,
      };
    });
    return { steps };
  } catch (error) {
    return { steps, failed: { step: current, error: describe(error) } };
  }
}

const settings = await readStdin();
const installed = JSON.parse(
  await readFile(new URL("./node_modules/openid-client/package.json", import.meta.url), "utf8"),
);
const browser = new Browser(settings.redirect_uri); // one citizen, one session for every app
const apps = {};
for (const app of settings.apps) {
  apps[app.name] = await runApp(app, settings, browser);
}
process.stdout.write(JSON.stringify({ node: process.version, openid_client: installed.version, apps }) + "\n");
