/**
 * The wasm backends (`wasm`, `native`) keep every tensor in one WebAssembly memory, which
 * cannot grow past 4 GiB. When it is full, the module's `malloc` returns 0 and
 * tfjs-backend-wasm writes the tensor at address 0 regardless, corrupting the heap: the run
 * died later with "memory access out of bounds" (exit 2). An allocation larger than the
 * whole heap was worse: its size wrapped around in the 32-bit call.
 *
 * The guard refuses such an allocation up front with a sentence (exit 1). It also keeps a
 * margin: a tensor is only placed where `MARGIN` more bytes would fit too, so the backend's
 * own small allocations (its tensor table) never find the heap full, which aborts the module.
 */
import { TensorMemoryError } from "./backend-error.js";
import type { EmscriptenAllocator } from "./native/aligned-heap.js";

/** The largest heap tfjs-backend-wasm's module can grow to (its getHeapMax: 4 GiB less 64 KiB). */
export const WASM_HEAP_LIMIT = 4294901760;
const MARGIN = 1 << 20;

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20).toLocaleString("en-US")} MB`;

/** Makes `module._malloc` throw a TensorMemoryError instead of failing (or wrapping around). */
export function guardTensorMemory(module: EmscriptenAllocator & { HEAPU8: Uint8Array }, backendName: string): void {
  // Emscripten's exports start as stubs that replace themselves on their first call; one
  // call binds the real function, which the wrapper then keeps.
  module._free(module._malloc(1));
  const malloc = module._malloc;
  const free = module._free;
  const advice = "use a smaller --batch or train seq, or a smaller model";
  module._malloc = (bytes: number): number => {
    if (bytes + MARGIN > WASM_HEAP_LIMIT) {
      throw new TensorMemoryError(
        `a tensor of ${mb(bytes)} does not fit in the ${backendName} backend's memory, which holds at most 4 GiB in all; ${advice}`,
      );
    }
    const probe = malloc(bytes + MARGIN) >>> 0;
    if (probe === 0) {
      throw new TensorMemoryError(
        `the ${backendName} backend's memory is full (it holds at most 4 GiB, and has grown to ${mb(module.HEAPU8.length)}): ${mb(bytes)} more did not fit; ${advice}`,
      );
    }
    free(probe);
    return malloc(bytes);
  };
}
