#!/usr/bin/env node
// The CLI is compiled and bundled into dist/ by `npm run build`, which `npm ci` and
// `npm install` run automatically (the `prepare` script).
let cli;
try {
  cli = await import("../dist/bundle/cli.js");
} catch (e) {
  if (e?.code !== "ERR_MODULE_NOT_FOUND" || !String(e.message).includes("dist/bundle/cli.js")) throw e;
  process.stderr.write("bdlc: the CLI is not built yet: run `npm run build` in the bdl folder.\n");
  process.exit(2);
}
process.exitCode = await cli.main(process.argv.slice(2));
