// The /v1 OpenAPI document generates a working client (issue 11, item 7): openapi-typescript
// turns the served document into TypeScript types, the TypeScript compiler type-checks
// openapi_client.ts (openapi-fetch calls written against those types) in strict mode and
// emits it, and the emitted client then makes real calls against the server.
//
// usage: node openapi_client.mjs <base URL> <work dir>
// Prints one JSON line: {"generated": bytes, "diagnostics": [...], "result": {...}}.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const here = path.dirname(fileURLToPath(import.meta.url));
const [base, work] = process.argv.slice(2);
const out = { generated: 0, diagnostics: [], result: null };
try {
  const ast = await openapiTS(new URL(`${base}/v1/docs/openapi.json`));
  const types = astToString(ast);
  out.generated = types.length;
  // Generated next to the client source (node_modules resolves from here), emitted to work.
  const genDir = path.join(here, "generated");
  fs.mkdirSync(genDir, { recursive: true });
  fs.writeFileSync(path.join(genDir, "karpov-v1.d.ts"), types);
  const program = ts.createProgram([path.join(here, "openapi_client.ts")], {
    strict: true, noEmitOnError: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    outDir: work, rootDir: here, skipLibCheck: true,
  });
  const emitted = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  out.diagnostics = diagnostics.map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, "\n") +
    (d.file ? ` (${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1})` : ""));
  if (!out.diagnostics.length) {
    // The emitted client imports openapi-fetch: link this folder's node_modules beside it.
    const link = path.join(work, "node_modules");
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(here, "node_modules"), link, "dir");
    fs.writeFileSync(path.join(work, "package.json"), '{"type": "module"}');
    const client = await import(pathToFileURL(path.join(work, "openapi_client.js")).href);
    out.result = await client.run(base);
  }
} catch (error) {
  out.error = String(error && error.stack || error);
}
console.log(JSON.stringify(out));
process.exit(out.result && !out.error ? 0 : 1);
