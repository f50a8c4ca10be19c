// Stock GraphQL clients against a running Karpov, as a newcomer would use them: a URL and,
// after signing in, a token. node stock_clients.mjs <graphql-request|apollo|apollo-apq> URL
// Prints one JSON line with what each step saw (the Python test asserts on it).
import { createHash, randomUUID } from "node:crypto";

const [which, url] = process.argv.slice(2);
const PASSWORD = "Correct-Horse-42-Battery";
const REGISTER = `mutation Register($input: AccountRegisterInput!) {
  accountRegister(input: $input) { result { user { email } } errors { code message } }
}`;
const LOGIN = `mutation Login($input: AccountLoginInput!) {
  accountLogin(input: $input) { result { sid } errors { code message } }
}`;
const VIEWER = `query Viewer { viewer { email } }`;
const CREATE_KEY = `mutation CreateKey($input: ApiKeyCreateInput!) {
  apiKeyCreate(input: $input) { issued { plaintext } errors { code message } }
}`;

// Every HTTP exchange, for the test to look at.
const exchanges = [];
async function loggingFetch(input, init = {}) {
  const response = await fetch(input, init);
  const body = typeof init.body === "string" ? init.body : "";
  const copy = response.clone();
  let codes = [];
  try {
    const parsed = JSON.parse(await copy.text());
    codes = (parsed.errors || []).map((e) => e.extensions && e.extensions.code);
  } catch {}
  exchanges.push({
    method: (init.method || "GET").toUpperCase(),
    sentQuery: body.includes('"query"') || String(input).includes("query="),
    hashed: body.includes("persistedQuery") || String(input).includes("persistedQuery"),
    status: response.status,
    contentType: response.headers.get("content-type"),
    codes,
  });
  return response;
}

const email = () => `client-${randomUUID()}@example.com`;

async function withGraphqlRequest() {
  const { GraphQLClient, gql } = await import("graphql-request");
  const client = new GraphQLClient(url, { fetch: loggingFetch });
  const out = {};
  out.typename = (await client.request(gql`{ __typename }`)).__typename;
  out.introspection = (await client.request(gql`{ __schema { queryType { name } } }`)).__schema
    .queryType.name;
  const address = email();
  const registered = await client.request(REGISTER, { input: { email: address, password: PASSWORD } });
  out.registered = registered.accountRegister.result.user.email === address;
  const login = await client.request(LOGIN, { input: { email: address, password: PASSWORD } });
  const sid = login.accountLogin.result.sid;
  const signedIn = new GraphQLClient(url, { fetch: loggingFetch, headers: { authorization: `Bearer ${sid}` } });
  out.viewer = (await signedIn.request(VIEWER)).viewer.email === address;
  const key = await signedIn.request(CREATE_KEY, { input: { name: "first key" } });
  const plaintext = key.apiKeyCreate.issued.plaintext;
  const byKey = new GraphQLClient(url, { fetch: loggingFetch, headers: { "x-api-key": plaintext } });
  out.byKey = (await byKey.request(`{ __typename }`)).__typename;
  return out;
}

async function apolloClient(extraLinks = [], headers = {}) {
  const { ApolloClient, InMemoryCache, HttpLink, ApolloLink } = await import("@apollo/client");
  const http = new HttpLink({ uri: url, fetch: loggingFetch, headers });
  return new ApolloClient({
    link: ApolloLink.from([...extraLinks, http]),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: "no-cache" } },
  });
}

async function withApollo() {
  const { gql } = await import("@apollo/client");
  const client = await apolloClient();
  const out = {};
  out.typename = (await client.query({ query: gql`query Hello { __typename }` })).data.__typename;
  const address = email();
  const registered = await client.mutate({
    mutation: gql(REGISTER), variables: { input: { email: address, password: PASSWORD } },
  });
  out.registered = registered.data.accountRegister.result.user.email === address;
  const login = await client.mutate({
    mutation: gql(LOGIN), variables: { input: { email: address, password: PASSWORD } },
  });
  const signedIn = await apolloClient([], { authorization: `Bearer ${login.data.accountLogin.result.sid}` });
  out.viewer = (await signedIn.query({ query: gql(VIEWER) })).data.viewer.email === address;
  return out;
}

async function withApolloPersistedQueries() {
  const { gql } = await import("@apollo/client");
  const { PersistedQueryLink } = await import("@apollo/client/link/persisted-queries");
  const sha256 = (text) => createHash("sha256").update(text).digest("hex");
  const out = {};
  const queries = {
    post: gql`query TimezoneByPost { runtimeConfig { timezone } }`,
    get: gql`query TimezoneByGet { runtimeConfig { timezone } }`,
  };
  for (const [name, useGET] of [["post", false], ["get", true]]) {
    const query = queries[name];
    const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: useGET });
    const client = await apolloClient([link]);
    const start = exchanges.length;
    const first = await client.query({ query, fetchPolicy: "no-cache" });
    const second = await client.query({ query, fetchPolicy: "no-cache" });
    out[name] = {
      first: first.data.runtimeConfig.timezone,
      second: second.data.runtimeConfig.timezone,
      exchanges: exchanges.slice(start),
    };
  }
  return out;
}

const run = { "graphql-request": withGraphqlRequest, apollo: withApollo, "apollo-apq": withApolloPersistedQueries }[which];
if (!run || !url) {
  console.error("usage: node stock_clients.mjs <graphql-request|apollo|apollo-apq> URL");
  process.exit(2);
}
try {
  const result = await run();
  console.log(JSON.stringify({ ok: true, result, exchanges }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error && (error.stack || error)), exchanges }));
  process.exit(1);
}
