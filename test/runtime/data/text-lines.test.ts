/**
 * Reading a text file a chunk (1 MiB) at a time: lines, line ends and characters that
 * straddle chunk boundaries come out whole, and a bad byte far into the file is located.
 */
import { describe, expect, it } from "vitest";
import { textLines } from "../../../src/runtime/data/text-lines.js";
import { tempFiles } from "../../helpers/temp-files.js";

const { file } = tempFiles("bdl-text-lines-");
const MiB = 1 << 20;
const fail = (m: string) => new Error(m);
const lines = (path: string) => [...textLines(path, fail)].map((l) => l.text);

describe("textLines", () => {
  it("keeps a multi-byte character and a CRLF whole across chunk boundaries", () => {
    // "é" (2 bytes) straddles the first boundary; a CRLF straddles the second.
    const first = "a".repeat(MiB - 1) + "é" + "\n";
    const head = Buffer.from(first);
    const fill = Buffer.from("b".repeat(2 * MiB - head.length - 1));
    const path = file("boundaries.txt", Buffer.concat([head, fill, Buffer.from("\r\nlast line\rafter cr")]));
    expect(lines(path)).toEqual(["a".repeat(MiB - 1) + "é", "b".repeat(fill.length), "last line", "after cr"]);
  });

  it("numbers lines, drops a BOM, and reads an empty file as no lines", () => {
    const path = file("bom.txt", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("one\n\ntwo")]));
    expect([...textLines(path, fail)]).toEqual([
      { text: "one", line: 1 },
      { text: "", line: 2 },
      { text: "two", line: 3 },
    ]);
    expect(lines(file("empty.txt", ""))).toEqual([]);
  });

  it("locates an invalid byte in a later chunk by line and column", () => {
    const body = ("x".repeat(99) + "\n").repeat(30_000); // 3 MB: the bad byte is in the third chunk
    const path = file("late.txt", Buffer.concat([Buffer.from(body), Buffer.from("abc"), Buffer.from([0xc3, 0x28]), Buffer.from("\n")]));
    expect(() => lines(path)).toThrow(`${path}:30001:4: byte 0xC3 is not valid UTF-8 (the file must be UTF-8 text)`);
  });

  it("refuses what is not a regular file", () => {
    expect(() => lines("/nonexistent/corpus.txt")).toThrow("/nonexistent/corpus.txt: no such file");
    expect(() => lines("/tmp")).toThrow("/tmp: is a directory, not a file");
    expect(() => lines("/dev/null")).toThrow(
      "/dev/null: is a character device (a terminal or a stream such as /dev/zero), not a regular file",
    );
  });
});
