import { describe, expect, it } from "vitest";
import { initialWeights } from "../../src/runtime/init.js";
import type { ParamSpec } from "../../src/model/parameters.js";
import { tf } from "../../src/runtime/backends/tf.js";

describe("initialWeights", () => {
  it("draws a tensor of more than 2^24 values (a full-size word embedding), padding row zeroed, leaking no tensor", () => {
    // 17,409 × 1,024 = 2^24 + 2^20 values (distinct ones, too, beyond 2^24): more than what tf.tidy's walk of a returned array could take.
    const spec = { name: "embeddings.word", shape: [17409, 1024], init: "normal" } as unknown as ParamSpec;
    const before = tf.memory().numTensors;
    const w = initialWeights([spec], 0, 1).get("embeddings.word")!;
    expect(tf.memory().numTensors).toBe(before);
    expect(w.values).toBeInstanceOf(Float32Array);
    expect(w.values.length).toBe(17409 * 1024);
    expect(w.values.subarray(1024, 2048).every((x) => x === 0)).toBe(true);
    const last = w.values.subarray(w.values.length - 1024);
    const sd = Math.sqrt(last.reduce((a, x) => a + x * x, 0) / last.length);
    expect(sd).toBeGreaterThan(0.015);
    expect(sd).toBeLessThan(0.025);
  });
});
