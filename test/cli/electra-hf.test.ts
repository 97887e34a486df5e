/**
 * The Hugging Face commands for a model with a generator (ELECTRA), through `main()`: its
 * weights are two transformers checkpoints, `generator/` (ElectraForMaskedLM) and
 * `discriminator/` (ElectraForPreTraining), in one folder, as goldens/electra holds them.
 * `export-hf` writes that folder, `import-hf`, `run --weights` and `train --init` read it, and
 * `from-hf` turns its two configs into one model with a `generator` block.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { saveCheckpoint, loadCheckpoint } from "../../src/runtime/checkpoint/checkpoint.js";
import { readSafetensors, writeSafetensors, toFloat32, fromFloat32 } from "../../src/runtime/checkpoint/safetensors.js";
import { readHfConfig } from "../../src/model/hf/config.js";
import { parameterTable } from "../../src/model/parameters.js";
import { initialWeights } from "../../src/runtime/init.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { cli } from "../helpers/cli.js";
import { writeGlossCorpus } from "../helpers/training.js";

const GOLDENS = "test/fixtures/goldens";
const SIDES = ["discriminator", "generator"] as const;

const json = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Exit 1 with one clear message: no stack trace, no internal error. */
function expectUserError(r: { code: number; out: string; err: string }, pattern: RegExp): void {
  expect(r.code, r.err).toBe(1);
  expect(r.err).not.toMatch(/^\s+at /m);
  expect(r.err).not.toMatch(/internal error/i);
  expect(r.err).toMatch(pattern);
}

/** name → [shape, bytes] of a safetensors file. */
function tensorBytes(file: string): Map<string, [number[], Buffer]> {
  return new Map([...readSafetensors(file).tensors].map(([n, t]) => [n, [t.shape, Buffer.from(t.data)]]));
}

// electra-mini's proportions at a size the suite runs in a moment, with goldens/electra's
// vocabulary, special ids and layer counts, so that its inputs.json fits and its tensor names
// are the export's: embeddings as wide as the generator (which therefore has no projection),
// half the discriminator's width.
const TINY = `model tiny-pair {
  vocab 99
  hidden 32
  layers 3
  heads 4
  intermediate 64
  pooler none
  embeddings { factorize 16 positions 64 segments 2 }
  generator { hidden 16 layers 2 heads 2 intermediate 32 }
  objectives { mlm rtd weight 50 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 64 }
}
`;

let tmp: string;
let tinyBdl: string;
let tinyCkpt: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bdl-electra-hf-"));
  tinyBdl = path.join(tmp, "tiny-pair.bdl");
  fs.writeFileSync(tinyBdl, TINY);
  const checked = checkFile(tinyBdl);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const model = [...checked.resolutions.values()][0]!.model;
  tinyCkpt = path.join(tmp, "tiny-ckpt");
  saveCheckpoint(tinyCkpt, model, initialWeights(parameterTable(model), 7, 0));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("bdlc run on a generator/ + discriminator/ folder", () => {
  it("goldens/electra reproduces the golden's loss and terms to 2e-4 relative", async () => {
    const out = path.join(tmp, "run-electra.json");
    const r = await cli(
      "run",
      `${GOLDENS}/electra.bdl`,
      "--weights",
      `${GOLDENS}/electra`,
      "--inputs",
      `${GOLDENS}/electra/inputs.json`,
      "--out",
      out,
    );
    expect(r.code, r.err).toBe(0);
    const ours = json(out);
    const golden = json(`${GOLDENS}/electra/outputs.json`);
    expect(relative(ours.loss, golden.loss)).toBeLessThan(2e-4);
    for (const k of ["mlm", "rtd"]) expect(relative(ours.loss_terms[k], golden.loss_terms[k]), k).toBeLessThan(2e-4);
  });
});

describe("bdlc run --weights DISC --generator-weights GEN (the two folders given one by one)", () => {
  it("gives the golden's loss and every gradient norm under each model's names, as the pair folder does", async () => {
    const out = path.join(tmp, "run-electra-flags.json");
    const r = await cli(
      "run",
      `${GOLDENS}/electra.bdl`,
      "--weights",
      `${GOLDENS}/electra/discriminator`,
      "--generator-weights",
      `${GOLDENS}/electra/generator`,
      "--inputs",
      `${GOLDENS}/electra/inputs.json`,
      "--out",
      out,
    );
    expect(r.code, r.err).toBe(0);
    const ours = json(out);
    const golden = json(`${GOLDENS}/electra/outputs.json`);
    expect(relative(ours.loss, golden.loss)).toBeLessThan(2e-4);
    for (const key of ["generator_grad_norms", "discriminator_grad_norms"]) {
      expect(Object.keys(ours[key]).sort(), key).toEqual(Object.keys(golden[key]).sort());
    }
    expect(ours).toEqual(json(path.join(tmp, "run-electra.json")));
  });

  it("refuses --generator-weights for a model without a generator, and a --weights that is not a Hugging Face folder", async () => {
    const args = ["--inputs", `${GOLDENS}/bert/inputs.json`, "--generator-weights", `${GOLDENS}/electra/generator`];
    expectUserError(
      await cli("run", `${GOLDENS}/bert.bdl`, "--weights", `${GOLDENS}/bert`, ...args),
      /has no generator, so --generator-weights/,
    );
    expectUserError(
      await cli(
        "run",
        `${GOLDENS}/electra.bdl`,
        "--weights",
        `${GOLDENS}/electra`,
        ...args.slice(2),
        "--inputs",
        `${GOLDENS}/electra/inputs.json`,
      ),
      /--weights .*electra: with --generator-weights, each must be a Hugging Face folder/,
    );
  });
});

describe("bdlc export-hf / import-hf of a model with a generator", () => {
  it("writes discriminator/ (ElectraForPreTraining) and generator/ (ElectraForMaskedLM), each with the shared embeddings", async () => {
    const out = path.join(tmp, "hf-pair");
    const r = await cli("export-hf", tinyCkpt, "--out", out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`wrote ${path.join(out, "discriminator")}: ElectraForPreTraining`);
    expect(r.out).toContain(`wrote ${path.join(out, "generator")}: ElectraForMaskedLM`);
    expect(fs.readdirSync(out).sort()).toEqual(["discriminator", "generator"]);
    for (const side of SIDES) expect(fs.readdirSync(path.join(out, side)).sort()).toEqual(["config.json", "model.safetensors"]);
    // No temporary folder is left beside it.
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith("hf-pair."))).toEqual([]);

    const disc = json(path.join(out, "discriminator", "config.json"));
    const gen = json(path.join(out, "generator", "config.json"));
    expect(disc).toMatchObject({
      model_type: "electra",
      architectures: ["ElectraForPreTraining"],
      hidden_size: 32,
      num_hidden_layers: 3,
      num_attention_heads: 4,
      intermediate_size: 64,
      embedding_size: 16,
      vocab_size: 99,
      tie_word_embeddings: true,
    });
    // The generator has the generator block's sizes.
    expect(gen).toMatchObject({
      model_type: "electra",
      architectures: ["ElectraForMaskedLM"],
      hidden_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 32,
      embedding_size: 16,
      vocab_size: 99,
    });
    // The configs carry the keys goldens/electra's (saved by transformers) carry, bar the ones this project does not write.
    for (const side of SIDES) {
      const theirs = json(`${GOLDENS}/electra/${side}/config.json`);
      const ours = side === "discriminator" ? disc : gen;
      for (const key of ["embedding_size", "hidden_act", "layer_norm_eps", "max_position_embeddings", "pad_token_id", "type_vocab_size"])
        expect(ours, `${side} ${key}`).toHaveProperty(key);
      expect(readHfConfig(ours, `${side}/config.json`).architecture).toBe(theirs.architectures[0]);
    }

    const d = tensorBytes(path.join(out, "discriminator", "model.safetensors"));
    const g = tensorBytes(path.join(out, "generator", "model.safetensors"));
    // The tensor names are those of transformers' own pair.
    const names = (side: string) => [...readSafetensors(`${GOLDENS}/electra/${side}/model.safetensors`).tensors.keys()].sort();
    expect([...d.keys()].sort()).toEqual(names("discriminator"));
    expect([...g.keys()].sort()).toEqual(names("generator"));
    for (const name of json(`${GOLDENS}/electra/outputs.json`).meta.shared_names as string[]) {
      expect(g.get(name)![0], name).toEqual(d.get(name)![0]);
      expect(g.get(name)![1].equals(d.get(name)![1]), name).toBe(true);
    }
    expect(g.has("electra.embeddings_project.weight")).toBe(false);
    expect(d.has("electra.embeddings_project.weight")).toBe(true);
  });

  it("import-hf of the export reads back every tensor bit for bit, and run on it gives the checkpoint's outputs exactly", async () => {
    const out = path.join(tmp, "hf-pair-round");
    expect((await cli("export-hf", tinyCkpt, "--out", out)).code).toBe(0);
    const back = path.join(tmp, "tiny-back");
    const i = await cli("import-hf", out, "--model", tinyBdl, "--out", back);
    expect(i.code, i.err).toBe(0);
    const original = loadCheckpoint(tinyCkpt).weights;
    const read = loadCheckpoint(back).weights;
    expect([...read.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, w] of original) {
      expect(read.get(name)!.shape, name).toEqual(w.shape);
      expect(Buffer.from(read.get(name)!.values.buffer).equals(Buffer.from(w.values.buffer)), name).toBe(true);
    }

    const run = (weights: string) =>
      cli("run", tinyBdl, "--weights", weights, "--inputs", `${GOLDENS}/electra/inputs.json`, "--backend", "cpu");
    const fromCkpt = await run(tinyCkpt);
    const fromHf = await run(out);
    expect(fromCkpt.code, fromCkpt.err).toBe(0);
    expect(fromHf.code, fromHf.err).toBe(0);
    expect(JSON.parse(fromHf.out)).toEqual(JSON.parse(fromCkpt.out));
  });

  it("replaces an earlier export, and refuses a folder holding anything else", async () => {
    const out = path.join(tmp, "hf-pair-again");
    expect((await cli("export-hf", tinyCkpt, "--out", out)).code).toBe(0);
    expect((await cli("export-hf", tinyCkpt, "--out", out)).code).toBe(0);
    fs.writeFileSync(path.join(out, "generator", "notes.txt"), "mine");
    expectUserError(await cli("export-hf", tinyCkpt, "--out", out), /refusing to replace .*generator\/ folder: .*notes\.txt/);
    const single = path.join(tmp, "hf-single-there");
    fs.mkdirSync(single);
    fs.writeFileSync(path.join(single, "config.json"), "{}");
    expectUserError(
      await cli("export-hf", tinyCkpt, "--out", single),
      /refusing to replace .*other than the discriminator\/ and generator\/ folders .*config\.json/,
    );
    expect(fs.readdirSync(single)).toEqual(["config.json"]);
  });
});

describe("reading a model with a generator from Hugging Face folders: refusals", () => {
  it("a single Hugging Face folder is refused, naming it and the two subfolders it needs", async () => {
    const single = `${GOLDENS}/electra/discriminator`;
    const needs = new RegExp(
      `${single} is a single Hugging Face checkpoint, but model 'tiny-electra' has a generator: .*needs generator/ \\(ElectraForMaskedLM\\) and discriminator/ \\(ElectraForPreTraining\\)`,
    );
    expectUserError(await cli("import-hf", single, "--model", `${GOLDENS}/electra.bdl`, "--out", path.join(tmp, "never")), needs);
    expectUserError(await cli("run", `${GOLDENS}/electra.bdl`, "--weights", single, "--inputs", `${GOLDENS}/electra/inputs.json`), needs);
    expect(fs.existsSync(path.join(tmp, "never"))).toBe(false);
    // A folder with one of the two names which of them it lacks.
    const half = path.join(tmp, "half");
    fs.mkdirSync(half);
    fs.cpSync(`${GOLDENS}/electra/generator`, path.join(half, "generator"), { recursive: true });
    expectUserError(
      await cli("import-hf", half, "--model", `${GOLDENS}/electra.bdl`, "--out", path.join(tmp, "never")),
      /half has no discriminator\/, but model 'tiny-electra' has a generator/,
    );
  });

  it("a pair folder given for a model without a generator is refused, naming it", async () => {
    expectUserError(
      await cli("import-hf", `${GOLDENS}/electra`, "--model", `${GOLDENS}/bert.bdl`, "--out", path.join(tmp, "never")),
      /electra holds generator\/ and discriminator\/, .* but model 'tiny-bert' has no generator/,
    );
  });

  it("shared embeddings that differ between the two folders are refused, naming the tensor", async () => {
    const pair = path.join(tmp, "differing");
    fs.cpSync(`${GOLDENS}/electra`, pair, { recursive: true });
    const file = path.join(pair, "generator", "model.safetensors");
    const tensors = [...readSafetensors(file).tensors.values()].map((t) => {
      if (t.name !== "electra.embeddings.position_embeddings.weight") return t;
      const values = toFloat32(t).slice();
      values[5] = values[5]! + 0.25;
      return fromFloat32(t.name, t.shape, values);
    });
    writeSafetensors(file, tensors, { format: "pt" });
    const r = await cli("import-hf", pair, "--model", `${GOLDENS}/electra.bdl`, "--out", path.join(tmp, "never"));
    expectUserError(
      r,
      /generator[\\/]model\.safetensors: tensor 'electra\.embeddings\.position_embeddings\.weight' differs from the discriminator's/,
    );
    expect(fs.existsSync(path.join(tmp, "never"))).toBe(false);
  });

  it("a config that does not describe its side of the model names the side and the difference", async () => {
    const pair = path.join(tmp, "wrong-config");
    fs.cpSync(`${GOLDENS}/electra`, pair, { recursive: true });
    const config = path.join(pair, "generator", "config.json");
    fs.writeFileSync(config, JSON.stringify({ ...json(config), intermediate_size: 48 }));
    const r = await cli("import-hf", pair, "--model", `${GOLDENS}/electra.bdl`, "--out", path.join(tmp, "never"));
    expectUserError(
      r,
      /generator[\\/]config\.json does not describe the generator of model 'tiny-electra' \(.*electra\.bdl\): 1 difference/,
    );
    expect(r.err).toContain(`config.json intermediate_size 48 ≠ ${GOLDENS}/electra.bdl generator intermediate 64`);
  });
});

describe("a trained run with a generator, exported and trained on", () => {
  it("export-hf writes the run's tokenizer into both folders, and train --init starts from the export", async () => {
    const dir = path.join(tmp, "trained");
    fs.mkdirSync(dir);
    const corpus = path.join(dir, "corpus.txt");
    writeGlossCorpus(corpus);
    const bdl = path.join(dir, "tiny-trained.bdl");
    fs.writeFileSync(bdl, TINY.replace("vocab 99", "vocab 400").replace("train { seq 64 }", "train { seq 32 batch 4 }"));
    const run = path.join(dir, "run");
    const t = await cli("train", bdl, "--corpus", corpus, "--out", run, "--steps", "2", "--backend", "cpu");
    expect(t.code, t.err).toBe(0);
    const out = path.join(dir, "hf");
    const e = await cli("export-hf", run, "--out", out);
    expect(e.code, e.err).toBe(0);
    for (const side of SIDES) {
      expect(fs.readdirSync(path.join(out, side)).sort()).toEqual([
        "config.json",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
      ]);
      expect(fs.readFileSync(path.join(out, side, "tokenizer.json"), "utf8")).toBe(
        fs.readFileSync(path.join(run, "tokenizer.json"), "utf8"),
      );
      expect(json(path.join(out, side, "special_tokens_map.json")).mask_token).toBe("[MASK]");
    }
    const again = path.join(dir, "again");
    const i = await cli(
      "train",
      bdl,
      "--corpus",
      corpus,
      "--out",
      again,
      "--steps",
      "1",
      "--backend",
      "cpu",
      "--init",
      out,
      "--tokenizer",
      path.join(run, "tokenizer.json"),
    );
    expect(i.code, i.err).toBe(0);
    expect(i.err).toContain("starting from the --init weights");
  }, 300_000);
});

describe("bdlc from-hf on a generator/ + discriminator/ folder", () => {
  it("goldens/electra: one model with a generator block, whose parameters are goldens/electra.bdl's and which reads the pair", async () => {
    const r = await cli("from-hf", `${GOLDENS}/electra`, "--name", "electra-from-hf");
    expect(r.code, r.err).toBe(0);
    // The header comment, with its line breaks undone.
    expect(r.out.replace(/\n\/\/ /g, " ")).toContain("ElectraForPreTraining with the generator ElectraForMaskedLM");
    expect(r.out).toContain("generator { hidden 16 layers 2 heads 2 intermediate 64 }");
    expect(r.out).toContain("objectives { mlm weight 1 rtd weight 50 }");
    const bdl = path.join(tmp, "electra-from-hf.bdl");
    fs.writeFileSync(bdl, r.out);
    const model = [...checkFile(bdl).resolutions.values()][0]!.model;
    const golden = [...checkFile(`${GOLDENS}/electra.bdl`).resolutions.values()][0]!.model;
    const table = (m: typeof model) => parameterTable(m).map((p) => `${p.name} [${p.shape}]`);
    expect(table(model)).toEqual(table(golden));
    const i = await cli("import-hf", `${GOLDENS}/electra`, "--model", bdl, "--out", path.join(tmp, "from-hf-ckpt"));
    expect(i.code, i.err).toBe(0);
  });

  it("a lone discriminator's folder is refused, naming the --generator flag and the pair layout", async () => {
    expectUserError(
      await cli("from-hf", `${GOLDENS}/electra/discriminator`),
      /ElectraForPreTraining config is ELECTRA's discriminator.*--generator GEN_DIR/,
    );
  });

  it("from-hf DISC --generator GEN gives the model the pair folder gives", async () => {
    const one = await cli("from-hf", `${GOLDENS}/electra`, "--name", "electra-from-hf");
    const two = await cli(
      "from-hf",
      `${GOLDENS}/electra/discriminator`,
      "--generator",
      `${GOLDENS}/electra/generator`,
      "--name",
      "electra-from-hf",
    );
    expect(two.code, two.err).toBe(0);
    const body = (text: string) => text.slice(text.indexOf("model "));
    expect(body(two.out)).toBe(body(one.out));
    expect(two.out.replace(/\n\/\/ /g, " ")).toContain(
      "electra/discriminator/config.json and test/fixtures/goldens/electra/generator/config.json",
    );
  });

  it("refuses two configs that disagree on what the generator shares, naming the field in both", async () => {
    const pair = path.join(tmp, "from-hf-vocab");
    fs.mkdirSync(pair);
    for (const side of SIDES) {
      fs.mkdirSync(path.join(pair, side));
      fs.copyFileSync(`${GOLDENS}/electra/${side}/config.json`, path.join(pair, side, "config.json"));
    }
    const config = path.join(pair, "generator", "config.json");
    fs.writeFileSync(config, JSON.stringify({ ...json(config), vocab_size: 120 }));
    expectUserError(
      await cli("from-hf", pair),
      /generator[\\/]config\.json: vocab_size 120 ≠ the discriminator's 99 \(.*discriminator[\\/]config\.json\): a bdl generator shares the model's vocab/,
    );
    fs.writeFileSync(config, JSON.stringify({ ...json(config), vocab_size: 99, architectures: ["ElectraForPreTraining"] }));
    expectUserError(
      await cli("from-hf", pair),
      /generator[\\/]config\.json: ELECTRA's generator is ElectraForMaskedLM, but the config has 'architectures' ElectraForPreTraining/,
    );
  });
});
