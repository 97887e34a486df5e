/**
 * The frugal backpropagation gives tfjs's gradients bit for bit, frees the backward pass's
 * tensors as it goes (a lower peak), and leaks nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { tfjsOwnGradients } from "../../src/runtime/frugal-gradients.js";
import { tf } from "../../src/runtime/backends/tf.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A small transformer-like loss: a gathered embedding used twice (tied), products, softmax, a norm, a chain of layers. */
function lossOf(embedding: tf.Variable, kernels: tf.Variable[]): () => tf.Scalar {
  return () => {
    const ids = tf.tensor1d([3, 1, 4, 1, 5, 9, 2, 6], "int32");
    let h = tf.gather(embedding, ids);
    for (const k of kernels) {
      const scores = tf.softmax(tf.matMul(h, h, false, true));
      const mixed = tf.add(h, tf.matMul(scores, tf.tanh(tf.matMul(h, k))));
      const mean = tf.mean(mixed, -1, true);
      h = tf.div(tf.sub(mixed, mean), tf.sqrt(tf.add(tf.mean(tf.square(tf.sub(mixed, mean)), -1, true), 1e-6)));
    }
    const logits = tf.matMul(h, embedding, false, true);
    return tf.neg(tf.mean(tf.logSoftmax(logits))) as tf.Scalar;
  };
}

describe("frugal gradients", () => {
  const embedding = tf.variable(tf.randomNormal([12, 16], 0, 1, "float32", 7));
  const kernels = Array.from({ length: 6 }, (_, i) => tf.variable(tf.randomNormal([16, 16], 0, 0.3, "float32", 11 + i)));
  const xs = [embedding, ...kernels];

  type Gradients = ReturnType<typeof tfjsOwnGradients>;
  const run = async (gradients: Gradients) => {
    const before = tf.memory().numTensors;
    let result: { value: tf.Tensor; grads: tf.Tensor[] } | null = null;
    const profile = await tf.profile(() => {
      result = gradients(lossOf(embedding, kernels), xs);
    });
    const { value, grads } = result!;
    return { before, grads, value, peakBytes: profile.peakBytes };
  };

  it("gives the same gradients as tfjs, bit for bit, at a lower peak, leaking nothing", async () => {
    const ours = await run((f, x) => (tf.engine() as unknown as { gradients: Gradients }).gradients(f, x));
    const theirs = await run(tfjsOwnGradients());
    expect(ours.value.dataSync()).toEqual(theirs.value.dataSync());
    ours.grads.forEach((g, i) => {
      expect(Buffer.from(g.dataSync().buffer).equals(Buffer.from(theirs.grads[i]!.dataSync().buffer)), `gradient ${i}`).toBe(true);
    });
    expect(ours.peakBytes).toBeLessThan(theirs.peakBytes * 0.75);
    // Only the value and the gradients outlive the call.
    for (const r of [ours, theirs]) {
      const count = tf.memory().numTensors;
      tf.dispose([r.value, ...r.grads]);
      expect(count - tf.memory().numTensors).toBe(1 + xs.length);
    }
    expect(tf.memory().numTensors).toBe(ours.before);
  });

  it("tf.variableGrads goes through it and frees the tape", () => {
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(lossOf(embedding, kernels), xs);
    expect(Object.keys(grads)).toHaveLength(xs.length);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
