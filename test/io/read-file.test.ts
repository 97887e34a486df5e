/** The one reader of user files: regular files only, a size limit while reading, strict UTF-8 with positions. */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeUtf8, FileReadError, readRegularFile, readTextFile } from "../../src/io/read-file.js";
import { tempFiles, thrown } from "../helpers/temp-files.js";

const { dir, file } = tempFiles("bdl-read-file-");

describe("decodeUtf8 refuses the first byte that is not UTF-8 text, at its line and column", () => {
  const cases: [string, number[], string, number, number][] = [
    ["Latin-1 é", [0x61, 0x0a, 0x63, 0x61, 0x66, 0xe9], "byte 0xE9", 2, 4],
    ["a lone continuation byte", [0x80], "byte 0x80", 1, 1],
    ["an overlong '/' (C0 AF)", [0x78, 0xc0, 0xaf], "byte 0xC0", 1, 2],
    ["an overlong 3-byte form (E0 80 80)", [0xe0, 0x80, 0x80], "byte 0xE0", 1, 1],
    ["a UTF-16 surrogate (ED A0 80)", [0x61, 0x62, 0xed, 0xa0, 0x80], "byte 0xED", 1, 3],
    ["above U+10FFFF (F4 90 80 80)", [0xf4, 0x90, 0x80, 0x80], "byte 0xF4", 1, 1],
    ["a sequence cut off at the end", [0x61, 0xe2, 0x82], "byte 0xE2", 1, 2],
    ["after a 4-byte character, in UTF-16 columns", [0xf0, 0x9f, 0x98, 0x80, 0xff], "byte 0xFF", 1, 3],
    ["a NUL byte", [0x61, 0x0a, 0x0a, 0x62, 0x00], "contains a NUL byte", 3, 2],
    ["a NUL byte after a byte order mark", [0xef, 0xbb, 0xbf, 0x61, 0x00], "contains a NUL byte", 1, 2],
    ["a NUL byte before a bad byte", [0x00, 0xff], "contains a NUL byte", 1, 1],
  ];
  it.each(cases)("%s", (_, bytes, words, line, column) => {
    const e = thrown(FileReadError, () => decodeUtf8(new Uint8Array(bytes), "f.txt"));
    expect(e.message).toContain(words);
    expect(e.message.startsWith(`f.txt:${line}:${column}: `)).toBe(true);
    expect(e.position).toMatchObject({ line, column });
  });

  it("decodes valid text, dropping a byte order mark", () => {
    expect(decodeUtf8(Buffer.from("\ufeffcafé 😀\r\n", "utf8"), "f.txt")).toBe("café 😀\r\n");
  });
});

describe("readRegularFile", () => {
  it("refuses what is not a regular file before reading a byte", () => {
    const fifo = join(dir, "pipe");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const folder = join(dir, "folder");
    mkdirSync(folder);
    const cases: [string, string][] = [
      ["/dev/zero", "is a character device"],
      ["/dev/urandom", "is a character device"],
      [fifo, "is a named pipe (FIFO)"],
      [folder, "is a directory"],
      [join(dir, "absent"), "no such file"],
    ];
    for (const [path, words] of cases) {
      const message = thrown(FileReadError, () => readRegularFile(path, 1 << 20)).message;
      expect(message.startsWith(`${path}: ${words}`), message).toBe(true);
    }
  });

  it("checks the limit on the open file, and again while reading one whose size says 0", () => {
    expect(thrown(FileReadError, () => readRegularFile(file("big.txt", "x".repeat(101)), 100)).message).toMatch(
      /is 101 bytes, more than the 100 bytes allowed/,
    );
    expect(readRegularFile(file("exact.txt", "x".repeat(100)), 100).length).toBe(100);
    // /proc files report size 0 but have contents.
    expect(readTextFile("/proc/self/status", 1 << 20)).toMatch(/^Name:/);
    expect(thrown(FileReadError, () => readRegularFile("/proc/self/status", 16)).message).toBe(
      "/proc/self/status: is more than the 16 bytes allowed",
    );
  });
});
