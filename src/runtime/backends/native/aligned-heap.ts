/**
 * Tensor memory aligned to 64 bytes on the `native` backend, so that its results do not
 * depend on where in the wasm heap a tensor happens to sit.
 *
 * The wasm module's malloc aligns to 8 bytes only, and onnxruntime's kernels take an
 * address-dependent path: Sum and Mean over the innermost axis add up a misaligned head
 * before their SIMD loop, and Log computes a misaligned output's head apart, so the same
 * values at another address give different last bits (measured: an input 8 bytes past a
 * 16-byte boundary changes ReduceSum's result; at every multiple of 16 it is the same).
 * Where a tensor lands depends on everything allocated and freed before it: a run resumed
 * from a checkpoint (weights and moments created before the first step rather than as the
 * run goes) therefore drifted from the uninterrupted run by about 1e-7 in every tensor.
 * With every tensor on a 64-byte boundary (a cache line, and the widest SIMD load) each
 * kernel sees the same alignment whatever came before.
 */

/** What this needs of the Emscripten module behind tfjs-backend-wasm's BackendWasm. */
export interface EmscriptenAllocator {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

export const TENSOR_ALIGNMENT = 64;

/**
 * Makes `module._malloc` return `alignment`-aligned memory (and `_free` accept it).
 * tfjs-backend-wasm allocates and frees every tensor through these two exports.
 */
export function alignTensorMemory(module: EmscriptenAllocator, alignment = TENSOR_ALIGNMENT): void {
  // Emscripten's exports start as stubs that replace themselves on their first call;
  // one call of each now binds the real functions, which the wrappers then keep.
  module._free(module._malloc(1));
  const malloc = module._malloc;
  const free = module._free;
  /** aligned pointer → what malloc returned, for each allocation that had to move */
  const moved = new Map<number, number>();
  module._malloc = (bytes: number): number => {
    const raw = malloc(bytes + alignment - 1) >>> 0;
    if (raw === 0) return 0;
    const aligned = Math.ceil(raw / alignment) * alignment;
    if (aligned !== raw) moved.set(aligned, raw);
    return aligned;
  };
  module._free = (pointer: number): void => {
    const raw = moved.get(pointer >>> 0);
    if (raw === undefined) return free(pointer);
    moved.delete(pointer >>> 0);
    free(raw);
  };
}
