/**
 * Each objective's loss against finite differences: MLM cross-entropy with ignored
 * positions, NSP and SOP through the pooler and their classifier, DistilBERT's soft-target
 * distillation, and the cosine loss between hidden states.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { dense } from "../../../src/runtime/layers/dense.js";
import { mlmLogits, pooler } from "../../../src/runtime/layers/heads.js";
import { cosineLoss } from "../../../src/runtime/objectives/cosine.js";
import { crossEntropy, IGNORE } from "../../../src/runtime/objectives/cross-entropy.js";
import { distillLoss } from "../../../src/runtime/objectives/distill.js";
import { selectRows } from "../../../src/runtime/objectives/select.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { compareGradients, expectGradientsMatch, uniform } from "./finite-differences.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const H = 6;
const V = 7;

const t2 = (x: tf.Tensor) => x as tf.Tensor2D;
const t1 = (x: tf.Tensor) => x as tf.Tensor1D;

describe("gradients of the objectives", () => {
  it("mlm cross-entropy: ignored positions get no gradient, the mean is over the predicted ones", () => {
    const labelValues = [3, IGNORE, 0, IGNORE, 6];
    const labels = tf.tensor1d(labelValues, "int32");
    const logits = uniform(81, [5, V], 2);
    const c = compareGradients((p) => crossEntropy(t2(p["logits"]!), labels), { logits });
    expectGradientsMatch("mlm cross-entropy", c, 2e-3);
    // Closed form: (softmax − one-hot) / 3 on each predicted row, 3 being the predicted count, not 5.
    labelValues.forEach((label, r) => {
      if (label === IGNORE) return;
      const row = Array.from(logits.values.slice(r * V, (r + 1) * V));
      const z = row.reduce((a, x) => a + Math.exp(x), 0);
      row.forEach((x, j) => expect(c["logits"]!.full[r * V + j]!).toBeCloseTo((Math.exp(x) / z - (j === label ? 1 : 0)) / 3, 5));
    });
    const ignoredRows = [1, 3].flatMap((r) => Array.from({ length: V }, (_, j) => r * V + j));
    expect(ignoredRows.map((k) => Math.abs(c["logits"]!.full[k]!))); // -0 or 0.toEqual(Array(ignoredRows.length).fill(0));
  });

  it("mlm objective: selected positions through the tied mlm head into cross-entropy", () => {
    const flatLabels = tf.tensor1d([IGNORE, 4, IGNORE, 2, 5, IGNORE], "int32");
    const predicted = tf.notEqual(flatLabels, IGNORE) as tf.Tensor1D;
    const at = {
      h: uniform(82, [6, H]),
      "transform.kernel": uniform(83, [H, H], 0.6),
      "transform.bias": uniform(84, [H], 0.3),
      "norm.weight": uniform(85, [H], 0.5, 1),
      "norm.bias": uniform(86, [H], 0.5),
      bias: uniform(87, [V], 0.5),
      word: uniform(88, [V, H]),
    };
    const c = compareGradients((p) => {
      const params = {
        transform: { kernel: t2(p["transform.kernel"]!), bias: t1(p["transform.bias"]!) },
        norm: { weight: t1(p["norm.weight"]!), bias: t1(p["norm.bias"]!) },
        bias: t1(p["bias"]!),
      };
      const logits = mlmLogits(selectRows(t2(p["h"]!), predicted), params, t2(p["word"]!), { activation: "gelu", normEps: 1e-12 });
      return crossEntropy(logits, selectRows(flatLabels, predicted));
    }, at);
    expectGradientsMatch("mlm objective", c, 2e-3);
    const unselected = [0, 2, 5].flatMap((r) => Array.from({ length: H }, (_, j) => r * H + j));
    expect(unselected.map((k) => c["h"]!.full[k])).toEqual(Array(unselected.length).fill(0));
  });

  it.each([
    ["nsp", [0, 1, 1]],
    ["sop", [1, 0, 1]],
  ] as const)("%s objective: cross-entropy of the pooled classifier", (name, labelValues) => {
    const labels = tf.tensor1d([...labelValues], "int32");
    const at = {
      h: uniform(89, [3, 4, H]),
      "pooler.kernel": uniform(90, [H, H], 0.6),
      "pooler.bias": uniform(91, [H], 0.3),
      kernel: uniform(92, [H, 2], 0.9),
      bias: uniform(93, [2], 0.3),
    };
    const c = compareGradients(
      (p) => {
        const pooled = pooler(p["h"] as tf.Tensor3D, { kernel: t2(p["pooler.kernel"]!), bias: t1(p["pooler.bias"]!) });
        return crossEntropy(dense(pooled, { kernel: t2(p["kernel"]!), bias: t1(p["bias"]!) }), labels);
      },
      at,
      { entries: 72 },
    );
    expectGradientsMatch(`${name} objective`, c, 2e-3);
  });

  it.each([1, 2])("distill objective at temperature %i: student and teacher logits", (temperature) => {
    const at = { student: uniform(94, [4, V], 2), teacher: uniform(95, [4, V], 2) };
    const c = compareGradients((p) => distillLoss(t2(p["student"]!), t2(p["teacher"]!), { temperature }), at);
    expectGradientsMatch(`distill (T=${temperature})`, c, 2e-3);
  });

  it("cosine objective: student and teacher hidden states", () => {
    const at = { student: uniform(96, [3, H]), teacher: uniform(97, [3, H]) };
    const c = compareGradients((p) => cosineLoss(t2(p["student"]!), t2(p["teacher"]!)), at);
    expectGradientsMatch("cosine", c, 2e-3);
  });
});
