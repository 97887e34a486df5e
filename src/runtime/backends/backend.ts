/**
 * Choosing a TensorFlow.js backend. `cpu` (pure JavaScript) is always there; `wasm`
 * (XNNPACK, SIMD) ships with bdl; `native` is wasm with its products, reductions and
 * transcendentals in onnxruntime-node's multi-threaded MLAS (an optional dependency,
 * installed by default); `webgpu` runs on Dawn (optional dependencies `webgpu` and
 * @tensorflow/tfjs-backend-webgpu) — on a GPU, or on Mesa's llvmpipe without one;
 * `tensorflow` (tfjs-node or tfjs-node-gpu) is used only if the user installed it.
 * A missing backend is a clear message naming what to install.
 *
 * `auto` takes the first that starts of: tensorflow, webgpu on a real GPU, native, wasm,
 * cpu. webgpu on llvmpipe is correct but slower than wasm, so `auto` passes it over.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { BackendError, TensorMemoryError } from "./backend-error.js";
import { guardTensorMemory } from "./heap-guard.js";
import { registerWasmGatherRows } from "./kernels/wasm-gather-rows.js";
import { registerWasmUnsortedSegmentSum } from "./kernels/wasm-unsorted-segment-sum.js";
import { alignTensorMemory, type EmscriptenAllocator } from "./native/aligned-heap.js";
import { loadOnnxRuntime } from "./native/onnxruntime.js";
import { registerNativeElementwise } from "./native/elementwise.js";
import { registerNativeProducts } from "./native/products.js";
import { tf } from "./tf.js";
import { nativeApiMayExist, registerWebgpu, webgpuAdapterKind } from "./webgpu.js";

export type BackendName = "auto" | "cpu" | "wasm" | "native" | "webgpu" | "tensorflow";
export const BACKENDS: readonly BackendName[] = ["auto", "cpu", "wasm", "native", "webgpu", "tensorflow"];

export { BackendError, TensorMemoryError };

const require = createRequire(import.meta.url);

type WasmBackend = tf.KernelBackend & { wasm: EmscriptenAllocator & { HEAPU8: Uint8Array } };

/** The wasm backend as tfjs-backend-wasm registers it, before bdl wraps it. */
let plainWasmFactory: (() => Promise<tf.KernelBackend>) | null = null;

async function registerWasm(): Promise<void> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  // The .wasm binaries sit in the package's dist folder, not next to this (bundled) module.
  const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
  wasm.setWasmPaths(join(dist, "dist") + "/");
  registerWasmUnsortedSegmentSum();
  registerWasmGatherRows();
  if (plainWasmFactory) return;
  const factory = tf.findBackendFactory("wasm") as (() => Promise<tf.KernelBackend>) | null;
  if (!factory) throw new BackendError("@tensorflow/tfjs-backend-wasm registered no wasm backend");
  plainWasmFactory = factory;
  // Re-registered so that its tensor memory is guarded (a full heap is an error, not corruption).
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", async () => {
    const backend = (await factory()) as WasmBackend;
    guardTensorMemory(backend.wasm, "wasm");
    return backend;
  });
}

/**
 * `native` is a second instance of the wasm backend under its own name: every wasm kernel
 * is registered for it too, then the products are replaced by onnxruntime's. Its tensors
 * are 64-byte aligned, because onnxruntime's results depend on their alignment.
 */
async function registerNative(): Promise<void> {
  await registerWasm();
  if (tf.findBackendFactory("native")) return;
  const ort = loadOnnxRuntime();
  if (!ort)
    throw new BackendError(
      "the native backend needs onnxruntime-node: npm install onnxruntime-node (with onnxruntime-node-install=skip in .npmrc)",
    );
  const wasmFactory = plainWasmFactory;
  if (!wasmFactory) throw new BackendError("the native backend needs @tensorflow/tfjs-backend-wasm");
  for (const kernel of tf.getKernelsForBackend("wasm")) tf.registerKernel({ ...kernel, backendName: "native" });
  registerNativeProducts(ort, "native", "wasm");
  registerNativeElementwise(ort, "native", "wasm");
  tf.registerBackend("native", async () => {
    const backend = (await wasmFactory()) as WasmBackend;
    alignTensorMemory(backend.wasm);
    guardTensorMemory(backend.wasm, "native");
    return backend;
  });
}

async function registerTensorflow(): Promise<void> {
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      require.resolve(pkg);
    } catch {
      continue;
    }
    await import(pkg);
    return;
  }
  throw new BackendError("the tensorflow backend needs @tensorflow/tfjs-node (or -node-gpu with CUDA): npm install @tensorflow/tfjs-node");
}

/** Makes `name` the active backend and returns the one in use (`auto` picks the fastest present). */
export async function useBackend(name: BackendName): Promise<string> {
  if (!BACKENDS.includes(name)) throw new BackendError(`unknown backend '${name}' (have: ${BACKENDS.join(", ")})`);
  const order: BackendName[] =
    name === "auto" ? ["tensorflow", ...(nativeApiMayExist() ? (["webgpu"] as const) : []), "native", "wasm", "cpu"] : [name];
  for (const candidate of order) {
    try {
      if (candidate === "wasm") await registerWasm();
      if (candidate === "native") await registerNative();
      if (candidate === "tensorflow") await registerTensorflow();
      if (candidate === "webgpu") {
        await registerWebgpu();
        if (name === "auto" && webgpuAdapterKind() !== "gpu") continue;
      }
      if (await tf.setBackend(candidate === "tensorflow" ? "tensorflow" : candidate)) {
        await tf.ready();
        return candidate;
      }
    } catch (e) {
      if (name !== "auto")
        throw e instanceof BackendError ? e : new BackendError(`backend '${candidate}' failed to start: ${(e as Error).message}`);
    }
  }
  throw new BackendError(`no backend could start (tried ${order.join(", ")})`);
}
