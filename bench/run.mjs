// `npm run bench -- [--config C] [--backend B] [--suite frontend|lsp|train|corpus] [--steps N] [--json]
//                   [--corpus-mb N]
//                   [--torch [--device cpu|cuda] [--python P] [--threads N]]`
// Benchmarks, one JSON object per line with --json (readable lines otherwise). Without --config or
// --suite: the front-end latency suite, the language server's latency (bench/lsp.mjs: didOpen to
// diagnostics, hover, completion), then training throughput for tiny and mini on the default backend.
//
// --config takes comma-separated names from bench/configs.json, or its groups:
//   default         tiny, mini (what runs without --config)
//   scaling         the whole sweep: scaling-hidden then scaling-seq
//   scaling-hidden  h128 … h768: hidden 128–768, 4 layers, seq 128, batch 8
//   scaling-seq     s64 … s512: mini's sizes at seq 64–512, 1024 tokens per step
//
// --torch: after bdl's rows, runs bench/torch_reference.py (eager PyTorch, the same model and step)
// for the same configs and prints its rows, then one `compare` row per config with bdl/torch ratios
// of train and infer tokens/s (above 1: bdl is faster). --python picks the interpreter (default
// /usr/bin/python3 if present, else python3: Debian's python3-torch lives there); --device is torch's
// (cpu or cuda); --threads sets torch's intra-op threads (default: every CPU this process may use).
// A missing python or torch prints one line on stderr and the bdl rows still stand.
//
// --engine tfjs|torch|both: whose training rows (default tfjs): bdl's torch engine (bench/torch-engine.mjs:
// the PyTorch module bdl compiles, stepped with the support package's optimizer, `suite: "torch-engine"`),
// or both; with --torch, a `compare` row per engine and config against torch_reference.py, and with
// both, one more of the torch engine against the tfjs engine.
//
// --suite corpus: the data pipeline's peak RSS and time on a generated text corpus of --corpus-mb MB
// (default 500), one `bdlc train` step of bert-mini (see bench/corpus.mjs); not in the default run.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runCorpusBench } from "./corpus.mjs";
import { runFrontend } from "./frontend.mjs";
import { runLspBench } from "./lsp.mjs";
import { CONFIG_GROUPS, resolveConfigs, runTrainBench } from "./train.mjs";
import { runTorchEngineBench } from "./torch-engine.mjs";

const { values } = parseArgs({
  options: {
    suite: { type: "string" },
    config: { type: "string" },
    backend: { type: "string", default: "auto" },
    steps: { type: "string", default: "10" },
    json: { type: "boolean" },
    torch: { type: "boolean" },
    python: { type: "string" },
    device: { type: "string", default: "cpu" },
    threads: { type: "string" },
    "corpus-mb": { type: "string", default: "500" },
    engine: { type: "string", default: "tfjs" },
  },
  allowPositionals: false,
});

const fmt = (n) => Math.round(n).toLocaleString("en-US");

function print(row) {
  if (values.json) console.log(JSON.stringify(row));
  else if (row.suite === "frontend")
    console.log(
      `${row.measure.padEnd(24)} ${row.file.padEnd(28)} median ${row.median_ms} ms  max ${row.max_ms} ms  (target < ${row.target_ms} ms)`,
    );
  else if (row.suite === "lsp")
    console.log(
      `lsp ${row.measure.padEnd(22)} ${row.file.padEnd(20)} median ${row.median_ms} ms  p95 ${row.p95_ms} ms  (${row.runs} requests)`,
    );
  else if (row.suite === "torch-engine")
    console.log(
      `${row.config} on bdl's torch engine (torch ${row.torch} ${row.device}, ${row.threads} threads): ` +
        `train ${fmt(row.train_tokens_per_s)} tokens/s (${row.train_step_ms} ms/step), infer ${fmt(row.infer_tokens_per_s)} tokens/s`,
    );
  else if (row.suite === "compare-engines")
    console.log(
      `${row.config}: torch engine / tfjs engine: train ${row.torch_engine_over_tfjs_train}×, infer ${row.torch_engine_over_tfjs_infer}×`,
    );
  else if (row.suite === "torch")
    console.log(
      `${row.config} on torch ${row.torch} ${row.device} (${row.threads} threads): ` +
        `train ${fmt(row.train_tokens_per_s)} tokens/s (${row.train_step_ms} ms/step), ` +
        `infer ${fmt(row.infer_tokens_per_s)} tokens/s (${row.infer_step_ms} ms); ${fmt(row.params)} params`,
    );
  else if (row.suite === "compare")
    console.log(
      `${row.config}: bdl ${row.backend} / torch ${row.torch_device}: ` +
        `train ${row.train_ratio}× (${fmt(row.bdl_train_tokens_per_s)} vs ${fmt(row.torch_train_tokens_per_s)} tokens/s), ` +
        `infer ${row.infer_ratio}× (${fmt(row.bdl_infer_tokens_per_s)} vs ${fmt(row.torch_infer_tokens_per_s)} tokens/s)` +
        (row.params_match ? "" : `; PARAMETER COUNTS DIFFER (bdl ${row.bdl_params}, torch ${row.torch_params})`),
    );
  else if (row.suite === "corpus")
    console.log(
      `corpus of ${row.corpus_mb} MB (${fmt(row.training_sequences)} sequences): one bert-mini step in ${row.seconds} s, ` +
        `peak RSS ${row.peak_rss_mb} MB (${row.wordnet_peak_rss_mb} MB on wordnet: the corpus costs ${row.corpus_rss_mb} MB)`,
    );
  else
    console.log(
      `${row.config} on ${row.backend}: train ${row.train_tokens_per_s} tokens/s (${row.step_ms} ms/step), infer ${row.infer_tokens_per_s} tokens/s; matmul ${row.matmul_gflops} GFLOP/s, step ${row.step_gflops} GFLOP/s; peak RSS ${row.peak_rss_mb} MB`,
    );
}

/**
 * torch_reference.py's rows for `configs`, printed as they arrive. Resolves to [] (after one line on
 * stderr) when python or torch is missing or the script fails, so the bdl rows still stand.
 */
function runTorch(configs, steps) {
  const python = values.python ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  const script = fileURLToPath(new URL("./torch_reference.py", import.meta.url));
  // Warm-up 2, as runTrainBench, so both sides time the same steps.
  const args = [script, "--configs", configs.join(","), "--steps", String(steps), "--warmup", "2", "--device", values.device];
  if (values.threads) args.push("--threads", values.threads);
  return new Promise((resolve) => {
    const rows = [];
    const ownLines = []; // torch_reference.py's own error lines, shown once in the line printed at exit
    // PASSIVE: OpenMP's worker threads sleep between parallel regions instead of spinning on the cores.
    const child = spawn(python, args, { env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" }, stdio: ["ignore", "pipe", "pipe"] });
    let lastLine = "";
    createInterface({ input: child.stderr }).on("line", (line) => {
      if (line.startsWith("torch_reference: ")) ownLines.push(line.slice("torch_reference: ".length));
      else process.stderr.write(`${line}\n`); // warnings, tracebacks
      if (line.trim()) lastLine = line.trim();
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        const row = JSON.parse(line);
        rows.push(row);
        print(row);
      } catch {
        process.stderr.write(`${line}\n`);
      }
    });
    let failedToStart = false;
    child.on("error", (e) => {
      failedToStart = true;
      console.error(`bench: skipping the PyTorch comparison: cannot run '${python}' (${e.code ?? e.message}); pass --python PATH`);
      resolve([]);
    });
    child.on("close", (code) => {
      if (failedToStart) return; // 'close' may follow 'error' when the spawn itself failed
      const why = ownLines.join("; ") || lastLine;
      // Exit 3: torch is not installed, or --device cuda without CUDA.
      if (code === 3) console.error(`bench: skipping the PyTorch comparison: ${why}`);
      else if (code !== 0 && code !== null)
        console.error(`bench: torch_reference.py failed (exit ${code}${why ? `: ${why}` : ""}); ${rows.length} torch rows`);
      else if (code === null) console.error("bench: torch_reference.py was killed; comparing the rows it printed");
      resolve(rows);
    });
  });
}

function compareRow(bdl, torch) {
  const ratio = (a, b) => Number((a / b).toFixed(3));
  return {
    suite: "compare",
    config: bdl.config,
    backend: bdl.backend,
    torch_device: torch.device,
    train_ratio: ratio(bdl.train_tokens_per_s, torch.train_tokens_per_s),
    infer_ratio: ratio(bdl.infer_tokens_per_s, torch.infer_tokens_per_s),
    bdl_train_tokens_per_s: bdl.train_tokens_per_s,
    torch_train_tokens_per_s: torch.train_tokens_per_s,
    bdl_infer_tokens_per_s: bdl.infer_tokens_per_s,
    torch_infer_tokens_per_s: torch.infer_tokens_per_s,
    // Both sides count their own parameters; a mismatch means they no longer build the same model.
    params_match: bdl.params === torch.params,
    bdl_params: bdl.params,
    torch_params: torch.params,
  };
}

const suites = values.suite ? [values.suite] : values.config ? ["train"] : ["frontend", "lsp", "train"];
for (const suite of suites) {
  if (suite === "frontend") runFrontend().forEach(print);
  else if (suite === "lsp") (await runLspBench()).forEach(print);
  else if (suite === "corpus") print(runCorpusBench({ megabytes: Number(values["corpus-mb"]), backend: values.backend }));
  else if (suite === "train") {
    let configs;
    try {
      configs = resolveConfigs(values.config ?? CONFIG_GROUPS.default.join(","));
    } catch (e) {
      console.error(`bench: ${e.message}`);
      process.exit(1);
    }
    const steps = Number(values.steps);
    if (!["tfjs", "torch", "both"].includes(values.engine)) {
      console.error(`bench: --engine must be tfjs, torch or both, not '${values.engine}'`);
      process.exit(1);
    }
    const bdlRows = [];
    if (values.engine !== "torch") {
      for (const config of configs) {
        const row = await runTrainBench({ config, backend: values.backend, steps });
        bdlRows.push(row);
        print(row);
      }
    }
    // One engine at a time, and the reference after both: they would compete for the same cores.
    const engineRows =
      values.engine === "tfjs" ? [] : runTorchEngineBench(configs, { steps, python: values.python, device: values.device });
    engineRows.forEach(print);
    if (values.torch) {
      const torchRows = await runTorch(configs, steps);
      for (const bdl of [...bdlRows, ...engineRows.map((r) => ({ ...r, backend: "torch-engine" }))]) {
        const torch = torchRows.find((r) => r.config === bdl.config);
        if (torch) print(compareRow(bdl, torch));
      }
    }
    for (const engine of engineRows) {
      const tfjs = bdlRows.find((r) => r.config === engine.config);
      if (tfjs)
        print({
          suite: "compare-engines",
          config: engine.config,
          torch_engine_over_tfjs_train: Number((engine.train_tokens_per_s / tfjs.train_tokens_per_s).toFixed(2)),
          torch_engine_over_tfjs_infer: Number((engine.infer_tokens_per_s / tfjs.infer_tokens_per_s).toFixed(2)),
        });
    }
  } else {
    console.error(`bench: unknown suite '${suite}' (have: frontend, lsp, train, corpus)`);
    process.exit(1);
  }
}
