/**
 * The compute estimate used for equal-compute comparisons: written out by hand for a BERT
 * layer, and the properties a comparison relies on (local layers cost less, ELECTRA costs
 * its discriminator plus its generator, a step is three forward passes).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { forwardFlops, trainingStepFlops } from "../../src/model/flops.js";
import type { ResolvedModel } from "../../src/model/model.js";

const MODELS = join(__dirname, "../../models");
const model = (file: string, name: string): ResolvedModel => checkFile(join(MODELS, file)).resolutions.get(name)!.model;

describe("forwardFlops", () => {
  it("counts bert-mini's products by hand: 4 layers of projections, FFN and attention, the MLM head on the predicted tokens, the pooler", () => {
    const m = model("bert-mini.bdl", "bert-mini");
    const [S, H, I, V, P] = [128, 256, 1024, 8192, 19];
    const layer = 2 * S * 4 * H * H + 2 * S * 2 * H * I + 4 * S * S * H;
    expect(forwardFlops(m, S, P)).toBe(4 * layer + 2 * P * (H * H + H * V) + 2 * H * H);
    expect(trainingStepFlops(m, 16, S)).toBe(3 * 16 * forwardFlops(m, S, Math.round(0.15 * S)));
  });

  it("local layers attend over window + 1 keys; ELECTRA is its discriminator's and its generator's compute", () => {
    const bert = model("bert-mini.bdl", "bert-mini");
    const local = { ...bert, attention: { rotary: null, window: 32, global_every: 3, local_rotary: null } };
    const saved = 2 * 2 * 128 * (128 - 33) * 256; // per local layer: layers 1 and 2 of 4
    expect(forwardFlops(bert, 128, 19) - forwardFlops(local, 128, 19)).toBe(2 * saved);

    const electra = model("electra-mini.bdl", "electra-mini");
    const g = electra.generator!;
    const generatorLayer = 2 * 128 * 4 * g.hidden ** 2 + 2 * 128 * 2 * g.hidden * g.intermediate + 4 * 128 * 128 * g.hidden;
    const generator = 2 * 128 * 128 * g.hidden + g.layers * generatorLayer + 2 * 19 * (g.hidden * 128 + 128 * 8192);
    const discriminatorLayer = 2 * 128 * 4 * 256 ** 2 + 2 * 128 * 2 * 256 * 1024 + 4 * 128 * 128 * 256;
    const discriminator = 2 * 128 * 128 * 256 + 4 * discriminatorLayer + 2 * 128 * (256 * 256 + 256);
    expect(forwardFlops(electra, 128, 19)).toBe(generator + discriminator);
  });
});
