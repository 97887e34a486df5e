// `npm run bench -- [--config tiny|mini] [--backend B] [--suite frontend|train] [--json]`:
// benchmarks, one JSON object per line with --json. Without --config or --suite: the
// front-end latency suite, then training throughput for tiny and mini on the default backend.
import { parseArgs } from "node:util";
import { runFrontend } from "./frontend.mjs";
import { CONFIGS, runTrainBench } from "./train.mjs";

const { values } = parseArgs({
  options: {
    suite: { type: "string" },
    config: { type: "string" },
    backend: { type: "string", default: "auto" },
    steps: { type: "string", default: "10" },
    json: { type: "boolean" },
  },
  allowPositionals: false,
});

function print(row) {
  if (values.json) console.log(JSON.stringify(row));
  else if (row.suite === "frontend") console.log(`${row.measure.padEnd(24)} ${row.file.padEnd(28)} median ${row.median_ms} ms  max ${row.max_ms} ms  (target < ${row.target_ms} ms)`);
  else console.log(`${row.config} on ${row.backend}: train ${row.train_tokens_per_s} tokens/s (${row.step_ms} ms/step), infer ${row.infer_tokens_per_s} tokens/s; matmul ${row.matmul_gflops} GFLOP/s, step ${row.step_gflops} GFLOP/s; peak RSS ${row.peak_rss_mb} MB`);
}

const suites = values.suite ? [values.suite] : values.config ? ["train"] : ["frontend", "train"];
for (const suite of suites) {
  if (suite === "frontend") runFrontend().forEach(print);
  else if (suite === "train") {
    for (const config of values.config ? values.config.split(",") : Object.keys(CONFIGS)) {
      print(await runTrainBench({ config, backend: values.backend, steps: Number(values.steps) }));
    }
  } else {
    console.error(`bench: unknown suite '${suite}' (have: frontend, train)`);
    process.exit(1);
  }
}
