// Pretraining recipes compared at equal compute on the built-in downstream task: each model
// pretrains for as many steps as spend the budget (the FLOPs of `--budget-steps` steps of the
// first model, by src/model/flops.ts), then fine-tunes on wordnet-lexname once per seed;
// held-out accuracy and macro-F1 per seed, their mean, and what each run cost. JSON on stdout.
//
//   node bench/compare-encoders.mjs [--models bert-mini,electra-mini,modernbert-mini]
//     [--budget-steps 400] [--seeds 0,1,2] [--max-examples 4000] [--out runs/compare]
//
// One pretraining run per model (seed 0): the seeds vary the fine-tuning (sample, order,
// head initialisation, dropout), as is usual for GLUE-style comparisons.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkFile } from "../dist/compiler/semantics/check.js";
import { trainingStepFlops } from "../dist/model/flops.js";

const { values } = parseArgs({
  options: {
    models: { type: "string", default: "bert-mini,electra-mini,modernbert-mini" },
    "budget-steps": { type: "string", default: "400" },
    seeds: { type: "string", default: "0,1,2" },
    "max-examples": { type: "string", default: "4000" },
    out: { type: "string", default: "runs/compare" },
  },
});
const names = values.models.split(",");
const seeds = values.seeds.split(",").map(Number);
const ROOT = new URL("..", import.meta.url).pathname;

function bdlc(args) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/bdlc.js"), ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bdlc ${args.join(" ")} exited ${r.status}:\n${r.stderr}`);
  return { stdout: r.stdout, seconds: (Date.now() - started) / 1000 };
}

const models = names.map((name) => {
  const file = join(ROOT, "models", `${name}.bdl`);
  const model = checkFile(file).resolutions.get(name).model;
  return { name, file, model, stepFlops: trainingStepFlops(model, model.train.batch, model.train.seq) };
});
const budget = Number(values["budget-steps"]) * models[0].stepFlops;
mkdirSync(values.out, { recursive: true });

const rows = [];
for (const m of models) {
  const steps = Math.round(budget / m.stepFlops);
  const run = join(values.out, m.name);
  const pretrain = bdlc(["train", m.file, "--steps", String(steps), "--out", run, "--save-every", String(steps), "--seed", "0"]);
  const log = readFileSync(join(run, "log.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const evaluation = log.filter((e) => e.kind === "eval").at(-1);
  const finetunes = seeds.map((seed) => {
    const f = bdlc([
      "finetune",
      run,
      "--task",
      "wordnet-lexname",
      "--seed",
      String(seed),
      "--max-examples",
      values["max-examples"],
      "--json",
    ]);
    const r = JSON.parse(f.stdout);
    return { seed, accuracy: r.accuracy, macro_f1: r.macro_f1, seconds: f.seconds };
  });
  const mean = (key) => finetunes.reduce((a, f) => a + f[key], 0) / finetunes.length;
  const row = {
    model: m.name,
    pretrain_steps: steps,
    pretrain_pflops: Number(((steps * m.stepFlops) / 1e15).toFixed(3)),
    step_gflops: Number((m.stepFlops / 1e9).toFixed(1)),
    pretrain_seconds: pretrain.seconds,
    held_out_mlm_loss: evaluation?.mlm_loss ?? null,
    finetune: finetunes,
    mean_accuracy: Number(mean("accuracy").toFixed(4)),
    mean_macro_f1: Number(mean("macro_f1").toFixed(4)),
  };
  rows.push(row);
  console.error(
    `${m.name}: ${steps} steps, accuracy ${finetunes.map((f) => f.accuracy.toFixed(3)).join(" / ")} (mean ${row.mean_accuracy})`,
  );
}
const result = { budget_pflops: Number((budget / 1e15).toFixed(3)), task: "wordnet-lexname", seeds, rows };
writeFileSync(join(values.out, "compare.json"), JSON.stringify(result, null, 2) + "\n");
console.log(JSON.stringify(result));
