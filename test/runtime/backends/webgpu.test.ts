/**
 * The optional webgpu backend. Where it starts (a GPU, or Mesa's llvmpipe), a product, erf and an
 * AddN of more inputs than a shader may bind agree with the cpu backend, read back synchronously;
 * where it cannot start, the error must say what to install — the test never skips silently.
 */
import { afterAll, describe, expect, it } from "vitest";
import { BackendError } from "../../../src/runtime/backends/backend-error.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { registerWebgpu, webgpuAdapter, webgpuAdapterKind } from "../../../src/runtime/backends/webgpu.js";

afterAll(async () => {
  await tf.setBackend("cpu");
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let most = 0;
  for (let i = 0; i < a.length; i++) most = Math.max(most, Math.abs(a[i]! - b[i]!));
  return most;
}

/** The same computation on cpu and on webgpu: [cpu, webgpu] values. */
async function onBoth(fn: () => tf.Tensor): Promise<[Float32Array, Float32Array]> {
  const values: Float32Array[] = [];
  for (const backend of ["cpu", "webgpu"]) {
    expect(await tf.setBackend(backend)).toBe(true);
    values.push(tf.tidy(() => fn().dataSync() as Float32Array));
  }
  return [values[0]!, values[1]!];
}

describe("webgpu backend", () => {
  it("matches cpu on matMul, erf and a wide addN, or names what to install", async () => {
    try {
      await registerWebgpu();
    } catch (e) {
      expect(e).toBeInstanceOf(BackendError);
      expect((e as Error).message).toMatch(
        /npm install webgpu @tensorflow\/tfjs-backend-webgpu|apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri/,
      );
      expect(webgpuAdapterKind()).toBeNull();
      return;
    }
    expect(["gpu", "cpu"]).toContain(webgpuAdapterKind());
    expect(webgpuAdapter()!.description).not.toBe("");

    // Inputs made on the CPU once, so both backends see the same numbers.
    const a = Float32Array.from({ length: 256 * 256 }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: 256 * 256 }, (_, i) => Math.cos(i * 0.11));
    const [mmCpu, mmGpu] = await onBoth(() => tf.matMul(tf.tensor2d(a, [256, 256]), tf.tensor2d(b, [256, 256])));
    // Sums of 256 products of magnitude <= 1, in another order: float32 rounding only.
    expect(maxAbsDiff(mmCpu, mmGpu)).toBeLessThan(1e-3);

    const [erfCpu, erfGpu] = await onBoth(() => tf.erf(tf.linspace(-4, 4, 1001)));
    expect(maxAbsDiff(erfCpu, erfGpu)).toBeLessThan(1e-4);

    // 40 inputs: more storage buffers than one shader may bind (AddN is chunked for webgpu).
    const terms = Array.from({ length: 40 }, (_, k) => Float32Array.from({ length: 33 }, (_, i) => (k + 1) * 0.5 + i));
    const [sumCpu, sumGpu] = await onBoth(() => tf.addN(terms.map((t) => tf.tensor1d(t))));
    expect(maxAbsDiff(sumCpu, sumGpu)).toBeLessThan(1e-3);

    // No buffer left behind by the chunked AddN's partial sums.
    expect(await tf.setBackend("webgpu")).toBe(true);
    const held = tf.engine().backend.numDataIds();
    tf.tidy(() => tf.addN(terms.map((t) => tf.tensor1d(t))).dataSync());
    expect(tf.engine().backend.numDataIds()).toBe(held);
  });
});
