/**
 * The two engines agree: for a model of each kind the language has (BERT's block with NSP,
 * RoBERTa's offset positions, ALBERT's factorized embeddings with partial sharing and SOP, a
 * DistilBERT student of a wider teacher, ModernBERT's pre-LN gated biasless block with rotary
 * local/global attention, ELECTRA's generator and discriminator, packed documents, other
 * activations), the same weights and batch give the same outputs, loss, terms and gradient
 * norms on the tfjs engine (`runOnce`, cpu) and on the torch engine (the emitted PyTorch module).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import { runOnTorch } from "../../src/app/run.js";
import { parameterTable } from "../../src/model/parameters.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { createRng } from "../../src/runtime/data/random.js";
import { runOnce, type RunInputs } from "../../src/runtime/run.js";
import type { WeightMap } from "../../src/runtime/checkpoint/hf-weights.js";
import { useBackend } from "../../src/runtime/backends/backend.js";
import { tempFiles } from "../helpers/temp-files.js";
import { expectGradNormClose, maxAbsDiff, relative } from "../helpers/parity.js";
import { skipTorch } from "./torch-here.js";

const REL = 1e-5;
const OUTPUT_ABS = 1e-5;

const SOURCE = `
model base {
  vocab 61 hidden 24 layers 3 heads 4 intermediate 40
  activation gelu norm_eps 1e-12 dropout 0.1 attention_dropout 0.1
  embeddings { positions 32 segments 2 }
  objectives { mlm weight 1 nsp weight 1 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 32 }
}
model roberta-like extends base {
  embeddings { offset 2 segments 0 }
  pooler none
  activation relu
  objectives { nsp off }
  special { pad 1 unk 3 cls 0 sep 2 }
}
model albert-like extends base {
  activation gelu_new
  layers 4
  embeddings { factorize 8 }
  sharing {
    group a layers 1..2 share attention ffn
    group b layers [0, 3] share ffn
  }
  objectives { nsp off sop weight 1 }
}
model teacher extends base {
  hidden 32 intermediate 48
  pooler none
  objectives { nsp off }
}
model student extends teacher {
  hidden 24 layers 2 intermediate 40
  embeddings { segments 0 }
  objectives { mlm weight 2 distill weight 5 temperature 2 cosine weight 1 }
  teacher teacher { }
}
model modern-like extends base {
  layers 4
  norm_position pre
  first_attention_norm false
  feed_forward gated
  activation silu
  attention_bias false
  mlp_bias false
  norm_bias false
  classifier_bias false
  decoder_bias false
  embeddings { segments 0 }
  pooler none
  objectives { nsp off }
  attention { rotary 160000 window 4 global_every 2 local_rotary 10000 }
}
model electra-like extends base {
  pooler none
  embeddings { factorize 16 }
  generator { hidden 16 layers 2 heads 2 intermediate 32 }
  objectives { nsp off rtd weight 50 }
}
model packed extends roberta-like {
  train { document_mask true }
}
`;

const temp = tempFiles("bdl-engines-");
let file = "";
const models = new Map<string, ResolvedModel>();

/** Weights far from the initialiser's (as the goldens' are): N(0, 0.2²) tensors, N(0, 0.1²) biases, LayerNorm weights 1 + N(0, 0.1²). */
function weightsOf(model: ResolvedModel, teacher: ResolvedModel | null, seed: number): WeightMap {
  const rng = createRng(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const weights: WeightMap = new Map();
  for (const spec of parameterTable(model, teacher)) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++)
      values[i] = spec.init === "normal" ? 0.2 * normal() : spec.init === "ones" ? 1 + 0.1 * normal() : 0.1 * normal();
    weights.set(spec.name, { shape: spec.shape, values });
  }
  return weights;
}

/** Two rows of 12, the second padded, labels at a sixth of the real positions; the labels each objective needs. */
function batchOf(model: ResolvedModel): RunInputs {
  const rng = createRng(7);
  const pad = model.special["pad"]!;
  const seq = 12;
  const lengths = [12, 8];
  const input_ids = lengths.map((n) => Array.from({ length: seq }, (_, i) => (i < n ? 5 + Math.floor(rng() * (model.vocab - 5)) : pad)));
  const attention_mask = lengths.map((n) => Array.from({ length: seq }, (_, i) => (i < n ? 1 : 0)));
  const labels = input_ids.map((row, b) => row.map((id, i) => (i < lengths[b]! && i % 6 === 1 ? id : -100)));
  const inputs: RunInputs = { input_ids, attention_mask, labels };
  if (model.embeddings.segments > 0)
    inputs.token_type_ids = lengths.map((n) => Array.from({ length: seq }, (_, i) => (i >= n / 2 && i < n ? 1 : 0)));
  if (model.objectives.some((o) => o.name === "nsp")) inputs.next_sentence_label = [0, 1];
  if (model.objectives.some((o) => o.name === "sop")) inputs.sentence_order_label = [1, 0];
  if (model.train.document_mask)
    inputs.document_ids = lengths.map((n) => Array.from({ length: seq }, (_, i) => (i >= n ? -1 : i < 5 ? 0 : 1)));
  if (model.generator) inputs.generator_samples = labels.map((row) => row.map((l, i) => (l === -100 ? -1 : (l + i) % model.vocab)));
  return inputs;
}

beforeAll(async () => {
  await useBackend("cpu");
  file = temp.file("kinds.bdl", SOURCE);
  const checked = checkFile(file);
  expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  for (const [name, r] of checked.resolutions) models.set(name, r.model);
});

describe.skipIf(skipTorch).each(["base", "roberta-like", "albert-like", "student", "modern-like", "electra-like", "packed"])(
  "%s",
  (name) => {
    let tfjs: Record<string, any>;
    let torch: Record<string, any>;

    beforeAll(async () => {
      const model = models.get(name)!;
      const teacher = model.teacher ? models.get(model.teacher.model)! : null;
      const weights = weightsOf(model, teacher, 1);
      const teacherWeights = teacher ? weightsOf(teacher, null, 2) : null;
      const inputs = batchOf(model);
      const loaded = await loadGraph(model, teacher);
      const teacherRun = teacher && teacherWeights ? { graph: loaded.teacher!, weights: teacherWeights } : null;
      tfjs = runOnce({ graph: loaded.graph, weights }, inputs, teacherRun);
      torch = runOnTorch(model, teacher, weights, teacherWeights, inputs);
    }, 120_000);

    it("gives the same outputs", () => {
      const keys = Object.keys(tfjs).filter((k) => !/loss|grad_norms/.test(k));
      expect(
        Object.keys(torch)
          .filter((k) => !/loss|grad_norms/.test(k))
          .sort(),
      ).toEqual(keys.sort());
      for (const key of keys) expect(maxAbsDiff(torch[key], tfjs[key]), key).toBeLessThan(OUTPUT_ABS);
    });

    it("gives the same loss and terms to 1e-5 relative", () => {
      expect(relative(torch["loss"], tfjs["loss"])).toBeLessThan(REL);
      expect(Object.keys(torch["loss_terms"]).sort()).toEqual(Object.keys(tfjs["loss_terms"]).sort());
      for (const [k, v] of Object.entries(tfjs["loss_terms"] as Record<string, number>))
        expect(relative(torch["loss_terms"][k], v), k).toBeLessThan(REL);
    });

    it("gives the same gradient norms to 1e-5 relative", () => {
      const keys = Object.keys(tfjs).filter((k) => k.endsWith("grad_norms"));
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(Object.keys(torch[key]).sort(), key).toEqual(Object.keys(tfjs[key]).sort());
        for (const [k, v] of Object.entries(tfjs[key] as Record<string, number>)) expectGradNormClose(torch[key][k], v, `${key} ${k}`, REL);
      }
    });
  },
);
