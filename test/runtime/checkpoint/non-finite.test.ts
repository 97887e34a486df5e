/**
 * Weights holding NaN or ±Infinity are refused when loaded, from a checkpoint or a Hugging Face
 * folder, by every command that reads weights: exit 1, naming the file and the tensor, and
 * nothing written or changed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../../helpers/cli.js";
import { nonFiniteProblem } from "../../../src/runtime/checkpoint/finite.js";
import { readSafetensors, writeSafetensors, type TensorEntry } from "../../../src/runtime/checkpoint/safetensors.js";
import { tf } from "../../../src/runtime/backends/tf.js";

const GOLDENS = "test/fixtures/goldens";

/** Every file under `dir` with its bytes, to show that a refused command changed nothing. */
function snapshot(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const p = path.join(entry.parentPath, entry.name);
      files.set(path.relative(dir, p), fs.readFileSync(p).toString("base64"));
    }
  }
  return files;
}

/** A copy of `file` with `value` written at flat index 3 of tensor `name` (F32). */
function poison(file: string, name: string, value: number): void {
  const parsed = readSafetensors(file);
  const entries: TensorEntry[] = [...parsed.tensors.values()].map((t) => ({ ...t, data: Uint8Array.from(t.data) }));
  const target = entries.find((t) => t.name === name)!;
  new DataView(target.data.buffer).setFloat32(3 * 4, value, true);
  writeSafetensors(file, entries, parsed.metadata);
}

let tmp: string;
let ckpt: string;
beforeAll(async () => {
  await tf.setBackend("cpu");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bdl-nonfinite-"));
  ckpt = path.join(tmp, "clean-ckpt");
  const r = await cli("import-hf", `${GOLDENS}/bert`, "--model", `${GOLDENS}/bert.bdl`, "--out", ckpt);
  expect(r.code, r.err).toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("nonFiniteProblem", () => {
  it.each([
    [[0, 1, -2.5, 3e38], null],
    [[0, NaN, 1], "NaN at index 1 of 3"],
    [[Infinity], "+Infinity at index 0 of 1"],
    [[1, 2, -Infinity, NaN], "-Infinity at index 2 of 4"],
  ])("%j → %s", (values, expected) => {
    expect(nonFiniteProblem(Float32Array.from(values))).toBe(expected);
  });
});

describe("commands refuse non-finite weights", () => {
  const inputs = `${GOLDENS}/bert/inputs.json`;
  // [case, where the bad value is, tensor (our name for checkpoints, Hugging Face's for folders), value, command, words]
  const cases: [string, "checkpoint" | "hf", string, number, (weights: string) => string[], string[]][] = [
    [
      "run on a checkpoint with NaN",
      "checkpoint",
      "embeddings.word",
      NaN,
      (w) => ["run", `${GOLDENS}/bert.bdl`, "--weights", w, "--inputs", inputs],
      ["model.safetensors", "'embeddings.word'", "NaN at index 3"],
    ],
    [
      "run on a checkpoint with +Inf",
      "checkpoint",
      "layers.1.ffn.output.bias",
      Infinity,
      (w) => ["run", `${GOLDENS}/bert.bdl`, "--weights", w, "--inputs", inputs],
      ["'layers.1.ffn.output.bias'", "+Infinity"],
    ],
    [
      "eval of a checkpoint with -Inf",
      "checkpoint",
      "embeddings.norm.weight",
      -Infinity,
      (w) => ["eval", w],
      ["'embeddings.norm.weight'", "-Infinity", "finite"],
    ],
    [
      "export-hf of a checkpoint with NaN",
      "checkpoint",
      "embeddings.word",
      NaN,
      (w) => ["export-hf", w, "--out", path.join(tmp, "never-exported")],
      ["'embeddings.word'", "NaN"],
    ],
    [
      "import-hf of a folder with NaN",
      "hf",
      "bert.embeddings.word_embeddings.weight",
      NaN,
      (w) => ["import-hf", w, "--model", `${GOLDENS}/bert.bdl`, "--out", path.join(tmp, "never-imported")],
      ["model.safetensors", "'bert.embeddings.word_embeddings.weight'", "NaN at index 3"],
    ],
    [
      "run on a folder with +Inf",
      "hf",
      "bert.encoder.layer.0.attention.self.query.weight",
      Infinity,
      (w) => ["run", `${GOLDENS}/bert.bdl`, "--weights", w, "--inputs", inputs],
      ["'bert.encoder.layer.0.attention.self.query.weight'", "+Infinity"],
    ],
  ];

  it.each(cases)("%s: exit 1 naming the tensor, nothing changed", async (label, kind, tensor, value, command, words) => {
    const dir = path.join(tmp, label.replace(/\W+/g, "-"));
    fs.cpSync(kind === "checkpoint" ? ckpt : `${GOLDENS}/bert`, dir, { recursive: true });
    poison(path.join(dir, "model.safetensors"), tensor, value);
    const before = snapshot(dir);
    const r = await cli(...command(dir));
    expect(r.code, r.err).toBe(1);
    expect(r.err).not.toMatch(/internal error|^\s+at /m);
    for (const w of words) expect(r.err).toContain(w);
    expect(snapshot(dir)).toEqual(before);
    expect(fs.existsSync(path.join(tmp, "never-exported"))).toBe(false);
    expect(fs.existsSync(path.join(tmp, "never-imported"))).toBe(false);
  });

  it("the clean checkpoint still runs", async () => {
    const r = await cli("run", `${GOLDENS}/bert.bdl`, "--weights", ckpt, "--inputs", inputs);
    expect(r.code, r.err).toBe(0);
  });
});
