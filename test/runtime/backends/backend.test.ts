/**
 * Backend selection: `auto` takes the fastest backend present, each named backend starts or
 * says what to install, and an unknown name lists the choices.
 */
import { createRequire } from "node:module";
import { afterAll, describe, expect, it } from "vitest";
import { BACKENDS, BackendError, useBackend } from "../../../src/runtime/backends/backend.js";
import { loadOnnxRuntime } from "../../../src/runtime/backends/native/onnxruntime.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { nativeApiMayExist, webgpuAdapterKind } from "../../../src/runtime/backends/webgpu.js";

const require = createRequire(import.meta.url);
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}
const tensorflowInstalled = installed("@tensorflow/tfjs-node") || installed("@tensorflow/tfjs-node-gpu");

afterAll(async () => {
  await tf.setBackend("cpu");
});

describe("useBackend", () => {
  it("auto picks, in order: tensorflow, webgpu on a real GPU, native, wasm", async () => {
    const picked = await useBackend("auto");
    expect(tf.getBackend()).toBe(picked);
    if (tensorflowInstalled) expect(picked).toBe("tensorflow");
    else if (picked === "webgpu") expect(webgpuAdapterKind()).toBe("gpu");
    else if (loadOnnxRuntime()) expect(picked).toBe("native");
    else expect(picked).toBe("wasm");
  });

  it("auto never settles on webgpu running on the CPU (llvmpipe)", async () => {
    const picked = await useBackend("auto");
    if (webgpuAdapterKind() === "cpu") expect(picked).not.toBe("webgpu");
    if (!nativeApiMayExist()) expect(picked).not.toBe("webgpu");
  });

  it("on this machine's usual install (onnxruntime-node, no tfjs-node, no GPU) auto is native", async () => {
    // Holds wherever npm ci installed the optional onnxruntime-node and there is no GPU driver.
    if (tensorflowInstalled || nativeApiMayExist() || !loadOnnxRuntime()) {
      expect(await useBackend("auto")).not.toBe("cpu");
      return;
    }
    expect(await useBackend("auto")).toBe("native");
  });

  it.each(["cpu", "wasm"] as const)("%s always starts", async (name) => {
    expect(await useBackend(name)).toBe(name);
    expect(tf.getBackend()).toBe(name);
    expect(tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]).toBe(3);
  });

  it("native runs its products in onnxruntime, or names the package to install", async () => {
    if (!loadOnnxRuntime()) {
      await expect(useBackend("native")).rejects.toThrow(/npm install onnxruntime-node/);
      return;
    }
    expect(await useBackend("native")).toBe("native");
    const a = tf.randomNormal([512, 256], 0, 1, "float32", 1);
    const b = tf.randomNormal([256, 384], 0, 1, "float32", 2);
    const native = tf.matMul(a, b, false, false).dataSync();
    await useBackend("cpu");
    const a2 = tf.tensor(a.dataSync(), a.shape);
    const b2 = tf.tensor(b.dataSync(), b.shape);
    const reference = tf.matMul(a2, b2).dataSync();
    let most = 0;
    for (let i = 0; i < reference.length; i++) most = Math.max(most, Math.abs(reference[i]! - native[i]!));
    expect(most).toBeLessThan(1e-3);
  });

  it("tensorflow without tfjs-node names what to install", async () => {
    if (tensorflowInstalled) return expect(await useBackend("tensorflow")).toBe("tensorflow");
    await expect(useBackend("tensorflow")).rejects.toThrow(/npm install @tensorflow\/tfjs-node/);
  });

  it("an unknown name lists the backends", async () => {
    await expect(useBackend("tpu" as never)).rejects.toThrow(BackendError);
    await expect(useBackend("tpu" as never)).rejects.toThrow(`have: ${BACKENDS.join(", ")}`);
  });
});
