/**
 * The Hugging Face workflow after fine-tuning. `bdlc finetune --out DIR` saves the classifier
 * as a checkpoint (DIR/classifier: encoder, head, labels, tokenizer, resolved model); the
 * saved-and-reloaded classifier gives bit-identical logits to the one in memory; `bdlc
 * predict` prints the probabilities fine-tuning's own evaluation path computes; `bdlc
 * export-hf` writes BertForSequenceClassification's exact tensors and a config.json whose
 * labels round-trip; each family's class is named or refused by why; `bdlc import-hf` reads
 * each family's exported class back into a classifier that predicts and exports the same;
 * bad input exits 1.
 */
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGraph } from "../../src/app/graph-loader.js";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { classifierHeadTable } from "../../src/model/classifier.js";
import { classifierHeadFor, hfClassifierNaming } from "../../src/model/hf/classifier.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { parameterTable } from "../../src/model/parameters.js";
import { useBackend } from "../../src/runtime/backends/backend.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/runtime/checkpoint/checkpoint.js";
import { headOf, readClassifier, saveClassifierCheckpoint } from "../../src/runtime/checkpoint/classifier.js";
import { readSafetensors, writeSafetensors, type TensorEntry } from "../../src/runtime/checkpoint/safetensors.js";
import type { Task } from "../../src/runtime/data/types.js";
import { initialWeights } from "../../src/runtime/init.js";
import { loadTokenizer } from "../../src/runtime/tokenizers/index.js";
import { tf, type Tensor2D } from "../../src/runtime/backends/tf.js";
import { EVAL } from "../../src/runtime/layers/dropout.js";
import { classificationIds, classify, finetune, HEAD_BIAS, HEAD_KERNEL, headWeights } from "../../src/runtime/train/finetune.js";
import { cli } from "../helpers/cli.js";
import { bdlc, TINY_MODEL, trainingFolder } from "../helpers/training.js";

/** Exit 1 with one clear message: no stack trace, no internal error. */
function expectUserError(r: { code: number; out: string; err: string }, pattern: RegExp): void {
  expect(r.code, r.err).toBe(1);
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(r.err).not.toMatch(/internal error/i);
  expect(r.err).toMatch(pattern);
}

function model(file: string, name?: string): ResolvedModel {
  const resolutions = checkFile(file).resolutions;
  return (name ? resolutions.get(name) : [...resolutions.values()].at(-1))!.model;
}

/** Texts about cats or dogs, in words the gloss corpus's tokenizer knows, labelled by which. */
function writeCatDogTask(path: string): void {
  const rows = ["text,label"];
  const tails = ["that is small", "of the house", "with a long tail", "in the garden", "seen at night"];
  for (let i = 0; i < 60; i++) {
    const label = i % 2 === 0 ? "cat" : "dog";
    rows.push(`a ${label} ${tails[i % tails.length]},${label}`);
  }
  writeFileSync(path, rows.join("\n") + "\n");
}

const TEXTS = ["a cat in the garden", "a dog of the house", "small"];

let dir: string;
let run: string;
let out: string;
let task: string;
beforeAll(async () => {
  ({ dir } = trainingFolder("bdl-classifier-"));
  run = join(dir, "run");
  const trained = bdlc(["train", TINY_MODEL, "--corpus", join(dir, "corpus.txt"), "--out", run, "--steps", "10", "--seed", "1"]);
  expect(trained.status, trained.stderr).toBe(0);
  task = join(dir, "task.csv");
  writeCatDogTask(task);
  out = join(dir, "ft");
  const r = bdlc(["finetune", run, "--task", task, "--out", out, "--epochs", "2", "--batch", "8", "--seed", "3"]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain(`saved the classifier in ${join(out, "classifier")}`);
  await useBackend("cpu");
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bdlc finetune --out", () => {
  it("saves the classifier as a checkpoint: encoder, head, labels, tokenizer and the resolved model", () => {
    const saved = join(out, "classifier");
    expect(readdirSync(saved).sort()).toEqual(["bdl.json", "classifier.safetensors", "model.safetensors", "tokenizer.json"]);
    const meta = JSON.parse(readFileSync(join(saved, "bdl.json"), "utf8"));
    expect(meta.classifier).toEqual({ task, labels: ["cat", "dog"], pooling: "pooler", seq: 32 });
    expect(meta.model).toEqual(model(TINY_MODEL, "tiny"));
    expect(readFileSync(join(saved, "tokenizer.json"), "utf8")).toBe(readFileSync(join(run, "tokenizer.json"), "utf8"));
    // The encoder is the whole parameter table, pooler included; the head is beside it.
    const encoder = readSafetensors(join(saved, "model.safetensors")).tensors;
    expect([...encoder.keys()].sort()).toEqual(
      parameterTable(meta.model)
        .map((p) => p.name)
        .sort(),
    );
    expect(encoder.has("pooler.kernel")).toBe(true);
    const head = readSafetensors(join(saved, "classifier.safetensors")).tensors;
    expect(new Map([...head].map(([n, t]) => [n, t.shape]))).toEqual(
      new Map([
        [HEAD_KERNEL, [32, 2]],
        [HEAD_BIAS, [2]],
      ]),
    );
    // Still a checkpoint every other command reads: eval takes it.
    const evaluated = bdlc(["eval", out, "--corpus", join(dir, "corpus.txt")]);
    expect(evaluated.status, evaluated.stderr).toBe(0);
  });

  it("the saved-and-reloaded classifier gives bit-identical logits to the one in memory", async () => {
    const tiny = model(TINY_MODEL, "tiny");
    const { graph } = await loadGraph(tiny);
    const tokenizer = loadTokenizer(join(run, "tokenizer.json"));
    const examples = (n: number, salt: number) =>
      Array.from({ length: n }, (_, i) => ({ text: TEXTS[(i + salt) % 2]!, label: (i + salt) % 2 === 0 ? "cat" : "dog" }));
    const t: Task = { name: "toy", labels: ["cat", "dog"], train: examples(24, 0), test: examples(8, 1) };
    const common = { epochs: 1, batch: 8, lr: 5e-3, seed: 0, maxExamples: 100, maxTest: 100, seq: 16 };
    const r = await finetune({
      model: tiny,
      graph,
      weights: initialWeights(parameterTable(tiny), 0, 0),
      tokenizer,
      task: t,
      ...common,
      keepWeights: true,
    });
    expect(r.weights).not.toBeNull();
    expect(r.head).toBe("dense");
    const inMemory = await classify({
      model: tiny,
      graph,
      weights: r.weights!,
      tokenizer,
      texts: TEXTS,
      head: r.head,
      pooling: r.pooling,
      seq: r.seq,
    });
    const saved = join(dir, "saved");
    saveClassifierCheckpoint(saved, tiny, r.weights!, { task: t.name, labels: r.labels, pooling: r.pooling, seq: r.seq }, "{}");
    const loaded = loadCheckpoint(saved);
    const { record, head } = readClassifier(loaded);
    expect(record).toEqual({ task: "toy", labels: ["cat", "dog"], pooling: "pooler", seq: 16 });
    const reloaded = await classify({
      model: loaded.model,
      graph,
      weights: new Map([...loaded.weights, ...head]),
      tokenizer,
      texts: TEXTS,
      head: headOf(record),
      pooling: record.pooling,
      seq: record.seq,
    });
    expect(reloaded).toEqual(inMemory);
    expect(inMemory.every((row) => row.length === 2 && row.every(Number.isFinite))).toBe(true);
  }, 60_000);
});

describe("bdlc predict", () => {
  it("prints each text's top label and probability: softmax of the logits evaluation computes", async () => {
    const loaded = loadCheckpoint(out);
    const { record, head } = readClassifier(loaded);
    const { graph } = await loadGraph(loaded.model);
    const logits = await classify({
      model: loaded.model,
      graph,
      weights: new Map([...loaded.weights, ...head]),
      tokenizer: loadTokenizer(join(out, "classifier", "tokenizer.json")),
      texts: TEXTS,
      head: headOf(record),
      pooling: record.pooling,
      seq: record.seq,
    });
    const expected = logits.map((row) => {
      const exp = row.map((l) => Math.exp(l - Math.max(...row)));
      return exp.map((e) => e / exp.reduce((a, b) => a + b, 0));
    });
    const r = await cli("predict", out, ...TEXTS.flatMap((t) => ["--text", t]), "--json", "--backend", "cpu");
    expect(r.code, r.err).toBe(0);
    const printed = r.out.split("\n").map((l) => JSON.parse(l));
    expect(printed.map((p) => p.text)).toEqual(TEXTS);
    printed.forEach((p, i) => {
      expect(p.probabilities).toEqual({ cat: expected[i]![0], dog: expected[i]![1] });
      const top = expected[i]![0]! >= expected[i]![1]! ? 0 : 1;
      expect(p.label).toBe(record.labels[top]);
      expect(p.probability).toBe(expected[i]![top]);
    });
    // One text a line from --file, after the --text ones; the plain lines show label, probability, text.
    const file = join(dir, "texts.txt");
    writeFileSync(file, `${TEXTS[1]}\n\n${TEXTS[2]}\n`);
    const plain = await cli("predict", join(out, "classifier"), "--text", TEXTS[0]!, "--file", file, "--backend", "cpu");
    expect(plain.code, plain.err).toBe(0);
    expect(plain.out.split("\n")).toEqual(printed.map((p) => `${p.label}\t${p.probability.toFixed(4)}\t${p.text}`));
  }, 60_000);

  it("refuses a pretraining checkpoint, a missing tokenizer and empty input (exit 1)", async () => {
    expectUserError(await cli("predict", run, "--text", "a cat"), /is a pretraining checkpoint, not a classifier.*bdlc finetune/);
    const bare = join(dir, "bare");
    cpSync(join(out, "classifier"), bare, { recursive: true });
    rmSync(join(bare, "tokenizer.json"));
    expectUserError(await cli("predict", bare, "--text", "a cat"), /no tokenizer\.json for .*--tokenizer FILE/);
    expectUserError(await cli("predict", out), /no texts to classify: give --text TEXT/);
    expectUserError(await cli("predict", out, "--text", "  "), /--text is empty/);
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "\n\n");
    expectUserError(await cli("predict", out, "--file", empty), /empty\.txt holds no text to classify/);
    expectUserError(await cli("predict", out, "--file", join(dir, "absent.txt")), /absent\.txt/);
    expectUserError(await cli("predict", join(dir, "nowhere"), "--text", "a cat"), /no such checkpoint folder/);
  }, 60_000);
});

/** BertForSequenceClassification's state dict for `layers` layers (transformers' modeling_bert.py): BertModel with its pooler under `bert.`, then `classifier`. */
function bertForSequenceClassification(
  layers: number,
  hidden: number,
  intermediate: number,
  vocab: number,
  positions: number,
  labels: number,
) {
  const names: [string, number[]][] = [
    ["bert.embeddings.word_embeddings.weight", [vocab, hidden]],
    ["bert.embeddings.position_embeddings.weight", [positions, hidden]],
    ["bert.embeddings.token_type_embeddings.weight", [2, hidden]],
    ["bert.embeddings.LayerNorm.weight", [hidden]],
    ["bert.embeddings.LayerNorm.bias", [hidden]],
  ];
  for (let i = 0; i < layers; i++) {
    const l = `bert.encoder.layer.${i}`;
    for (const p of ["query", "key", "value"])
      names.push([`${l}.attention.self.${p}.weight`, [hidden, hidden]], [`${l}.attention.self.${p}.bias`, [hidden]]);
    names.push(
      [`${l}.attention.output.dense.weight`, [hidden, hidden]],
      [`${l}.attention.output.dense.bias`, [hidden]],
      [`${l}.attention.output.LayerNorm.weight`, [hidden]],
      [`${l}.attention.output.LayerNorm.bias`, [hidden]],
      [`${l}.intermediate.dense.weight`, [intermediate, hidden]],
      [`${l}.intermediate.dense.bias`, [intermediate]],
      [`${l}.output.dense.weight`, [hidden, intermediate]],
      [`${l}.output.dense.bias`, [hidden]],
      [`${l}.output.LayerNorm.weight`, [hidden]],
      [`${l}.output.LayerNorm.bias`, [hidden]],
    );
  }
  names.push(
    ["bert.pooler.dense.weight", [hidden, hidden]],
    ["bert.pooler.dense.bias", [hidden]],
    ["classifier.weight", [labels, hidden]],
    ["classifier.bias", [labels]],
  );
  return names.sort(([a], [b]) => (a < b ? -1 : 1));
}

describe("bdlc export-hf of a classifier", () => {
  it("writes BertForSequenceClassification: its exact tensors, the labels in config.json, the tokenizer", async () => {
    const hf = join(dir, "hf");
    const r = await cli("export-hf", out, "--out", hf);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/BertForSequenceClassification \(config\.json, model\.safetensors with 41 tensors, tokenizer\.json/);
    const file = readSafetensors(join(hf, "model.safetensors"));
    expect([...file.tensors].map(([n, t]) => [n, t.shape])).toEqual(bertForSequenceClassification(2, 32, 64, 400, 32, 2));
    // Our kernels are [in, out]; transformers' Linear weights [out, in].
    const head = readSafetensors(join(out, "classifier", "classifier.safetensors")).tensors.get(HEAD_KERNEL)!;
    const ours = new Float32Array(head.data.slice().buffer);
    const theirs = new Float32Array(file.tensors.get("classifier.weight")!.data.slice().buffer);
    expect(theirs[1 * 32 + 5]).toBe(ours[5 * 2 + 1]);
    const config = JSON.parse(readFileSync(join(hf, "config.json"), "utf8"));
    expect(config).toMatchObject({
      architectures: ["BertForSequenceClassification"],
      model_type: "bert",
      id2label: { "0": "cat", "1": "dog" },
      label2id: { cat: 0, dog: 1 },
      problem_type: "single_label_classification",
    });
    // transformers derives num_labels from id2label and does not write it.
    expect(config).not.toHaveProperty("num_labels");
    const id2label = config.id2label as Record<string, string>;
    expect(Object.entries(id2label).map(([id, label]) => config.label2id[label] === Number(id))).toEqual([true, true]);
    for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) expect(existsSync(join(hf, f))).toBe(true);
    // The pretraining checkpoint still exports as before.
    const pretraining = await cli("export-hf", run, "--out", join(dir, "hf-pretraining"));
    expect(pretraining.code, pretraining.err).toBe(0);
    expect(pretraining.out).toMatch(/BertForPreTraining/);
  }, 60_000);

  it("refuses a classifier fine-tuned on the [CLS] state: BertForSequenceClassification reads the pooler", async () => {
    const cls = join(dir, "ft-cls");
    const r = bdlc(["finetune", run, "--task", task, "--out", cls, "--epochs", "1", "--batch", "8", "--pooling", "cls"]);
    expect(r.status, r.stderr).toBe(0);
    const hf = join(dir, "hf-cls");
    expectUserError(
      await cli("export-hf", cls, "--out", hf),
      /BertForSequenceClassification's head is a dense layer on BERT's tanh pooler, but the classifier was fine-tuned on the \[CLS\] hidden state \(--pooling cls\)/,
    );
    expect(existsSync(hf)).toBe(false);
    // A damaged head is the checkpoint's problem, named.
    const damaged = join(dir, "damaged");
    cpSync(join(out, "classifier"), damaged, { recursive: true });
    copyFileSync(join(damaged, "tokenizer.json"), join(damaged, "classifier.safetensors"));
    expectUserError(await cli("export-hf", damaged, "--out", join(dir, "hf-damaged")), /classifier\.safetensors/);
  }, 60_000);
});

describe("the …ForSequenceClassification classes", () => {
  const roberta = (pooler: string) => {
    const file = join(mkdtempSync(join(tmpdir(), "bdl-roberta-")), "r.bdl");
    copyFileSync("models/roberta.bdl", join(file, "..", "roberta.bdl"));
    writeFileSync(
      file,
      `import "roberta.bdl"\nmodel r extends roberta {\n  vocab 300\n  hidden 16\n  layers 1\n  heads 2\n  intermediate 32\n  pooler ${pooler}\n  embeddings { positions 16 }\n  train { seq 16 }\n  special { mask 299 }\n}\n`,
    );
    const checked = checkFile(file);
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    return checked.resolutions.get("r")!.model;
  };
  const names = (n: ReturnType<typeof hfClassifierNaming>) => (typeof n === "string" ? n : n.names.map((x) => x.hf));

  it("RoBERTa's head (dense, tanh, out_proj) is bdl's tanh pooler and dense layer; its encoder has no pooler", () => {
    const naming = hfClassifierNaming(roberta("tanh"), "pooler", "dense");
    expect(typeof naming === "string" ? naming : naming.architecture).toBe("RobertaForSequenceClassification");
    const hf = names(naming) as string[];
    expect(hf.filter((n) => !n.startsWith("roberta."))).toEqual([
      "classifier.dense.weight",
      "classifier.dense.bias",
      "classifier.out_proj.weight",
      "classifier.out_proj.bias",
    ]);
    expect(hf.some((n) => n.includes("pooler") || n.includes("lm_head"))).toBe(false);
    expect(names(hfClassifierNaming(roberta("none"), "cls", "dense"))).toMatch(
      /RobertaForSequenceClassification's head is dense, tanh, then out_proj.*has no pooler/,
    );
  });

  /** A classifier checkpoint of `m` from its initial weights and a seeded head, written without a tokenizer; then exported. */
  async function exportedTensors(m: ResolvedModel, name: string): Promise<[string, number[]][]> {
    const saved = join(dir, `${name}-classifier`);
    const weights = initialWeights(parameterTable(m), 0, 0);
    for (const [n, w] of headWeights(m, "dense", 3, 0)) weights.set(n, w);
    saveClassifierCheckpoint(saved, m, weights, { task: "t", labels: ["a", "b", "c"], pooling: "pooler", seq: 8 }, "{}");
    rmSync(join(saved, "tokenizer.json"));
    const hf = join(dir, `${name}-hf`);
    const r = await cli("export-hf", saved, "--out", hf);
    expect(r.code, r.err).toBe(0);
    const config = JSON.parse(readFileSync(join(hf, "config.json"), "utf8"));
    expect(config.id2label).toEqual({ "0": "a", "1": "b", "2": "c" });
    expect(config.label2id).toEqual({ a: 0, b: 1, c: 2 });
    expect(config.architectures).toHaveLength(1);
    return [...readSafetensors(join(hf, "model.safetensors")).tensors].map(([n, t]) => [n, t.shape]);
  }
  const sorted = (names: [string, number[]][]) => names.sort(([a], [b]) => (a < b ? -1 : 1));

  it("writes RobertaForSequenceClassification's and AlbertForSequenceClassification's exact tensors", async () => {
    // modeling_roberta.py: RobertaModel(add_pooling_layer=False) under `roberta.`, RobertaClassificationHead under `classifier.`.
    const r = roberta("tanh");
    const robertaExpected: [string, number[]][] = [
      ["roberta.embeddings.word_embeddings.weight", [300, 16]],
      ["roberta.embeddings.position_embeddings.weight", [18, 16]],
      ["roberta.embeddings.token_type_embeddings.weight", [1, 16]],
      ["roberta.embeddings.LayerNorm.weight", [16]],
      ["roberta.embeddings.LayerNorm.bias", [16]],
      ...["query", "key", "value"].flatMap((p): [string, number[]][] => [
        [`roberta.encoder.layer.0.attention.self.${p}.weight`, [16, 16]],
        [`roberta.encoder.layer.0.attention.self.${p}.bias`, [16]],
      ]),
      ["roberta.encoder.layer.0.attention.output.dense.weight", [16, 16]],
      ["roberta.encoder.layer.0.attention.output.dense.bias", [16]],
      ["roberta.encoder.layer.0.attention.output.LayerNorm.weight", [16]],
      ["roberta.encoder.layer.0.attention.output.LayerNorm.bias", [16]],
      ["roberta.encoder.layer.0.intermediate.dense.weight", [32, 16]],
      ["roberta.encoder.layer.0.intermediate.dense.bias", [32]],
      ["roberta.encoder.layer.0.output.dense.weight", [16, 32]],
      ["roberta.encoder.layer.0.output.dense.bias", [16]],
      ["roberta.encoder.layer.0.output.LayerNorm.weight", [16]],
      ["roberta.encoder.layer.0.output.LayerNorm.bias", [16]],
      ["classifier.dense.weight", [16, 16]],
      ["classifier.dense.bias", [16]],
      ["classifier.out_proj.weight", [3, 16]],
      ["classifier.out_proj.bias", [3]],
    ];
    expect(await exportedTensors(r, "roberta")).toEqual(sorted(robertaExpected));
    // modeling_albert.py: AlbertModel with its pooler (a Linear named `pooler`) under `albert.`, then `classifier`.
    const a = model("models/albert-mini.bdl", "albert-mini");
    const layer = "albert.encoder.albert_layer_groups.0.albert_layers.0";
    const albertExpected: [string, number[]][] = [
      ["albert.embeddings.word_embeddings.weight", [8192, 64]],
      ["albert.embeddings.position_embeddings.weight", [128, 64]],
      ["albert.embeddings.token_type_embeddings.weight", [2, 64]],
      ["albert.embeddings.LayerNorm.weight", [64]],
      ["albert.embeddings.LayerNorm.bias", [64]],
      ["albert.encoder.embedding_hidden_mapping_in.weight", [256, 64]],
      ["albert.encoder.embedding_hidden_mapping_in.bias", [256]],
      ...["query", "key", "value", "dense"].flatMap((p): [string, number[]][] => [
        [`${layer}.attention.${p}.weight`, [256, 256]],
        [`${layer}.attention.${p}.bias`, [256]],
      ]),
      [`${layer}.attention.LayerNorm.weight`, [256]],
      [`${layer}.attention.LayerNorm.bias`, [256]],
      [`${layer}.ffn.weight`, [1024, 256]],
      [`${layer}.ffn.bias`, [1024]],
      [`${layer}.ffn_output.weight`, [256, 1024]],
      [`${layer}.ffn_output.bias`, [256]],
      [`${layer}.full_layer_layer_norm.weight`, [256]],
      [`${layer}.full_layer_layer_norm.bias`, [256]],
      ["albert.pooler.weight", [256, 256]],
      ["albert.pooler.bias", [256]],
      ["classifier.weight", [3, 256]],
      ["classifier.bias", [3]],
    ];
    expect(await exportedTensors(a, "albert")).toEqual(sorted(albertExpected));
  }, 60_000);

  it("ALBERT's head reads its pooler; DistilBERT's, ELECTRA's and ModernBERT's add a layer on the [CLS] state, each named", () => {
    const albert = hfClassifierNaming(model("models/albert-mini.bdl", "albert-mini"), "pooler", "dense");
    expect(typeof albert === "string" ? albert : albert.architecture).toBe("AlbertForSequenceClassification");
    expect((names(albert) as string[]).filter((n) => !n.startsWith("albert.encoder") && !n.startsWith("albert.embeddings"))).toEqual([
      "albert.pooler.weight",
      "albert.pooler.bias",
      "classifier.weight",
      "classifier.bias",
    ]);
    const distilbert = model("models/distilbert-mini.bdl", "distilbert-mini");
    const modernbert = model("models/modernbert-mini.bdl", "modernbert-mini");
    const electra = model("models/electra-mini.bdl", "electra-mini");
    const heads = (m: ResolvedModel, prefix: string) =>
      (names(hfClassifierNaming(m, "cls", classifierHeadFor(m))) as string[]).filter((n) => !n.startsWith(prefix));
    expect(classifierHeadFor(distilbert)).toBe("dense-relu");
    expect(heads(distilbert, "distilbert.")).toEqual([
      "pre_classifier.weight",
      "pre_classifier.bias",
      "classifier.weight",
      "classifier.bias",
    ]);
    // ELECTRA's classifier is its discriminator's: the generator is left behind.
    expect(classifierHeadFor(electra)).toBe("dense-gelu");
    expect(heads(electra, "electra.")).toEqual([
      "classifier.dense.weight",
      "classifier.dense.bias",
      "classifier.out_proj.weight",
      "classifier.out_proj.bias",
    ]);
    expect((names(hfClassifierNaming(electra, "cls", "dense-gelu")) as string[]).some((n) => n.includes("generator"))).toBe(false);
    // modernbert-mini has ModernBERT-base's biases: none but the decoder's, so its prediction head's dense layer and LayerNorm have none either.
    expect(classifierHeadFor(modernbert)).toBe("dense-norm");
    expect(heads(modernbert, "model.")).toEqual(["head.dense.weight", "head.norm.weight", "classifier.weight", "classifier.bias"]);
    // Refused, saying why: a classifier saved with one dense layer (before these families had their class's head), or on the pooler.
    expect(names(hfClassifierNaming(distilbert, "cls", "dense"))).toMatch(
      /^DistilBertForSequenceClassification's head is pre_classifier, ReLU, then classifier on the first token's state, but the classifier's head is one dense layer \(as bdl fine-tuned DistilBERT models before it had the class's head\): fine-tune again/,
    );
    expect(names(hfClassifierNaming(modernbert, "pooler", "dense-norm"))).toMatch(
      /^ModernBertForSequenceClassification's head is .* on the first token's state, but the classifier was fine-tuned on the pooler's output \(--pooling pooler\): fine-tune with --pooling cls/,
    );
    expect(names(hfClassifierNaming(model(TINY_MODEL, "tiny"), "pooler", "dense-relu"))).toMatch(
      /^BertForSequenceClassification's head is a dense layer on BERT's tanh pooler, but the classifier's head is dense, ReLU, then a dense layer$/,
    );
  });
});

/** Float32 values of a safetensors entry. */
const valuesOf = (t: { data: Uint8Array }) => new Float32Array(t.data.slice().buffer);

/** x · Wᵀ + b for a Hugging Face Linear weight W [out, in]. */
function linear(x: readonly number[], w: Float32Array, b: Float32Array | undefined): number[] {
  const inputs = x.length;
  return Array.from({ length: w.length / inputs }, (_, o) => x.reduce((sum, xi, i) => sum + xi * w[o * inputs + i]!, b ? b[o]! : 0));
}

/** erf to 1.5e-7 (Abramowitz and Stegun 7.1.26): enough for an exact GELU at the tolerance below. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
const ACT: Record<string, (x: number) => number> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  relu: (x) => Math.max(0, x),
  silu: (x) => x / (1 + Math.exp(-x)),
};

function layerNorm(x: readonly number[], w: Float32Array, b: Float32Array | undefined, eps: number): number[] {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * w[i]! + (b ? b[i]! : 0));
}

/**
 * The three families whose `…ForSequenceClassification` adds a layer on the [CLS] state, end
 * to end: `bdlc finetune --out` from a checkpoint of each, `bdlc export-hf` of the classifier,
 * and the written folder checked against the class: its tensors are the encoder's (as the
 * pretraining export names them) plus exactly the head's, config.json carries what
 * transformers reads, and the class's head, computed here from the written tensors as
 * transformers' modeling files compute it, gives the probabilities `bdlc predict` prints.
 */
describe("DistilBERT, ELECTRA and ModernBERT classifiers through export-hf", () => {
  const FAMILIES = "test/fixtures/train/tiny-families.bdl";
  const cases = [
    {
      name: "tiny-distil",
      file: FAMILIES,
      architecture: "DistilBertForSequenceClassification",
      kind: "dense-relu",
      prefix: "distilbert.",
      head: [
        ["pre_classifier.weight", [32, 32]],
        ["pre_classifier.bias", [32]],
        ["classifier.weight", [2, 32]],
        ["classifier.bias", [2]],
      ],
      config: { model_type: "distilbert", seq_classif_dropout: 0.1, dim: 32 },
      // DistilBertForSequenceClassification: classifier(dropout(ReLU(pre_classifier(h[:, 0])))).
      logits: (h: number[], t: Map<string, Float32Array>) =>
        linear(
          linear(h, t.get("pre_classifier.weight")!, t.get("pre_classifier.bias")).map(ACT.relu!),
          t.get("classifier.weight")!,
          t.get("classifier.bias"),
        ),
    },
    {
      name: "tiny-electra",
      file: "test/fixtures/train/tiny-electra.bdl",
      architecture: "ElectraForSequenceClassification",
      kind: "dense-gelu",
      prefix: "electra.",
      head: [
        ["classifier.dense.weight", [32, 32]],
        ["classifier.dense.bias", [32]],
        ["classifier.out_proj.weight", [2, 32]],
        ["classifier.out_proj.bias", [2]],
      ],
      config: { model_type: "electra", hidden_dropout_prob: 0.1, classifier_dropout: null, hidden_size: 32 },
      // ElectraClassificationHead: out_proj(dropout(gelu(dense(dropout(h[:, 0]))))), GELU by name.
      logits: (h: number[], t: Map<string, Float32Array>) =>
        linear(
          linear(h, t.get("classifier.dense.weight")!, t.get("classifier.dense.bias")).map(ACT.gelu!),
          t.get("classifier.out_proj.weight")!,
          t.get("classifier.out_proj.bias"),
        ),
    },
    {
      name: "tiny-modernbert",
      file: FAMILIES,
      architecture: "ModernBertForSequenceClassification",
      kind: "dense-norm",
      prefix: "model.",
      // classifier_bias false (tiny-modern): head.dense has no bias; norm_bias true: head.norm has one.
      head: [
        ["head.dense.weight", [32, 32]],
        ["head.norm.weight", [32]],
        ["head.norm.bias", [32]],
        ["classifier.weight", [2, 32]],
        ["classifier.bias", [2]],
      ],
      config: {
        model_type: "modernbert",
        classifier_pooling: "cls",
        classifier_activation: "silu",
        classifier_bias: false,
        classifier_dropout: 0.1,
        norm_bias: true,
        norm_eps: 1e-12,
      },
      // ModernBertForSequenceClassification: classifier(drop(head(h[:, 0]))), head = norm(act(dense(x))).
      logits: (h: number[], t: Map<string, Float32Array>) =>
        linear(
          layerNorm(
            linear(h, t.get("head.dense.weight")!, undefined).map(ACT.silu!),
            t.get("head.norm.weight")!,
            t.get("head.norm.bias"),
            1e-12,
          ),
          t.get("classifier.weight")!,
          t.get("classifier.bias"),
        ),
    },
  ] as const;

  const byName = (names: [string, number[]][]) => names.sort(([a], [b]) => (a < b ? -1 : 1));

  /** A pretraining checkpoint of `m` (its seeded initial weights) and the classifier `bdlc finetune --out` makes of it. */
  function finetuned(m: ResolvedModel): { pretraining: string; out: string } {
    const pretraining = join(dir, `${m.name}-pretraining`);
    saveCheckpoint(pretraining, m, initialWeights(parameterTable(m), 1, m.special["pad"] ?? 0));
    const ft = join(dir, `${m.name}-ft`);
    const tokenizer = join(run, "tokenizer.json");
    const r = bdlc([
      "finetune",
      pretraining,
      "--task",
      task,
      "--out",
      ft,
      "--epochs",
      "2",
      "--batch",
      "8",
      "--seed",
      "3",
      "--tokenizer",
      tokenizer,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/pooling: \[CLS\] hidden state, head: dense-/);
    return { pretraining, out: ft };
  }

  it.each(cases)(
    "$architecture: finetune --out, export-hf, and the class's head on the written tensors gives predict's probabilities",
    async (c) => {
      const m = model(c.file, c.name);
      const { pretraining, out: ft } = finetuned(m);
      // The classifier names its head; its tensors are the head's.
      const saved = join(ft, "classifier");
      const meta = JSON.parse(readFileSync(join(saved, "bdl.json"), "utf8"));
      expect(meta.classifier).toEqual({ task, labels: ["cat", "dog"], pooling: "cls", seq: 32, head: c.kind });
      const ours = readSafetensors(join(saved, "classifier.safetensors")).tensors;
      expect([...ours.keys()].sort()).toEqual(
        classifierHeadTable(m, c.kind, 2)
          .map((p) => p.name)
          .sort(),
      );

      const hf = join(dir, `${c.name}-hf`);
      const r = await cli("export-hf", ft, "--out", hf);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(c.architecture);
      const written = readSafetensors(join(hf, "model.safetensors")).tensors;
      // The encoder as the pretraining export names it (the discriminator's, for ELECTRA), then exactly the class's head.
      const base = join(dir, `${c.name}-hf-pretraining`);
      const p = await cli("export-hf", pretraining, "--out", base);
      expect(p.code, p.err).toBe(0);
      const baseFile = join(base, ...(m.generator ? ["discriminator"] : []), "model.safetensors");
      const encoder = [...readSafetensors(baseFile).tensors]
        .filter(([n]) => n.startsWith(c.prefix))
        .map(([n, t]): [string, number[]] => [n, t.shape]);
      expect(encoder.length).toBeGreaterThan(10);
      expect([...written].map(([n, t]) => [n, t.shape])).toEqual(
        byName([...encoder, ...c.head.map(([n, s]): [string, number[]] => [n, [...s]])]),
      );

      const config = JSON.parse(readFileSync(join(hf, "config.json"), "utf8"));
      expect(config).toMatchObject({
        architectures: [c.architecture],
        id2label: { "0": "cat", "1": "dog" },
        label2id: { cat: 0, dog: 1 },
        problem_type: "single_label_classification",
        ...c.config,
      });

      // The [CLS] state from the classifier's encoder, then the class's head from the written tensors.
      const loaded = loadCheckpoint(ft);
      const { record } = readClassifier(loaded);
      const { graph } = await loadGraph(loaded.model);
      const tokenizer = loadTokenizer(join(saved, "tokenizer.json"));
      const tensors = new Map([...loaded.weights].map(([n, w]) => [n, tf.tensor(w.values, w.shape)]));
      const headTensors = new Map([...written].filter(([n]) => !n.startsWith(c.prefix)).map(([n, t]) => [n, valuesOf(t)]));
      const expected = TEXTS.map((text) => {
        const ids = classificationIds(text, tokenizer, loaded.model.special, record.seq);
        const cls = tf.tidy(() => {
          const x = {
            inputIds: tf.tensor2d([ids], [1, ids.length], "int32"),
            attentionMask: tf.ones([1, ids.length], "int32") as Tensor2D,
            ...(loaded.model.embeddings.segments > 0 ? { tokenTypeIds: tf.zeros([1, ids.length], "int32") as Tensor2D } : {}),
          };
          const out = graph.encode(
            graph.bindParams((n) => tensors.get(n)),
            x,
            EVAL,
          );
          return tf.slice(out.lastHiddenState, [0, 0, 0], [1, 1, loaded.model.hidden]).dataSync();
        });
        const logits = c.logits(Array.from(cls), headTensors);
        const exp = logits.map((l) => Math.exp(l - Math.max(...logits)));
        return exp.map((e) => e / exp.reduce((a, b) => a + b, 0));
      });
      tf.dispose([...tensors.values()]);
      const predicted = await cli("predict", ft, ...TEXTS.flatMap((t) => ["--text", t]), "--json", "--backend", "cpu");
      expect(predicted.code, predicted.err).toBe(0);
      const printed = predicted.out.split("\n").map((l) => JSON.parse(l));
      printed.forEach((row, i) => {
        expect(row.probabilities.cat).toBeCloseTo(expected[i]![0]!, 5);
        expect(row.probabilities.dog).toBeCloseTo(expected[i]![1]!, 5);
      });
      // The head learnt something: the texts do not all get the same probabilities.
      expect(new Set(printed.map((row) => row.probabilities.cat.toFixed(6))).size).toBeGreaterThan(1);
    },
    240_000,
  );

  it("a DistilBERT classifier saved with one dense layer (a record without a head) still predicts, and export-hf says to fine-tune again", async () => {
    const m = model(FAMILIES, "tiny-distil");
    const saved = join(dir, "tiny-distil-dense");
    const weights = initialWeights(parameterTable(m), 0, 0);
    for (const [n, w] of headWeights(m, "dense", 2, 0)) weights.set(n, w);
    saveClassifierCheckpoint(
      saved,
      m,
      weights,
      { task: "t", labels: ["cat", "dog"], pooling: "cls", seq: 16 },
      readFileSync(join(run, "tokenizer.json"), "utf8"),
    );
    expect(JSON.parse(readFileSync(join(saved, "bdl.json"), "utf8")).classifier).not.toHaveProperty("head");
    const predicted = await cli("predict", saved, "--text", TEXTS[0]!, "--json", "--backend", "cpu");
    expect(predicted.code, predicted.err).toBe(0);
    const hf = join(dir, "tiny-distil-dense-hf");
    expectUserError(
      await cli("export-hf", saved, "--out", hf),
      /DistilBertForSequenceClassification's head is pre_classifier, ReLU, then classifier on the first token's state, but the classifier's head is one dense layer .*fine-tune again/,
    );
    expect(existsSync(hf)).toBe(false);
    // A record naming a head bdl does not have is the checkpoint's problem, named.
    const meta = JSON.parse(readFileSync(join(saved, "bdl.json"), "utf8"));
    writeFileSync(join(saved, "bdl.json"), JSON.stringify({ ...meta, classifier: { ...meta.classifier, head: "dense-tanh" } }));
    expectUserError(await cli("predict", saved, "--text", TEXTS[0]!), /'head' is not one of dense, dense-relu, dense-gelu, dense-norm/);
  }, 60_000);
});

/**
 * `bdlc import-hf` of a `…ForSequenceClassification` folder, for every family: a classifier
 * fine-tuned here and exported reads back as a classifier checkpoint (the layout `finetune
 * --out` writes) that predicts what the original predicts and exports to the same files.
 */
describe("bdlc import-hf of a …ForSequenceClassification folder", () => {
  const FAMILIES = "test/fixtures/train/tiny-families.bdl";
  const cases = [
    { file: TINY_MODEL, name: "tiny", architecture: "BertForSequenceClassification" },
    { file: FAMILIES, name: "tiny-albert", architecture: "AlbertForSequenceClassification" },
    { file: FAMILIES, name: "tiny-roberta", architecture: "RobertaForSequenceClassification" },
    { file: FAMILIES, name: "tiny-distil", architecture: "DistilBertForSequenceClassification" },
    { file: "test/fixtures/train/tiny-electra.bdl", name: "tiny-electra", architecture: "ElectraForSequenceClassification" },
    { file: FAMILIES, name: "tiny-modernbert", architecture: "ModernBertForSequenceClassification" },
  ] as const;
  const EXPORTED = ["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"];

  /** `bdlc finetune --out` of `m`'s seeded initial weights, then `bdlc export-hf` of the classifier. */
  async function finetunedAndExported(m: ResolvedModel): Promise<{ ft: string; hf: string }> {
    const pretraining = join(dir, `${m.name}-import-pretraining`);
    saveCheckpoint(pretraining, m, initialWeights(parameterTable(m), 2, m.special["pad"] ?? 0));
    const ft = join(dir, `${m.name}-import-ft`);
    const args = ["--task", task, "--out", ft, "--epochs", "2", "--batch", "8", "--seed", "5", "--tokenizer", join(run, "tokenizer.json")];
    const r = bdlc(["finetune", pretraining, ...args]);
    expect(r.status, r.stderr).toBe(0);
    const hf = join(dir, `${m.name}-import-hf`);
    const exported = await cli("export-hf", ft, "--out", hf);
    expect(exported.code, exported.err).toBe(0);
    return { ft, hf };
  }

  async function predictions(ckpt: string): Promise<Record<string, number>[]> {
    const r = await cli("predict", ckpt, ...TEXTS.flatMap((t) => ["--text", t]), "--json", "--backend", "cpu");
    expect(r.code, r.err).toBe(0);
    return r.out.split("\n").map((l) => JSON.parse(l).probabilities);
  }

  it.each(cases)(
    "$architecture: export-hf, import-hf, then predict gives the original's probabilities and export-hf the same files",
    async (c) => {
      const m = model(c.file, c.name);
      const { ft, hf } = await finetunedAndExported(m);
      const imported = join(dir, `${m.name}-imported`);
      const r = await cli("import-hf", hf, "--model", `${c.file}:${c.name}`, "--out", imported);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`wrote ${imported}: ${c.architecture} as a classifier of model '${c.name}' (labels cat, dog;`);
      expect(r.out).toContain(`with ${join(hf, "tokenizer.json")}`);

      // The layout finetune --out writes, the record the original's but for the task (the folder it came from).
      expect(readdirSync(imported).sort()).toEqual(["bdl.json", "classifier.safetensors", "model.safetensors", "tokenizer.json"]);
      const original = JSON.parse(readFileSync(join(ft, "classifier", "bdl.json"), "utf8"));
      const meta = JSON.parse(readFileSync(join(imported, "bdl.json"), "utf8"));
      expect(meta.classifier).toEqual({ ...original.classifier, task: hf });
      expect(readFileSync(join(imported, "classifier.safetensors"))).toEqual(
        readFileSync(join(ft, "classifier", "classifier.safetensors")),
      );
      expect(readFileSync(join(imported, "tokenizer.json"), "utf8")).toBe(readFileSync(join(run, "tokenizer.json"), "utf8"));
      // The encoder's tensors hold the original's values; the pretraining heads (and ELECTRA's generator) are not in the class.
      const ours = readSafetensors(join(imported, "model.safetensors")).tensors;
      const theirs = readSafetensors(join(ft, "classifier", "model.safetensors")).tensors;
      expect(ours.size).toBeGreaterThan(10);
      for (const [name, t] of ours) expect(t.data, name).toEqual(theirs.get(name)!.data);
      expect(meta.model.objectives).toEqual([]);
      expect(meta.model).not.toHaveProperty("generator");

      expect(await predictions(imported)).toEqual(await predictions(ft));

      const again = join(dir, `${m.name}-imported-hf`);
      const exported = await cli("export-hf", imported, "--out", again);
      expect(exported.code, exported.err).toBe(0);
      expect(readdirSync(again).sort()).toEqual(EXPORTED);
      for (const f of EXPORTED) expect(readFileSync(join(again, f)), f).toEqual(readFileSync(join(hf, f)));
    },
    240_000,
  );

  /** A copy of the BERT classifier's folder (exported by the first case) with config.json changed by `edit`. */
  function editedConfig(name: string, edit: (config: Record<string, unknown>) => void): string {
    const copy = join(dir, name);
    cpSync(join(dir, "tiny-import-hf"), copy, { recursive: true });
    const config = JSON.parse(readFileSync(join(copy, "config.json"), "utf8"));
    edit(config);
    writeFileSync(join(copy, "config.json"), JSON.stringify(config, null, 2));
    return copy;
  }

  /** A copy of the BERT classifier's folder with model.safetensors's tensors changed by `edit`. */
  function editedWeights(name: string, edit: (tensors: TensorEntry[]) => TensorEntry[]): string {
    const copy = join(dir, name);
    cpSync(join(dir, "tiny-import-hf"), copy, { recursive: true });
    const file = join(copy, "model.safetensors");
    const tensors = [...readSafetensors(file).tensors.values()].map((t) => ({ ...t, data: t.data.slice() }));
    writeSafetensors(file, edit(tensors), { format: "pt" });
    return copy;
  }

  it("refuses, naming the file and the key: another family's class, labels that disagree, missing and unexpected tensors (exit 1)", async () => {
    const tiny = `${TINY_MODEL}:tiny`;
    const refused = async (folder: string, modelRef: string, pattern: RegExp) => {
      const target = join(dir, "refused");
      expectUserError(await cli("import-hf", folder, "--model", modelRef, "--out", target), pattern);
      expect(existsSync(target)).toBe(false);
    };
    const config = (folder: string) => join(folder, "config.json").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const weights = (folder: string) => join(folder, "model.safetensors").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const hf = join(dir, "tiny-import-hf");
    expect(existsSync(join(hf, "config.json")), "the BERT case runs first").toBe(true);

    // Another family's model, and a class that is not the family's.
    await refused(hf, `${FAMILIES}:tiny-distil`, new RegExp(`${config(hf)}: 'model_type' bert is not the family of model 'tiny-distil'`));
    const distilClass = editedConfig("hf-distil-class", (c) => (c["architectures"] = ["DistilBertForSequenceClassification"]));
    await refused(
      distilClass,
      tiny,
      new RegExp(`${config(distilClass)}: 'architectures' class DistilBertForSequenceClassification is not BERT's classifier`),
    );
    // The encoder's config is compared with the model's, every difference named.
    const wider = editedConfig("hf-wider", (c) => (c["hidden_size"] = 64));
    await refused(wider, tiny, new RegExp(`${config(wider)} does not describe model 'tiny'.*\\n.*hidden_size 64`));

    // Labels: id2label against num_labels, label2id, the class ids, problem_type, and the head's rows.
    const labels = (name: string, edit: (c: Record<string, unknown>) => void, pattern: string) => {
      const folder = editedConfig(name, edit);
      return refused(folder, tiny, new RegExp(`${config(folder)}: ${pattern}`));
    };
    await labels("hf-num-labels", (c) => (c["num_labels"] = 3), "'num_labels' 3 differs from the 2 labels of 'id2label'");
    await labels("hf-label2id", (c) => (c["label2id"] = { cat: 1, dog: 0 }), `'label2id' "cat" is 1, but 'id2label' gives it id 0`);
    await labels(
      "hf-ids",
      (c) => (c["id2label"] = { "0": "cat", "2": "dog" }),
      `'id2label' key "2" is not a class id: the ids must be 0 to 1`,
    );
    await labels("hf-twice", (c) => (c["id2label"] = { "0": "cat", "1": "cat" }), `'id2label' names the label "cat" twice`);
    await labels("hf-no-labels", (c) => delete c["id2label"], "missing 'id2label'");
    await labels(
      "hf-regression",
      (c) => (c["problem_type"] = "regression"),
      `'problem_type' "regression": bdl's classifiers are single-label`,
    );
    const three = editedConfig("hf-three", (c) => {
      c["id2label"] = { "0": "cat", "1": "dog", "2": "bird" };
      c["label2id"] = { cat: 0, dog: 1, bird: 2 };
    });
    await refused(
      three,
      tiny,
      new RegExp(`${weights(three)}: tensor 'classifier.weight' has 2 rows, one per label, but ${config(three)} 'id2label' names 3 labels`),
    );

    // Tensors: a missing one, one the class does not have, one misshapen.
    const missing = editedWeights("hf-missing", (ts) => ts.filter((t) => t.name !== "classifier.bias"));
    await refused(
      missing,
      tiny,
      new RegExp(`${weights(missing)}: missing 1 tensor\\(s\\) BertForSequenceClassification of model 'tiny' needs: classifier\\.bias`),
    );
    const extra = editedWeights("hf-extra", (ts) => [
      ...ts,
      { ...ts.find((t) => t.name === "classifier.weight")!, name: "pre_classifier.weight" },
    ]);
    await refused(
      extra,
      tiny,
      new RegExp(
        `${weights(extra)}: 1 tensor\\(s\\) that BertForSequenceClassification of model 'tiny' does not have: pre_classifier\\.weight`,
      ),
    );
    // The pooler the class's head reads: a BERT model without one is refused.
    copyFileSync(TINY_MODEL, join(dir, "tiny.bdl"));
    const noPooler = join(dir, "no-pooler.bdl");
    writeFileSync(noPooler, `import "tiny.bdl"\n\nmodel tiny-no-pooler extends tiny {\n  pooler none\n  objectives { nsp off }\n}\n`);
    await refused(
      hf,
      `${noPooler}:tiny-no-pooler`,
      new RegExp(
        `${config(hf)}: BertForSequenceClassification's head is a dense layer on BERT's tanh pooler, but model 'tiny-no-pooler' .* has no pooler`,
      ),
    );
  }, 120_000);

  it("a folder without tokenizer.json imports without one: predict and export-hf take --tokenizer", async () => {
    const bare = join(dir, "hf-bare");
    cpSync(join(dir, "tiny-import-hf"), bare, { recursive: true });
    for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) rmSync(join(bare, f));
    const imported = join(dir, "imported-bare");
    const r = await cli("import-hf", bare, "--model", `${TINY_MODEL}:tiny`, "--out", imported);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${bare} has no tokenizer.json: give predict and export-hf --tokenizer FILE`);
    expect(readdirSync(imported).sort()).toEqual(["bdl.json", "classifier.safetensors", "model.safetensors"]);
    expectUserError(await cli("predict", imported, "--text", TEXTS[0]!), /no tokenizer\.json for .*--tokenizer FILE/);
    const p = await cli("predict", imported, "--text", TEXTS[0]!, "--tokenizer", join(run, "tokenizer.json"), "--backend", "cpu");
    expect(p.code, p.err).toBe(0);
  }, 60_000);
});
