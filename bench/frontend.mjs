// Front-end latency: `bdlc check` in-process (parse + resolve + check of a model file and its
// imports, fresh cache each time) and the whole CLI (node start-up + check) as a user runs it.
// Prints one JSON line per measurement. Run: npm run bench -- --suite frontend [--json]
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { checkFile } from "../dist/compiler/semantics/check.js";
import { ParseCache } from "../dist/compiler/semantics/program.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = fileURLToPath(new URL("../bin/bdlc.js", import.meta.url));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeInProcess(file, runs) {
  for (let i = 0; i < 5; i++) checkFile(file, new ParseCache()); // warm the JIT
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = checkFile(file, new ParseCache());
    times.push(performance.now() - t0);
    if (r.diagnostics.some((d) => d.severity === "error")) throw new Error(`${file} has errors`);
  }
  return { median_ms: median(times), max_ms: Math.max(...times) };
}

function timeCli(file, runs) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, [bin, "check", "--quiet", file], { cwd: root, stdio: "pipe" });
    times.push(performance.now() - t0);
  }
  return { median_ms: median(times), max_ms: Math.max(...times) };
}

export function runFrontend({ runs = 50, cliRuns = 10 } = {}) {
  const rows = [];
  for (const file of ["models/bert.bdl", "models/distilbert-mini.bdl"]) {
    const first = performance.now();
    checkFile(file, new ParseCache());
    const cold = performance.now() - first;
    rows.push({
      suite: "frontend",
      measure: "check_in_process",
      file,
      cold_ms: round(cold),
      ...roundAll(timeInProcess(file, runs)),
      target_ms: 50,
    });
    rows.push({ suite: "frontend", measure: "cli_startup_and_check", file, ...roundAll(timeCli(file, cliRuns)), target_ms: 300 });
  }
  return rows;
}

function round(x) {
  return Math.round(x * 100) / 100;
}
function roundAll(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]));
}
