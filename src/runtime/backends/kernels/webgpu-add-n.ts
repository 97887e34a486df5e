/**
 * AddN for the webgpu backend, in chunks: the package's kernel binds every input as a storage
 * buffer of one shader, and a device allows only so many per stage (16 on llvmpipe, 8 by
 * default on many GPUs) — fewer than the one squared norm per parameter that gradient
 * clipping adds up. Each chunk is summed by the package's kernel; the partial sums are added
 * again until one shader can take them all.
 */
import { tf } from "../tf.js";

interface WebGPUBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } };
  disposeData(dataId: tf.DataId): boolean;
}

let registered = false;

export function registerWebgpuAddN(): void {
  const packaged = tf.getKernel("AddN", "webgpu");
  if (registered || !packaged) return;
  registered = true;
  const addN = (args: Parameters<tf.KernelFunc>[0], inputs: tf.TensorInfo[]): tf.TensorInfo =>
    packaged.kernelFunc({ ...args, inputs: inputs as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo;
  tf.unregisterKernel("AddN", "webgpu");
  tf.registerKernel({
    kernelName: "AddN",
    backendName: "webgpu",
    kernelFunc: (args) => {
      const backend = args.backend as unknown as WebGPUBackendLike;
      // One binding of the shader is its output.
      const most = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
      let terms = Object.values(args.inputs as Record<string, tf.TensorInfo>);
      // The partial sums this kernel made (and must free), as opposed to the caller's inputs.
      const own = new Set<tf.TensorInfo>();
      while (terms.length > most) {
        const sums: tf.TensorInfo[] = [];
        for (let i = 0; i < terms.length; i += most) {
          const chunk = terms.slice(i, i + most);
          if (chunk.length === 1) sums.push(chunk[0]!);
          else {
            const sum = addN(args, chunk);
            own.add(sum);
            sums.push(sum);
          }
        }
        for (const t of terms) if (own.has(t) && !sums.includes(t)) backend.disposeData(t.dataId);
        terms = sums;
      }
      const out = addN(args, terms);
      for (const t of terms) if (own.has(t)) backend.disposeData(t.dataId);
      return out;
    },
  });
}
