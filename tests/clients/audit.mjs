// The GraphQL-over-HTTP conformance audit of the npm package graphql-http (the one behind
// the GraphQL Foundation's server list) against a running server: node audit.mjs URL.
// Prints one JSON line: {"ok": n, "warn": n, "error": n, "results": [...]}.
import { auditServer } from "graphql-http";

const url = process.argv[2];
if (!url) {
  console.error("usage: node audit.mjs http://127.0.0.1:PORT/graphql");
  process.exit(2);
}
const results = await auditServer({ url });
const counts = { ok: 0, warn: 0, error: 0 };
const report = [];
for (const result of results) {
  counts[result.status] += 1;
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    entry.reason = result.reason;
    if (result.response) {
      entry.httpStatus = result.response.status;
      entry.body = await result.response.text().catch(() => "");
    }
  }
  report.push(entry);
}
console.log(JSON.stringify({ ...counts, results: report }));
