/**
 * 200 training steps through the whole trainer (data, steps, logging, checkpoints,
 * evaluation) on the backends people train on (wasm, and native where installed; the
 * pure-JS cpu backend is the reference for parity, too slow for 200 steps in the suite): after the first steps (which create the
 * optimizer's moments and the backend's caches) the number of live tensors, their bytes,
 * and the wasm heap stay flat — nothing accumulates per step.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import { loadGraph } from "../../../src/app/graph-loader.js";
import { useBackend, type BackendName } from "../../../src/runtime/backends/backend.js";
import { loadCorpus } from "../../../src/runtime/data/corpus.js";
import { loadOnnxRuntime } from "../../../src/runtime/backends/native/onnxruntime.js";
import { loadTokenizer, saveTokenizer } from "../../../src/runtime/tokenizers/hf-json.js";
import { trainTokenizer } from "../../../src/runtime/tokenizers/train.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { train } from "../../../src/runtime/train/trainer.js";
import { TINY_MODEL, writeGlossCorpus } from "../../helpers/training.js";

const STEPS = 200;
const BACKENDS_HERE: BackendName[] = ["wasm", ...(loadOnnxRuntime() ? (["native"] as const) : [])];

interface Sample {
  step: number;
  tensors: number;
  bytes: number;
  /** The wasm heap's size, for the wasm-based backends. */
  heap: number;
}

/** The wasm backends keep all tensor data in one growable WebAssembly memory. */
function wasmHeapBytes(): number {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return backend.wasm?.HEAPU8.length ?? 0;
}

const dir = mkdtempSync(join(tmpdir(), "bdl-memory-"));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await tf.setBackend("cpu");
});

describe.each(BACKENDS_HERE)("%s", (backend) => {
  it(`keeps tensors, bytes and heap flat over ${STEPS} training steps`, async () => {
    await useBackend(backend);
    const model = checkFile(TINY_MODEL).resolutions.get("tiny")!.model;
    const { graph } = await loadGraph(model);
    const corpusPath = join(dir, `corpus-${backend}.txt`);
    writeGlossCorpus(corpusPath);
    const samples: Sample[] = [];
    const summary = await train({
      model,
      teacher: null,
      graph,
      teacherGraph: null,
      teacherWeights: null,
      corpus: loadCorpus(corpusPath),
      tokenizer: (texts) =>
        trainTokenizer(model.tokenizer.kind, texts, {
          vocabSize: model.vocab,
          lowercase: model.tokenizer.lowercase,
          special: model.special,
        }),
      loadTokenizer,
      saveTokenizer,
      out: join(dir, `run-${backend}`),
      steps: STEPS,
      batch: 8,
      lr: 1e-3,
      seed: 1,
      saveEvery: 50,
      keep: 2,
      resume: null,
      logEvery: 1,
      evalEvery: 100,
      accumulate: 1,
      clipNorm: 1,
      evalExamples: 16,
      progress: {
        update: (p) => samples.push({ step: p.step, tensors: tf.memory().numTensors, bytes: tf.memory().numBytes, heap: wasmHeapBytes() }),
        message: () => {},
        done: () => {},
      },
      shouldStop: () => false,
      architectureSvg: "<svg/>",
    });
    expect(summary.steps).toBe(STEPS);
    expect(samples.length).toBe(STEPS);
    // From step 10 on (moments created, eval and checkpoints have run in between) nothing grows.
    const settled = samples.filter((s) => s.step >= 10);
    const first = settled[0]!;
    for (const s of settled) {
      expect(s.tensors, `live tensors at step ${s.step}`).toBe(first.tensors);
      expect(s.bytes, `tensor bytes at step ${s.step}`).toBe(first.bytes);
    }
    // The heap may grow while the allocator finds its working set, then must stop.
    const late = samples.filter((s) => s.step >= STEPS / 2);
    expect(new Set(late.map((s) => s.heap)).size, "wasm heap size over the second half").toBe(1);
  }, 120_000);
});
