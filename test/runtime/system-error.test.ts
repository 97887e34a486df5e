/**
 * The machine's errors are told apart from bdl's bugs: a full disk (written for real to
 * /dev/full), a read-only file system or a refused allocation gets a sentence with the file,
 * and `bdlc` exits 1 for them, not 2.
 */
import { describe, expect, it } from "vitest";
import { writeFileDurably } from "../../src/runtime/checkpoint/durable.js";
import { diskErrorMessage, isAllocationFailure } from "../../src/runtime/system-error.js";

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

describe("the machine's errors", () => {
  it("a write to a full disk names the file and the reason", () => {
    const e = thrownBy(() => writeFileDurably("/dev/full", "x".repeat(100_000)));
    expect((e as NodeJS.ErrnoException).code).toBe("ENOSPC");
    expect(diskErrorMessage(e)).toBe("writing /dev/full failed: no space left on the device (ENOSPC)");
  });

  it.each([
    [{ code: "EROFS", syscall: "open", path: "/ro/run.json" }, "opening /ro/run.json failed: the file system is read-only (EROFS)"],
    [{ code: "EACCES", syscall: "mkdir", path: "/root/run" }, "creating the folder /root/run failed: permission denied (EACCES)"],
    [{ code: "EDQUOT", syscall: "write" }, "writing failed: the disk quota is exhausted (EDQUOT)"],
    [
      { code: "ENOSPC", syscall: "rename", path: "/a.tmp", dest: "/a" },
      "renaming /a.tmp to /a failed: no space left on the device (ENOSPC)",
    ],
  ])("%o", (fields, message) => {
    expect(diskErrorMessage(Object.assign(new Error("x"), fields))).toBe(message);
  });

  it("other errors are not the disk's", () => {
    expect(diskErrorMessage(Object.assign(new Error("x"), { code: "ENOENT", path: "/a" }))).toBeNull();
    expect(diskErrorMessage(new TypeError("x"))).toBeNull();
    expect(diskErrorMessage(null)).toBeNull();
  });

  it("an allocation the engine refuses is told from other range errors", () => {
    expect(isAllocationFailure(thrownBy(() => new Float32Array(2 ** 40)))).toBe(true);
    expect(isAllocationFailure(thrownBy(() => new ArrayBuffer(2 ** 53)))).toBe(true);
    expect(isAllocationFailure(thrownBy(() => (1).toFixed(500)))).toBe(false);
  });
});
