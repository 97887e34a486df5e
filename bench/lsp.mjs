// Language-server latency: the built `bdlc lsp --stdio`, driven over its stdio as an editor
// drives it, timing didOpen → publishDiagnostics, hover (on a property key and on the model's
// name) and completion (in the model body) on reference models, each over `runs` requests
// after a warm-up. One row per measure and file: median and p95 in ms.
// Run: npm run bench -- --suite lsp [--json]   (or node bench/lsp.mjs, after npm run build)
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-languageserver/node";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = fileURLToPath(new URL("../bin/bdlc.js", import.meta.url));

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

const round = (x) => Math.round(x * 100) / 100;

/** 0-based line and character of the first `needle` in `text`, `shift` characters in. */
function positionOf(text, needle, shift = 0) {
  const at = text.indexOf(needle) + shift;
  const before = text.slice(0, at).split("\n");
  return { line: before.length - 1, character: before.at(-1).length };
}

async function time(runs, warmup, once) {
  for (let i = 0; i < warmup; i++) await once();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  return { median_ms: round(quantile(times, 0.5)), p95_ms: round(quantile(times, 0.95)), runs };
}

export async function runLspBench({ runs = 50, warmup = 5, files = ["models/bert.bdl", "models/electra.bdl"] } = {}) {
  const child = spawn(process.execPath, [bin, "lsp", "--stdio"], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map();
  connection.onNotification("textDocument/publishDiagnostics", (p) => {
    const resolve = waiting.get(p.uri);
    waiting.delete(p.uri);
    resolve?.(p.diagnostics);
  });
  connection.listen();
  const published = (uri, send) => {
    const next = new Promise((resolve) => waiting.set(uri, resolve));
    send();
    return next;
  };
  await connection.sendRequest("initialize", { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities: {} });
  await connection.sendNotification("initialized", {});

  const rows = [];
  for (const file of files) {
    const uri = pathToFileURL(`${root}/${file}`).href;
    const text = readFileSync(`${root}/${file}`, "utf8");
    const open = () =>
      published(uri, () =>
        connection.sendNotification("textDocument/didOpen", { textDocument: { uri, languageId: "bdl", version: 1, text } }),
      );
    const close = () => published(uri, () => connection.sendNotification("textDocument/didClose", { textDocument: { uri } }));
    // Each open is timed to its diagnostics; the close between two opens is not timed.
    rows.push({ measure: "didOpen_to_diagnostics", file, ...(await time(runs, warmup, async () => (await open(), await close()))) });
    const opened = await open();
    if (opened.some((d) => d.severity === 1)) throw new Error(`${file} has errors`);
    const model = text.match(/^model (\S+)/m)[1];
    const key = text.match(/^ {2}(pooler|hidden)\b/m)[1];
    const request = (method, position) => () => connection.sendRequest(method, { textDocument: { uri }, position });
    rows.push({
      measure: "hover_property",
      file,
      ...(await time(runs, warmup, request("textDocument/hover", positionOf(text, `  ${key}`, 3)))),
    });
    rows.push({
      measure: "hover_model",
      file,
      ...(await time(runs, warmup, request("textDocument/hover", positionOf(text, `model ${model}`, 7)))),
    });
    rows.push({
      measure: "completion",
      file,
      ...(await time(runs, warmup, request("textDocument/completion", positionOf(text, `  ${key}`, 2)))),
    });
    await close();
  }
  await connection.sendRequest("shutdown");
  await connection.sendNotification("exit");
  await new Promise((resolve) => child.on("exit", resolve));
  connection.dispose();
  return rows.map((r) => ({ suite: "lsp", ...r }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const row of await runLspBench()) console.log(JSON.stringify(row));
}
