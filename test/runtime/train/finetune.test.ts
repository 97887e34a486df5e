/**
 * Fine-tuning a sequence classifier. In process: the head reads the pooler's output when the
 * model has a pooler and the [CLS] hidden state when it has none; inputs are [CLS] text [SEP]
 * cut to seq; a run on a separable task learns it and frees every tensor it made. Through the
 * built CLI on a tiny pretrained model: `bdlc finetune` reports accuracy and macro-F1 and
 * writes finetune.json, `--from-scratch` runs the same budget, and bad input (a task file with
 * the wrong columns, a checkpoint that does not exist) exits 1 leaving nothing behind.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bdlc, gloss, ROOT, wordnetNounLines, writeGlossCorpus } from "../../helpers/training.js";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import { loadGraph } from "../../../src/app/graph-loader.js";
import type { ResolvedModel } from "../../../src/model/model.js";
import type { Task } from "../../../src/runtime/data/types.js";
import { initialWeights } from "../../../src/runtime/init.js";
import { EVAL } from "../../../src/runtime/layers/dropout.js";
import { parameterTable } from "../../../src/model/parameters.js";
import { useBackend } from "../../../src/runtime/backends/backend.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import type { HeadKind } from "../../../src/model/classifier.js";
import {
  classificationIds,
  classifierHead,
  epochBatches,
  finetune,
  headWeights,
  HEAD_BIAS,
  HEAD_KERNEL,
  headLogits,
  pooledOutput,
  poolingFor,
} from "../../../src/runtime/train/finetune.js";

const MODEL = "test/fixtures/train/tiny.bdl";

function tinyModel(): ResolvedModel {
  return checkFile(MODEL).resolutions.get("tiny")!.model;
}

/** A tokenizer for tests: each lowercase letter is one token (ids 5…30), each word one word. */
const letters = {
  encode(text: string) {
    const ids: number[] = [];
    const words: number[] = [];
    text
      .split(/\s+/)
      .filter(Boolean)
      .forEach((word, w) => {
        for (const ch of word) {
          const c = ch.charCodeAt(0) - 97;
          if (c >= 0 && c < 26) {
            ids.push(5 + c);
            words.push(w);
          }
        }
      });
    return { ids, words };
  },
};

/** erf to 1.5e-7 (Abramowitz and Stegun 7.1.26). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

describe("the classification head", () => {
  beforeAll(async () => {
    // wasm where it starts (as the CLI's `auto`), else the pure-JS cpu backend.
    await useBackend("auto");
  });

  it("reads the pooler's output when the model has a pooler, else the [CLS] hidden state", async () => {
    const withPooler = tinyModel();
    const without: ResolvedModel = {
      ...withPooler,
      name: "tiny-no-pooler",
      pooler: "none",
      objectives: withPooler.objectives.filter((o) => o.name === "mlm"),
    };
    expect(poolingFor(withPooler)).toBe("pooler");
    expect(poolingFor(without)).toBe("cls");
    for (const model of [withPooler, without]) {
      const { graph } = await loadGraph(model);
      const weights = initialWeights(parameterTable(model), 3, 0);
      const tensors = new Map([...weights].map(([n, w]) => [n, tf.tensor(w.values, w.shape)]));
      const x = {
        inputIds: tf.tensor2d(
          [
            [2, 7, 8, 9, 3],
            [2, 10, 3, 0, 0],
          ],
          undefined,
          "int32",
        ),
        attentionMask: tf.tensor2d(
          [
            [1, 1, 1, 1, 1],
            [1, 1, 1, 0, 0],
          ],
          undefined,
          "int32",
        ),
      };
      const got = tf.tidy(() => {
        const out = graph.encode(
          graph.bindParams((n) => tensors.get(n)),
          x,
          EVAL,
        );
        const first = tf.reshape(tf.slice(out.lastHiddenState, [0, 0, 0], [2, 1, model.hidden]), [2, model.hidden]);
        return { pooled: pooledOutput(out, poolingFor(model)), cls: first, ...(out.poolerOutput ? { poolerOut: out.poolerOutput } : {}) };
      });
      const pooled = got.pooled.arraySync() as number[][];
      const cls = got.cls.arraySync();
      const poolerOut = got.poolerOut?.arraySync() ?? null;
      tf.dispose(got);
      expect(pooled).toHaveLength(2);
      expect(pooled[0]).toHaveLength(model.hidden);
      if (model.pooler === "tanh") {
        expect(pooled).toEqual(poolerOut);
        expect(pooled).not.toEqual(cls);
      } else {
        expect(poolerOut).toBeNull();
        expect(pooled).toEqual(cls);
      }
      tf.dispose([...tensors.values(), x.inputIds, x.attentionMask]);
    }
  });

  it("pooling [CLS] takes position 0 of each sequence", () => {
    const h = tf.tensor3d([
      [
        [1, 2],
        [3, 4],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ]);
    expect(pooledOutput({ lastHiddenState: h, hiddenStates: [] }, "cls").arraySync()).toEqual([
      [1, 2],
      [5, 6],
    ]);
    const p = tf.tensor2d([
      [9, 9],
      [9, 9],
    ]);
    expect(pooledOutput({ lastHiddenState: h, hiddenStates: [], poolerOutput: p }, "pooler")).toBe(p);
    expect(() => pooledOutput({ lastHiddenState: h, hiddenStates: [] }, "pooler")).toThrow(/no pooler/);
    tf.dispose([h, p]);
  });

  it("inputs are [CLS] text [SEP], cut to seq; head weights are seeded", () => {
    const special = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };
    expect(classificationIds("ab c", letters, special, 32)).toEqual([2, 5, 6, 7, 3]);
    expect(classificationIds("abcdefgh", letters, special, 5)).toEqual([2, 5, 6, 7, 3]);
    expect(classificationIds("ab", letters, { bos: 0, eos: 2, pad: 1 }, 8)).toEqual([0, 5, 6, 2]);
    const a = headWeights(tinyModel(), "dense", 3, 1);
    expect(a.get(HEAD_KERNEL)!.shape).toEqual([32, 3]);
    expect([...a.get(HEAD_BIAS)!.values]).toEqual([0, 0, 0]);
    expect(a.get(HEAD_KERNEL)!.values).toEqual(headWeights(tinyModel(), "dense", 3, 1).get(HEAD_KERNEL)!.values);
    expect(a.get(HEAD_KERNEL)!.values).not.toEqual(headWeights(tinyModel(), "dense", 3, 2).get(HEAD_KERNEL)!.values);
    const std = Math.sqrt(a.get(HEAD_KERNEL)!.values.reduce((s, v) => s + v * v, 0) / 96);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
  });

  it("each head kind computes its family's class's head, and starts from seeded weights of its table's shapes", () => {
    const tiny = tinyModel();
    // tiny-modern: silu, no classifier bias (the prediction head's dense layer has none), a LayerNorm bias.
    const modern = checkFile("test/fixtures/train/tiny-modern.bdl").resolutions.get("tiny-modern")!.model;
    expect(poolingFor(tiny, "dense")).toBe("pooler");
    for (const kind of ["dense-relu", "dense-gelu", "dense-norm"] as const) expect(poolingFor(tiny, kind)).toBe("cls");
    const shapes = (m: ResolvedModel, kind: HeadKind) => [...headWeights(m, kind, 3, 1)].map(([n, w]) => [n, w.shape]);
    expect(shapes(tiny, "dense")).toEqual([
      [HEAD_KERNEL, [32, 3]],
      [HEAD_BIAS, [3]],
    ]);
    expect(shapes(tiny, "dense-relu")).toEqual([
      ["classifier.dense.kernel", [32, 32]],
      ["classifier.dense.bias", [32]],
      [HEAD_KERNEL, [32, 3]],
      [HEAD_BIAS, [3]],
    ]);
    expect(shapes(modern, "dense-norm")).toEqual([
      ["classifier.dense.kernel", [32, 32]],
      ["classifier.norm.weight", [32]],
      ["classifier.norm.bias", [32]],
      [HEAD_KERNEL, [32, 3]],
      [HEAD_BIAS, [3]],
    ]);
    // The dense head starts as it did before there were other kinds: the same seeded draw.
    expect(headWeights(tiny, "dense-relu", 3, 1).get(HEAD_KERNEL)!.values).toEqual(
      headWeights(tiny, "dense", 3, 1).get(HEAD_KERNEL)!.values,
    );
    expect([...headWeights(modern, "dense-norm", 3, 1).get("classifier.norm.weight")!.values].every((v) => v === 1)).toBe(true);

    // Small weights by hand, H = 2, 2 labels: dense [[1, -1], [2, 0.5]] + [0.1, -0.2], out [[1, 0], [-1, 2]] + [0, 0.5].
    const set = (m: Map<string, { shape: number[]; values: Float32Array }>, name: string, values: number[]) =>
      m.set(name, { shape: m.get(name)!.shape, values: Float32Array.from(values) });
    const narrow = (m: ResolvedModel): ResolvedModel => ({ ...m, hidden: 2 });
    const x = [0.3, -1.2];
    const h = [0.3 * 1 + -1.2 * 2 + 0.1, 0.3 * -1 + -1.2 * 0.5 - 0.2]; // x · dense + bias
    const out = (v: number[]) => [v[0]! * 1 + v[1]! * -1, v[0]! * 0 + v[1]! * 2 + 0.5];
    const erfGelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    const silu = (v: number) => v / (1 + Math.exp(-v));
    const norm = (v: number[]) => {
      const mean = (v[0]! + v[1]!) / 2;
      const variance = ((v[0]! - mean) ** 2 + (v[1]! - mean) ** 2) / 2;
      return v.map((e, i) => ((e - mean) / Math.sqrt(variance + modern.norm_eps)) * [1.5, 0.5][i]! + [0, 1][i]!);
    };
    const cases: [ResolvedModel, HeadKind, number[]][] = [
      [narrow(tiny), "dense", out(x)],
      [narrow(tiny), "dense-relu", out(h.map((v) => Math.max(0, v)))],
      [narrow(tiny), "dense-gelu", out(h.map(erfGelu))],
      [narrow(modern), "dense-norm", out(norm([0.3 * 1 + -1.2 * 2, 0.3 * -1 + -1.2 * 0.5].map(silu)))],
    ];
    for (const [m, kind, expected] of cases) {
      const w = headWeights(m, kind, 2, 0);
      if (w.has("classifier.dense.kernel")) set(w, "classifier.dense.kernel", [1, -1, 2, 0.5]);
      if (w.has("classifier.dense.bias")) set(w, "classifier.dense.bias", [0.1, -0.2]);
      if (w.has("classifier.norm.weight")) set(w, "classifier.norm.weight", [1.5, 0.5]);
      if (w.has("classifier.norm.bias")) set(w, "classifier.norm.bias", [0, 1]);
      set(w, HEAD_KERNEL, [1, 0, -1, 2]);
      set(w, HEAD_BIAS, [0, 0.5]);
      const tensors = new Map([...w].map(([n, v]) => [n, tf.tensor(v.values, v.shape)]));
      const logits = tf.tidy(() =>
        headLogits(
          tf.tensor2d([x]),
          classifierHead(m, kind, (n) => tensors.get(n)),
          m,
          EVAL,
        ).arraySync(),
      );
      tf.dispose([...tensors.values()]);
      expect(logits[0]![0]!, kind).toBeCloseTo(expected[0]!, 5);
      expect(logits[0]![1]!, kind).toBeCloseTo(expected[1]!, 5);
    }
    expect(() => classifierHead(tiny, "dense-relu", () => undefined)).toThrow(/lack its head's tensor 'classifier\.kernel'/);
  });

  it("batches every example once per epoch, in seeded batches of similar lengths", () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ ids: Array<number>(3 + ((i * 7919) % 50)).fill(5) }));
    const batches = epochBatches(rows, 32, 11);
    expect(batches.flat().sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
    expect(batches.every((b) => b.length <= 32)).toBe(true);
    expect(batches.filter((b) => b.length < 32)).toHaveLength(1);
    expect(epochBatches(rows, 32, 11)).toEqual(batches);
    expect(epochBatches(rows, 32, 12)).not.toEqual(batches);
    // Padding to the longest of each batch costs far less than with a plain shuffle.
    const padded = (bs: number[][]) => bs.reduce((n, b) => n + b.length * Math.max(...b.map((i) => rows[i]!.ids.length)), 0);
    const plain = Array.from({ length: Math.ceil(1000 / 32) }, (_, k) =>
      Array.from({ length: Math.min(32, 1000 - 32 * k) }, (_, j) => 32 * k + j),
    );
    expect(padded(batches)).toBeLessThan(0.7 * padded(plain));
  });

  it("learns a separable task and frees every tensor it made", async () => {
    const model = tinyModel();
    const { graph } = await loadGraph(model);
    const words = { a: ["cab", "bad", "dab", "ace"], b: ["xyz", "zoo", "wry", "yow"] };
    const examples = (n: number, salt: number) =>
      Array.from({ length: n }, (_, i) => {
        const label = (i + salt) % 2 === 0 ? "a" : "b";
        const pool = words[label];
        return { text: `${pool[i % 4]} ${pool[(i + salt) % 4]} ${pool[(i * 3 + 1) % 4]}`, label };
      });
    const task: Task = { name: "toy", labels: ["a", "b"], train: examples(96, 0), test: examples(24, 1) };
    const before = tf.memory().numTensors;
    const r = await finetune({
      model,
      graph,
      weights: initialWeights(parameterTable(model), 0, 0),
      tokenizer: letters,
      task,
      epochs: 4,
      batch: 16,
      lr: 5e-3,
      seed: 0,
      maxExamples: 1000,
      maxTest: 1000,
      seq: 16,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.steps).toBe(4 * 6);
    expect(r.examples).toBe(96);
    expect(r.test_examples).toBe(24);
    expect(r.pooling).toBe("pooler");
    expect(r.last_loss!).toBeLessThan(r.first_loss!);
    expect(r.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(r.macro_f1).toBeGreaterThanOrEqual(0.9);
    // The same seed gives the same run.
    const again = await finetune({
      model,
      graph,
      weights: initialWeights(parameterTable(model), 0, 0),
      tokenizer: letters,
      task,
      epochs: 1,
      batch: 16,
      lr: 5e-3,
      seed: 0,
      maxExamples: 1000,
      maxTest: 1000,
      seq: 16,
    });
    const twice = await finetune({
      model,
      graph,
      weights: initialWeights(parameterTable(model), 0, 0),
      tokenizer: letters,
      task,
      epochs: 1,
      batch: 16,
      lr: 5e-3,
      seed: 0,
      maxExamples: 1000,
      maxTest: 1000,
      seq: 16,
    });
    expect(twice.last_loss).toBe(again.last_loss);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Through the built CLI
// ---------------------------------------------------------------------------------------------

/** WordNet lexicographer files by number (lexnames(5WN)): the three classes of the test task. */
const LEXNAMES: Record<string, string> = { "05": "noun.animal", "06": "noun.artifact", "20": "noun.plant" };

/** A CSV task: the first 140 glosses of each of three lexicographer classes, as text,label rows. */
function writeTask(path: string, lines: string[]): void {
  const per = new Map<string, number>();
  const rows = ["text,label"];
  for (const line of lines) {
    const label = LEXNAMES[line.split(" ")[1]!];
    if (!label || (per.get(label) ?? 0) >= 140) continue;
    per.set(label, (per.get(label) ?? 0) + 1);
    rows.push(`"${gloss(line).replace(/"/g, '""')}",${label}`);
  }
  writeFileSync(path, rows.join("\n") + "\n");
}

describe("bdlc finetune", () => {
  let dir: string;
  let run: string;
  let task: string;

  beforeAll(() => {
    expect(existsSync(join(ROOT, "dist", "bundle", "cli.js")), "build first: npm run build").toBe(true);
    dir = mkdtempSync(join(tmpdir(), "bdl-finetune-"));
    const lines = wordnetNounLines();
    writeGlossCorpus(join(dir, "corpus.txt"), lines);
    task = join(dir, "task.csv");
    writeTask(task, lines);
    run = join(dir, "run");
    const r = bdlc(["train", MODEL, "--corpus", join(dir, "corpus.txt"), "--out", run, "--save-every", "10", "--seed", "1"]);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);

  it("fine-tunes a pretrained checkpoint: accuracy, macro-F1 and finetune.json", () => {
    const out = join(dir, "ft");
    const r = bdlc(["finetune", run, "--task", task, "--out", out, "--epochs", "2"]);
    expect(r.stderr + r.stdout).not.toMatch(/internal error|    at /);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test accuracy \d+\.\d%, macro-F1 \d\.\d{3} \(\d+ test examples, 3 labels\); inference \d+ tokens\/s on \w+/);
    expect(r.stderr).toMatch(/pooling: pooler output/);
    const result = JSON.parse(readFileSync(join(out, "finetune.json"), "utf8"));
    expect(result).toMatchObject({
      task,
      model: "tiny",
      from_scratch: false,
      labels: ["noun.animal", "noun.artifact", "noun.plant"],
      epochs: 2,
      batch: 32,
      lr: 5e-4,
    });
    expect(result.examples).toBeGreaterThan(300);
    expect(result.steps).toBe(2 * Math.ceil(result.examples / 32));
    expect(result.accuracy).toBeGreaterThanOrEqual(0);
    expect(result.accuracy).toBeLessThanOrEqual(1);
    expect(result.macro_f1).toBeGreaterThanOrEqual(0);
    expect(result.macro_f1).toBeLessThanOrEqual(1);
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.inference_tokens_per_s).toBeGreaterThan(0);
    expect(typeof result.backend).toBe("string");
  }, 240_000);

  it("--from-scratch runs the same budget from random weights; --json prints the record", () => {
    const out = join(dir, "scratch");
    const r = bdlc(["finetune", run, "--task", task, "--out", out, "--epochs", "2", "--from-scratch", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    const written = JSON.parse(readFileSync(join(out, "finetune.json"), "utf8"));
    expect(printed).toEqual(written);
    expect(written.from_scratch).toBe(true);
    const pretrained = JSON.parse(readFileSync(join(dir, "ft", "finetune.json"), "utf8"));
    expect(written.steps).toBe(pretrained.steps);
    expect(written.examples).toBe(pretrained.examples);
    expect(written.test_examples).toBe(pretrained.test_examples);
  }, 240_000);

  it("--pooling cls reads the [CLS] state instead of the pooler; a bad value is refused", () => {
    const r = bdlc(["finetune", run, "--task", task, "--epochs", "1", "--max-examples", "64", "--pooling", "cls", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).pooling).toBe("cls");
    expect(r.stderr).toMatch(/pooling: \[CLS\] hidden state/);
    const bad = bdlc(["finetune", run, "--task", task, "--pooling", "mean"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--pooling must be pooler or cls, not 'mean'/);
  }, 240_000);

  it("refuses a task file with the wrong columns, naming them, and writes nothing", () => {
    const bad = join(dir, "bad.csv");
    writeFileSync(bad, "sentence,category\nthe cat sat,animal\na red car,artifact\n");
    const out = join(dir, "bad-out");
    const r = bdlc(["finetune", run, "--task", bad, "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.csv/);
    expect(r.stderr).toMatch(/text and label/);
    expect(r.stderr).toMatch(/"sentence", "category"/);
    expect(r.stderr).not.toMatch(/internal error|    at /);
    expect(existsSync(join(out, "finetune.json"))).toBe(false);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it("refuses a checkpoint that does not exist, and a task it does not know", () => {
    const out = join(dir, "missing-out");
    const r = bdlc(["finetune", join(dir, "no-such-run"), "--task", task, "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no-such-run: no such checkpoint folder/);
    expect(existsSync(out)).toBe(false);
    const r2 = bdlc(["finetune", run, "--task", "wordnet-lexnames"]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/unknown task/);
    const r3 = bdlc(["finetune", run]);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toMatch(/missing --task/);
  }, 60_000);
});
