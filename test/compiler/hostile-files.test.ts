/**
 * Files that are not what they claim: devices, FIFOs, folders and bytes that are not UTF-8,
 * given wherever bdlc reads a file (a `.bdl` import or argument, a corpus, a task, a JSON
 * file). Each is refused with a sentence naming the file (and the line and column, for bad
 * bytes), exit 1, within seconds (a FIFO must not block the reader), and nothing is lost:
 * the run folder with its newest checkpoint and the file `fmt --write` was given are
 * unchanged, byte for byte, after every refused command.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { bdlc, TINY_MODEL, writeGlossCorpus } from "../helpers/training.js";
import { tempFiles } from "../helpers/temp-files.js";

const { dir } = tempFiles("bdl-hostile-");
const RUN = join(dir, "run");
const FIFO = join(dir, "pipe");
const FIFO_CSV = join(dir, "pipe.csv");
const FOLDER = join(dir, "folder.bdl");
const LATIN1_BDL = join(dir, "latin1.bdl");
const LATIN1_TXT = join(dir, "latin1.txt");
const BAD_JSON = join(dir, "bad-bytes.json");
const NUL_BDL = join(dir, "nul.bdl");

/** `import "TARGET"` in a file of its own, so the refusal must point at line 1, column 8. */
function importer(name: string, target: string): string {
  const file = join(dir, name);
  writeFileSync(file, `import "${target}"\n`);
  return file;
}

/** Every file under `root` with the hash of its bytes, so any change shows. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(root);
  return out;
}

beforeAll(() => {
  for (const fifo of [FIFO, FIFO_CSV]) expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
  mkdirSync(FOLDER);
  // A comment with Latin-1 "é" (0xE9) on line 2, column 7: fmt --write once turned it into U+FFFD.
  writeFileSync(
    LATIN1_BDL,
    Buffer.concat([
      Buffer.from("model m { vocab 100 hidden 64 layers 2 heads 4 intermediate 128 objectives { mlm } }\n// caf"),
      Buffer.from([0xe9]),
      Buffer.from("\n"),
    ]),
  );
  writeFileSync(LATIN1_TXT, Buffer.from("a sentence.\nthe caf\xe9 is open.\n", "latin1"));
  writeFileSync(BAD_JSON, Buffer.concat([Buffer.from('{"input_ids": [[1, 2]], "note": "'), Buffer.from([0xff]), Buffer.from('"}')]));
  writeFileSync(NUL_BDL, Buffer.from("model m {\n  vocab 1\0\n}\n"));
  const corpus = join(dir, "corpus.txt");
  writeGlossCorpus(corpus);
  const trained = bdlc(["train", TINY_MODEL, "--steps", "2", "--corpus", corpus, "--out", RUN, "--backend", "cpu"]);
  expect(trained.status, trained.stderr).toBe(0);
}, 120_000);

interface Case {
  what: string;
  args: () => string[];
  /** Words the message must contain. */
  words: () => string[];
}

const CASES: Case[] = [
  { what: "import of /dev/zero", args: () => ["check", importer("zero.bdl", "/dev/zero")], words: () => ["zero.bdl:1:8", "BDL010", "/dev/zero", "character device"] },
  { what: "import of /dev/urandom", args: () => ["check", importer("urandom.bdl", "/dev/urandom")], words: () => ["urandom.bdl:1:8", "/dev/urandom", "character device"] },
  { what: "import of a FIFO", args: () => ["check", importer("fifo.bdl", FIFO)], words: () => ["fifo.bdl:1:8", FIFO, "named pipe"] },
  { what: "import of a folder", args: () => ["check", importer("folder-import.bdl", FOLDER)], words: () => ["folder-import.bdl:1:8", "is a directory"] },
  { what: "check /dev/zero", args: () => ["check", "/dev/zero"], words: () => ["/dev/zero:1:1", "character device"] },
  { what: "params of a FIFO", args: () => ["params", FIFO], words: () => [FIFO, "named pipe"] },
  { what: "a NUL byte in a .bdl", args: () => ["check", NUL_BDL], words: () => ["nul.bdl:2:10", "NUL byte", "binary"] },
  { what: "fmt --write of non-UTF-8 bytes", args: () => ["fmt", "--write", LATIN1_BDL], words: () => ["latin1.bdl:2:7", "byte 0xE9", "not valid UTF-8"] },
  { what: "fmt --write /dev/zero", args: () => ["fmt", "--write", "/dev/zero"], words: () => ["/dev/zero", "character device"] },
  { what: "train --corpus FIFO", args: () => ["train", TINY_MODEL, "--corpus", FIFO, "--out", join(dir, "never"), "--backend", "cpu"], words: () => [FIFO, "named pipe"] },
  { what: "eval --corpus /dev/zero", args: () => ["eval", RUN, "--corpus", "/dev/zero"], words: () => ["/dev/zero", "character device"] },
  { what: "eval --corpus FIFO", args: () => ["eval", RUN, "--corpus", FIFO], words: () => [FIFO, "named pipe"] },
  { what: "eval --corpus folder", args: () => ["eval", RUN, "--corpus", FOLDER], words: () => [FOLDER, "is a directory"] },
  { what: "eval --corpus Latin-1 text", args: () => ["eval", RUN, "--corpus", LATIN1_TXT], words: () => [`${LATIN1_TXT}:2:8`, "0xE9", "not valid UTF-8"] },
  { what: "finetune --task FIFO.csv", args: () => ["finetune", RUN, "--task", FIFO_CSV], words: () => [FIFO_CSV, "named pipe"] },
  { what: "run --inputs /dev/urandom", args: () => ["run", TINY_MODEL, "--weights", RUN, "--inputs", "/dev/urandom"], words: () => ["/dev/urandom", "character device"] },
  { what: "run --inputs FIFO", args: () => ["run", TINY_MODEL, "--weights", RUN, "--inputs", FIFO], words: () => [FIFO, "named pipe"] },
  { what: "run --inputs with a bad byte", args: () => ["run", TINY_MODEL, "--weights", RUN, "--inputs", BAD_JSON], words: () => [`${BAD_JSON}:1:34`, "0xFF", "not valid UTF-8"] },
];

describe("hostile files are refused, exit 1, and nothing is lost", () => {
  it.each(CASES)("$what", ({ args, words }) => {
    const before = snapshot(RUN);
    const source = readFileSync(LATIN1_BDL);
    const r = bdlc(args(), 60_000);
    const all = `${r.stdout}\n${r.stderr}`;
    expect(r.signal, "killed by the timeout: the command hung").toBeNull();
    expect(r.status, all).toBe(1);
    for (const w of words()) expect(all).toContain(w);
    expect(all).not.toMatch(/^\s+at /m);
    expect(all).not.toMatch(/internal error/i);
    expect(snapshot(RUN)).toEqual(before);
    expect(readFileSync(LATIN1_BDL).equals(source)).toBe(true);
    expect(() => statSync(join(dir, "never"))).toThrow();
  });
});
