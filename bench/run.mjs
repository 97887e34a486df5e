// `npm run bench -- [--suite frontend] [--json]`: benchmarks, one JSON object per line with --json.
import { parseArgs } from "node:util";
import { runFrontend } from "./frontend.mjs";

const { values } = parseArgs({
  options: { suite: { type: "string", default: "frontend" }, json: { type: "boolean" } },
  allowPositionals: false,
});
const suites = { frontend: runFrontend };
const run = suites[values.suite];
if (!run) {
  console.error(`bench: unknown suite '${values.suite}' (have: ${Object.keys(suites).join(", ")})`);
  process.exit(1);
}
for (const row of run()) {
  if (values.json) console.log(JSON.stringify(row));
  else console.log(`${row.measure.padEnd(24)} ${row.file.padEnd(28)} median ${row.median_ms} ms  max ${row.max_ms} ms  (target < ${row.target_ms} ms)`);
}
