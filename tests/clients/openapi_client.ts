// A /v1 client written against the types openapi-typescript generates from the served
// OpenAPI document (generated/karpov-v1.d.ts, made by openapi_client.mjs; not committed).
// Strict type-checking is part of the test: a field, an enum value or a required key the
// document gets wrong fails the compile before any call is made.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/karpov-v1.js";

type UserStatus = components["schemas"]["UserProto"]["status"];
const STATUSES: UserStatus[] = ["active", "pending_email", "locked", "disabled", "banned"];

export async function run(base: string) {
  const client = createClient<paths>({ baseUrl: base });
  // /v1 keeps the original's double-submit CSRF: echo the csrf_token cookie the server set.
  let csrf = "";
  const doubleSubmit: Middleware = {
    onRequest({ request }) {
      if (csrf && request.method !== "GET") {
        request.headers.set("Cookie", `csrf_token=${csrf}`);
        request.headers.set("X-CSRF-Token", csrf);
      }
      return request;
    },
    onResponse({ response }) {
      const found = /(?:^|,\s*)csrf_token=([^;]+)/.exec(response.headers.get("set-cookie") ?? "");
      if (found && !csrf) csrf = found[1];
      return response;
    },
  };
  client.use(doubleSubmit);

  const config = await client.GET("/v1/config/runtime");
  if (!config.data) throw new Error(`runtime config: ${config.response.status}`);
  const verification: boolean = config.data.data.email_verification.enabled;

  const email = `openapi-${Date.now()}@example.com`;
  const password = "Generated-Client-42-Horse";
  const registered = await client.POST("/v1/auth/register", { body: { email, password } });
  if (!registered.data) throw new Error(`register: ${JSON.stringify(registered.error)}`);
  const userId: string = registered.data.userId;

  const wrong = await client.POST("/v1/auth/login", { body: { email, password: "not-it" } });
  const refusal = wrong.error ? { status: wrong.response.status, code: wrong.error.code } : null;

  const login = await client.POST("/v1/auth/login", { body: { email, password } });
  if (!login.data || !("sid" in login.data)) throw new Error(`login: ${JSON.stringify(login.error)}`);
  const sid: string = login.data.sid;
  const session = { "X-Session-Id": sid };

  const me = await client.GET("/v1/auth/me", { headers: session });
  if (!me.data) throw new Error(`me: ${JSON.stringify(me.error)}`);
  const status: UserStatus = me.data.status;

  const created = await client.POST("/v1/auth/api-keys", {
    headers: session, body: { name: "generated client", scopes: ["music:read"], rateLimitRpm: 60 },
  });
  if (!created.data) throw new Error(`create key: ${JSON.stringify(created.error)}`);
  const secret: string = created.data.plaintext;
  const keyId: string = created.data.id;

  const listed = await client.GET("/v1/auth/api-keys", { headers: session });
  if (!listed.data) throw new Error(`list keys: ${JSON.stringify(listed.error)}`);

  const one = await client.GET("/v1/auth/api-keys/{id}", {
    params: { path: { id: keyId } }, headers: { "X-API-Key": secret },
  });
  if (!one.data) throw new Error(`get key by API key: ${JSON.stringify(one.error)}`);

  const sessions = await client.GET("/v1/auth/sessions", { headers: session });
  if (!sessions.data) throw new Error(`sessions: ${JSON.stringify(sessions.error)}`);

  return {
    verification: typeof verification,
    registered: userId === me.data.id,
    refusal,
    me: { email: me.data.email, status, known: STATUSES.includes(status), role: me.data.role },
    key: { name: created.data.name, scopes: created.data.scopes, prefixed: secret.startsWith(created.data.prefix) },
    listed: listed.data.items.map((k) => k.id),
    byApiKey: { id: one.data.data.id, status: one.data.data.status },
    sessions: sessions.data.data.items.filter((s) => s.current).length,
  };
}
