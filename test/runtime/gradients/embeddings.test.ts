/**
 * The embeddings layer (word + position + segment lookups, LayerNorm, ALBERT's projection)
 * against finite differences. The padding rows are the one place the two must differ: their
 * lookup gradient is zero by design, as `torch.nn.Embedding(padding_idx=…)` makes it.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { embeddings, positionIds, projectEmbeddings } from "../../../src/runtime/layers/embeddings.js";
import { EVAL } from "../../../src/runtime/layers/dropout.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { compareGradients, expectGradientsMatch, projection, uniform, type GradientComparison } from "./finite-differences.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const V = 10;
const E = 6;
const POSITIONS = 8;

const t2 = (x: tf.Tensor) => x as tf.Tensor2D;
const t1 = (x: tf.Tensor) => x as tf.Tensor1D;

/** The gradient entries of one table row. */
const rowOf = (c: GradientComparison, row: number, width: number) => Array.from(c.full.slice(row * width, (row + 1) * width));
const notRow = (row: number, width: number) => (index: number) => Math.floor(index / width) !== row;

describe("gradients of layer embeddings", () => {
  it("embeddings (BERT: word + position + segment + LayerNorm); the pad row's lookup gets no gradient", () => {
    const pad = 0;
    const ids = tf.tensor2d(
      [
        [2, 5, 7, 3, 0],
        [2, 4, 9, pad, pad],
      ],
      undefined,
      "int32",
    );
    const types = tf.tensor2d(
      [
        [0, 0, 1, 1, 0],
        [0, 1, 1, 0, 0],
      ],
      undefined,
      "int32",
    );
    const positions = positionIds(ids, { offset: 0, padId: pad });
    const project = projection(21, [2, 5, E]);
    const at = {
      word: uniform(1, [V, E]),
      position: uniform(2, [POSITIONS, E]),
      segment: uniform(3, [2, E]),
      weight: uniform(4, [E], 0.5, 1),
      bias: uniform(5, [E], 0.5),
    };
    const options = { normEps: 1e-12, dropout: 0, padId: pad, positionPadId: null };
    const c = compareGradients(
      (p) =>
        project(
          embeddings(
            {
              word: t2(p["word"]!),
              position: t2(p["position"]!),
              segment: t2(p["segment"]!),
              norm: { weight: t1(p["weight"]!), bias: t1(p["bias"]!) },
            },
            ids,
            types,
            positions,
            options,
            EVAL,
          ),
        ),
      at,
      { entries: 60 },
    );
    expectGradientsMatch("embeddings", c, 2e-3, { word: notRow(pad, E) });
    // The forward pass reads the pad row (finite differences see it); its gradient is zeroed.
    expect(rowOf(c["word"]!, pad, E)).toEqual(Array(E).fill(0));
    const word = c["word"]!;
    expect(word.indices).toHaveLength(V * E); // every entry differenced, so numeric[k] is entry k
    expect(Math.max(...word.numeric.slice(pad * E, (pad + 1) * E).map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it("embeddings (RoBERTa: position offset 2, one segment row); the padding position row gets no gradient", () => {
    const pad = 1;
    const offset = 2;
    const ids = tf.tensor2d(
      [
        [0, 5, 7, 2, pad],
        [0, 4, 2, pad, pad],
      ],
      undefined,
      "int32",
    );
    const positions = positionIds(ids, { offset, padId: pad });
    expect(positions.arraySync()).toEqual([
      [2, 3, 4, 5, 1],
      [2, 3, 4, 1, 1],
    ]);
    const project = projection(22, [2, 5, E]);
    const at = {
      word: uniform(6, [V, E]),
      position: uniform(7, [POSITIONS, E]),
      segment: uniform(8, [1, E]),
      weight: uniform(9, [E], 0.5, 1),
      bias: uniform(10, [E], 0.5),
    };
    const options = { normEps: 1e-5, dropout: 0, padId: pad, positionPadId: offset - 1 };
    const c = compareGradients(
      (p) =>
        project(
          embeddings(
            {
              word: t2(p["word"]!),
              position: t2(p["position"]!),
              segment: t2(p["segment"]!),
              norm: { weight: t1(p["weight"]!), bias: t1(p["bias"]!) },
            },
            ids,
            null,
            positions,
            options,
            EVAL,
          ),
        ),
      at,
      { entries: 60 },
    );
    expectGradientsMatch("embeddings", c, 2e-3, { word: notRow(pad, E), position: notRow(offset - 1, E) });
    expect(rowOf(c["word"]!, pad, E)).toEqual(Array(E).fill(0));
    expect(rowOf(c["position"]!, offset - 1, E)).toEqual(Array(E).fill(0));
  });

  it("embeddings without segments, then the factorized E→H projection (ALBERT)", () => {
    const H = 9;
    const ids = tf.tensor2d(
      [
        [2, 5, 7],
        [2, 8, 3],
      ],
      undefined,
      "int32",
    );
    const positions = positionIds(ids, { offset: 0, padId: 0 });
    const project = projection(23, [2, 3, H]);
    const at = {
      word: uniform(11, [V, E]),
      position: uniform(12, [POSITIONS, E]),
      weight: uniform(13, [E], 0.5, 1),
      bias: uniform(14, [E], 0.5),
      kernel: uniform(15, [E, H], 0.5),
      projectionBias: uniform(16, [H], 0.5),
    };
    const options = { normEps: 1e-12, dropout: 0, padId: 0, positionPadId: null };
    const c = compareGradients(
      (p) => {
        const e = embeddings(
          { word: t2(p["word"]!), position: t2(p["position"]!), segment: null, norm: { weight: t1(p["weight"]!), bias: t1(p["bias"]!) } },
          ids,
          null,
          positions,
          options,
          EVAL,
        );
        return project(projectEmbeddings(e, { kernel: t2(p["kernel"]!), bias: t1(p["projectionBias"]!) }));
      },
      at,
      { entries: 60 },
    );
    expectGradientsMatch("embedding projection", c, 2e-3);
  });
});
