/**
 * The wasm backends' tensor memory (at most 4 GiB): a tensor that does not fit is a
 * TensorMemoryError with a sentence (the CLI exits 1), never a corrupted heap.
 */
import { afterAll, describe, expect, it } from "vitest";
import { TensorMemoryError, useBackend } from "../../../src/runtime/backends/backend.js";
import { guardTensorMemory, WASM_HEAP_LIMIT } from "../../../src/runtime/backends/heap-guard.js";
import { loadOnnxRuntime } from "../../../src/runtime/backends/native/onnxruntime.js";
import { tf } from "../../../src/runtime/backends/tf.js";

afterAll(async () => {
  await tf.setBackend("cpu");
});

/** An Emscripten-like allocator over `capacity` bytes that, like the real one, returns 0 when full. */
function fakeModule(capacity: number) {
  let used = 0;
  const sizes = new Map<number, number>();
  let next = 8;
  const calls: number[] = [];
  return {
    calls,
    HEAPU8: new Uint8Array(16),
    _malloc(bytes: number): number {
      calls.push(bytes);
      if (used + bytes > capacity) return 0;
      used += bytes;
      sizes.set(next, bytes);
      return (next += bytes) - bytes;
    },
    _free(pointer: number): void {
      used -= sizes.get(pointer) ?? 0;
      sizes.delete(pointer);
    },
  };
}

describe("guardTensorMemory", () => {
  it("throws a TensorMemoryError when the heap is full, instead of returning address 0", () => {
    const m = fakeModule(8 << 20);
    guardTensorMemory(m, "wasm");
    expect(m._malloc(1 << 20)).toBeGreaterThan(0);
    const e = (() => {
      try {
        m._malloc(7 << 20);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(TensorMemoryError);
    expect((e as Error).message).toMatch(/wasm backend's memory is full .*4 GiB.*7 MB more did not fit; use a smaller --batch/);
  });

  it("refuses a tensor larger than the whole heap before calling malloc (its size would wrap around)", () => {
    const m = fakeModule(Number.MAX_SAFE_INTEGER);
    guardTensorMemory(m, "native");
    const before = m.calls.length;
    expect(() => m._malloc(WASM_HEAP_LIMIT + 4)).toThrow(/a tensor of 4,096 MB does not fit in the native backend's memory/);
    expect(m.calls.length).toBe(before);
  });
});

describe.each(["wasm", ...(loadOnnxRuntime() ? ["native"] : [])])("the %s backend", (backend) => {
  it("refuses a 4 GiB tensor with a TensorMemoryError and goes on working", async () => {
    await useBackend(backend as "wasm" | "native");
    expect(() => tf.fill([2 ** 30 + 16], 1)).toThrow(TensorMemoryError);
    const sum = tf.sum(tf.fill([1000], 2));
    expect(sum.dataSync()[0]).toBe(2000);
  });
});
