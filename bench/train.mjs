// Training and inference throughput of the same post-LN BERT that the eager PyTorch baseline
// (bench/torch_reference.py) measures (tied MLM head, 15% of positions predicted, AdamW): one JSON
// line per config and backend. Runs the bundled CLI's compiler and runtime (npm run build first).
import { readFileSync } from "node:fs";
import { checkFile, loadGraph } from "../dist/bundle/api.js";
import * as rt from "../dist/bundle/runtime.js";

// The sizes live in configs.json so that torch_reference.py reads the very same ones.
// (readFileSync rather than a JSON import: `import … with { type: "json" }` needs Node 20.10+, engines allows 20.0.)
const CONFIG_FILE = JSON.parse(readFileSync(new URL("./configs.json", import.meta.url), "utf8"));
export const CONFIGS = CONFIG_FILE.configs;
/** Named lists of configs (`default`, `scaling`, `scaling-hidden`, `scaling-seq`). */
export const CONFIG_GROUPS = CONFIG_FILE.groups;

/** `tiny,scaling` → ["tiny", "h128", …]: group names expand, duplicates are dropped, unknown names throw. */
export function resolveConfigs(list) {
  const names = list
    .split(",")
    .filter(Boolean)
    .flatMap((n) => CONFIG_GROUPS[n] ?? [n]);
  for (const n of names) {
    if (!CONFIGS[n])
      throw new Error(`unknown config '${n}' (have: ${Object.keys(CONFIGS).join(", ")}; groups: ${Object.keys(CONFIG_GROUPS).join(", ")})`);
  }
  return [...new Set(names)];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The backend's own speed on a 1024×256 · 256×1024 product, GFLOP/s. */
function matmulGflops(tf) {
  const a = tf.randomNormal([1024, 256]);
  const b = tf.randomNormal([256, 1024]);
  tf.matMul(a, b).dataSync();
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    times.push(performance.now() - t0);
  }
  a.dispose();
  b.dispose();
  return (2 * 1024 * 256 * 1024) / (median(times) / 1000) / 1e9;
}

/** Forward FLOPs of one step: the encoder's products for every token, the MLM head for the predicted ones. */
function forwardFlops(c, predicted) {
  const tokens = c.batch * c.seq;
  const perLayer = 2 * tokens * (4 * c.hidden * c.hidden + 2 * c.hidden * c.intermediate) + 2 * 2 * c.batch * c.seq * c.seq * c.hidden;
  return c.layers * perLayer + 2 * predicted * (c.hidden * c.hidden + c.hidden * c.vocab);
}

/** The bench's resolved model for `config`: bert-mini's block at the config's sizes, MLM only, no dropout. */
export function benchModel(config) {
  const c = CONFIGS[config];
  if (!c) throw new Error(`unknown config '${config}' (have: ${Object.keys(CONFIGS).join(", ")})`);
  const base = checkFile(new URL("../models/bert-mini.bdl", import.meta.url).pathname).resolutions.get("bert-mini").model;
  return {
    ...base,
    name: `bench-${config}`,
    vocab: c.vocab,
    hidden: c.hidden,
    layers: c.layers,
    heads: c.heads,
    intermediate: c.intermediate,
    dropout: 0,
    attention_dropout: 0,
    pooler: "none",
    objectives: [{ name: "mlm", weight: 1 }],
    embeddings: { ...base.embeddings, positions: c.seq },
    train: { ...base.train, seq: c.seq },
  };
}

/** The bench model on `backend`, its AdamW state and one fixed batch. */
export async function setUpBench(config, backend) {
  const c = CONFIGS[config];
  const model = benchModel(config);
  const used = await rt.useBackend(backend);
  const { tf } = rt;
  const { graph } = await loadGraph(model, null);
  const weights = rt.initialWeights(graph.parameters, 0, 0);
  const state = {
    variables: rt.trainableVariables(weights),
    optimizer: rt.createOptimizer(
      { kind: "adamw", lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-6, weight_decay: 0.01 },
      { noDecay: () => false },
    ),
    clipNorm: 1,
  };
  // Fixed inputs, as torch_bert.py: random ids, 15% of positions predicted.
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const ids = Array.from({ length: c.batch }, () => Array.from({ length: c.seq }, () => 5 + Math.floor(rand() * (c.vocab - 5))));
  const labels = ids.map((row) => row.map((v) => (rand() < 0.15 ? v : -100)));
  const predicted = labels.flat().filter((l) => l !== -100).length;
  const x = { inputIds: tf.tensor2d(ids, undefined, "int32"), attentionMask: tf.ones([c.batch, c.seq], "int32") };
  const y = { labels: tf.tensor2d(labels, undefined, "int32") };
  return { c, used, tf, graph, state, x, y, predicted };
}

export async function runTrainBench({ config, backend = "auto", steps = 10, warmup = 2 }) {
  const { c, used, tf, graph, state, x, y, predicted } = await setUpBench(config, backend);
  const params = graph.bindParams((n) => state.variables.get(n));
  const trainStep = () => graph.trainStep(state, 1e-4, x, y, rt.EVAL);
  const inferStep = () =>
    tf.tidy(() => {
      const out = graph.encode(params, x, rt.EVAL);
      return tf.sum(graph.mlmLogits(params, rt.flattenPositions(out.lastHiddenState))).dataSync()[0];
    });
  const time = (fn) => {
    for (let i = 0; i < warmup; i++) fn();
    const times = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      fn();
      times.push(performance.now() - t0);
    }
    return median(times);
  };
  const trainMs = time(trainStep);
  const inferMs = time(inferStep);
  const tokens = c.batch * c.seq;
  const row = {
    suite: "train",
    config,
    backend: used,
    // Which device webgpu ran on: a GPU, or a software rasterizer such as llvmpipe.
    ...(used === "webgpu" ? { adapter: rt.webgpuAdapter() } : {}),
    ...c,
    train_tokens_per_s: Math.round(tokens / (trainMs / 1000)),
    infer_tokens_per_s: Math.round(tokens / (inferMs / 1000)),
    step_ms: Math.round(trainMs),
    infer_ms: Math.round(inferMs),
    matmul_gflops: Number(matmulGflops(tf).toFixed(1)),
    // Backward costs about twice the forward pass.
    step_gflops: Number(((3 * forwardFlops(c, predicted)) / (trainMs / 1000) / 1e9).toFixed(2)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    // Trainable parameters, to check that torch_reference.py builds the same model.
    params: graph.parameters.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0),
  };
  state.optimizer.dispose();
  for (const v of state.variables.values()) v.dispose();
  return row;
}
