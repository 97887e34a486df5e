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
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fromFloat32, readSafetensors, writeSafetensors } from "../../src/runtime/checkpoint/safetensors.js";
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
const HEADS_3 = join(dir, "heads-3");
const INPUTS = join(dir, "inputs.json");
const NEVER = join(dir, "never");

/** A copy of the run's Hugging Face export with one more tensor, named `name`. */
function hfWithExtraTensor(hf: string, name: string): string {
  const out = join(dir, `hf-${name.replace(/\W/g, "_")}`);
  mkdirSync(out);
  cpSync(join(hf, "config.json"), join(out, "config.json"));
  const tensors = [...readSafetensors(join(hf, "model.safetensors")).tensors.values()];
  writeSafetensors(join(out, "model.safetensors"), [...tensors, fromFloat32(name, [1], new Float32Array([0]))]);
  return out;
}

/** A folder with a config.json of `config`. */
function hfConfig(name: string, config: object): string {
  const out = join(dir, name);
  mkdirSync(out);
  writeFileSync(join(out, "config.json"), JSON.stringify(config));
  return out;
}

/** `.bdl` text extending bert with one more line. */
function bertWith(name: string, line: string): string {
  const file = join(dir, name);
  writeFileSync(file, `import "bert.bdl"\nmodel m extends bert {\n  ${line}\n}\n`);
  return file;
}

const HF_FIFO = join(dir, "hf-fifo");
const CKPT_FIFO = join(dir, "ckpt-fifo");
let hfConstructor = "";
let hfProto = "";
let bertConfig: Record<string, unknown> = {};

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
  // A checkpoint whose bdl.json was edited to a model `bdlc check` refuses: 3 heads on hidden 32.
  cpSync(join(RUN, "checkpoints", "step-2"), HEADS_3, { recursive: true });
  const meta = JSON.parse(readFileSync(join(HEADS_3, "bdl.json"), "utf8")) as { model: { heads: number } };
  meta.model.heads = 3;
  writeFileSync(join(HEADS_3, "bdl.json"), JSON.stringify(meta));
  writeFileSync(INPUTS, JSON.stringify({ input_ids: [[2, 10, 11, 3]] }));
  const hf = join(dir, "hf");
  const exported = bdlc(["export-hf", RUN, "--out", hf]);
  expect(exported.status, exported.stderr).toBe(0);
  hfConstructor = hfWithExtraTensor(hf, "constructor");
  hfProto = hfWithExtraTensor(hf, "__proto__");
  bertConfig = JSON.parse(readFileSync(join(hf, "config.json"), "utf8")) as Record<string, unknown>;
  // Weights and a checkpoint's bdl.json that are FIFOs: opening one to read once waited forever.
  mkdirSync(HF_FIFO);
  cpSync(join(hf, "config.json"), join(HF_FIFO, "config.json"));
  expect(spawnSync("mkfifo", [join(HF_FIFO, "model.safetensors")]).status).toBe(0);
  cpSync(join(RUN, "checkpoints", "step-2"), CKPT_FIFO, { recursive: true });
  rmSync(join(CKPT_FIFO, "bdl.json"));
  expect(spawnSync("mkfifo", [join(CKPT_FIFO, "bdl.json")]).status).toBe(0);
}, 120_000);

interface Case {
  what: string;
  args: () => string[];
  /** Words the message must contain. */
  words: () => string[];
}

const CASES: Case[] = [
  {
    what: "import of /dev/zero",
    args: () => ["check", importer("zero.bdl", "/dev/zero")],
    words: () => ["zero.bdl:1:8", "BDL010", "/dev/zero", "character device"],
  },
  {
    what: "import of /dev/urandom",
    args: () => ["check", importer("urandom.bdl", "/dev/urandom")],
    words: () => ["urandom.bdl:1:8", "/dev/urandom", "character device"],
  },
  { what: "import of a FIFO", args: () => ["check", importer("fifo.bdl", FIFO)], words: () => ["fifo.bdl:1:8", FIFO, "named pipe"] },
  {
    what: "import of a folder",
    args: () => ["check", importer("folder-import.bdl", FOLDER)],
    words: () => ["folder-import.bdl:1:8", "is a directory"],
  },
  { what: "check /dev/zero", args: () => ["check", "/dev/zero"], words: () => ["/dev/zero:1:1", "character device"] },
  { what: "params of a FIFO", args: () => ["params", FIFO], words: () => [FIFO, "named pipe"] },
  { what: "a NUL byte in a .bdl", args: () => ["check", NUL_BDL], words: () => ["nul.bdl:2:10", "NUL byte", "binary"] },
  {
    what: "fmt --write of non-UTF-8 bytes",
    args: () => ["fmt", "--write", LATIN1_BDL],
    words: () => ["latin1.bdl:2:7", "byte 0xE9", "not valid UTF-8"],
  },
  { what: "fmt --write /dev/zero", args: () => ["fmt", "--write", "/dev/zero"], words: () => ["/dev/zero", "character device"] },
  {
    what: "train --corpus FIFO",
    args: () => ["train", TINY_MODEL, "--corpus", FIFO, "--out", NEVER, "--backend", "cpu"],
    words: () => [FIFO, "named pipe"],
  },
  { what: "eval --corpus /dev/zero", args: () => ["eval", RUN, "--corpus", "/dev/zero"], words: () => ["/dev/zero", "character device"] },
  { what: "eval --corpus FIFO", args: () => ["eval", RUN, "--corpus", FIFO], words: () => [FIFO, "named pipe"] },
  { what: "eval --corpus folder", args: () => ["eval", RUN, "--corpus", FOLDER], words: () => [FOLDER, "is a directory"] },
  {
    what: "eval --corpus Latin-1 text",
    args: () => ["eval", RUN, "--corpus", LATIN1_TXT],
    words: () => [`${LATIN1_TXT}:2:8`, "0xE9", "not valid UTF-8"],
  },
  { what: "finetune --task FIFO.csv", args: () => ["finetune", RUN, "--task", FIFO_CSV], words: () => [FIFO_CSV, "named pipe"] },
  {
    what: "run --inputs /dev/urandom",
    args: () => ["run", TINY_MODEL, "--weights", RUN, "--inputs", "/dev/urandom"],
    words: () => ["/dev/urandom", "character device"],
  },
  { what: "run --inputs FIFO", args: () => ["run", TINY_MODEL, "--weights", RUN, "--inputs", FIFO], words: () => [FIFO, "named pipe"] },
  {
    what: "import-hf of a FIFO model.safetensors",
    args: () => ["import-hf", HF_FIFO, "--model", TINY_MODEL, "--out", NEVER],
    words: () => [join(HF_FIFO, "model.safetensors"), "named pipe"],
  },
  {
    what: "eval of a checkpoint whose bdl.json is a FIFO",
    args: () => ["eval", CKPT_FIFO, "--corpus", join(dir, "corpus.txt")],
    words: () => [join(CKPT_FIFO, "bdl.json"), "named pipe"],
  },
  {
    what: "run --inputs with a bad byte",
    args: () => ["run", TINY_MODEL, "--weights", RUN, "--inputs", BAD_JSON],
    words: () => [`${BAD_JSON}:1:34`, "0xFF", "not valid UTF-8"],
  },

  // Names that every JavaScript object inherits must not pass for known ones.
  {
    what: "a tensor named constructor (import-hf)",
    args: () => ["import-hf", hfConstructor, "--model", TINY_MODEL, "--out", NEVER],
    words: () => ["1 tensor(s) that model 'tiny' does not have", "constructor"],
  },
  {
    what: "a tensor named __proto__ (import-hf)",
    args: () => ["import-hf", hfProto, "--model", TINY_MODEL, "--out", NEVER],
    words: () => ["1 tensor(s) that model 'tiny' does not have", "__proto__"],
  },
  {
    what: "a tensor named __proto__ (run)",
    args: () => ["run", TINY_MODEL, "--weights", hfProto, "--inputs", INPUTS],
    words: () => ["does not have", "__proto__"],
  },
  {
    what: "model_type constructor",
    args: () => ["from-hf", hfConfig("type-constructor", { ...bertConfig, model_type: "constructor" })],
    words: () => ["'model_type' \"constructor\" is not a family bdl reads"],
  },
  {
    what: "architectures [constructor]",
    args: () => ["from-hf", hfConfig("arch-constructor", { ...bertConfig, architectures: ["constructor"] })],
    words: () => ['class "constructor" is not one bdl reads'],
  },
  {
    what: "property constructor",
    args: () => ["check", bertWith("p1.bdl", "constructor 5")],
    words: () => ["p1.bdl:3:3", "Unknown property 'constructor' in model 'm'"],
  },
  {
    what: "embeddings { __proto__ 1 }",
    args: () => ["check", bertWith("p2.bdl", "embeddings { __proto__ 1 }")],
    words: () => ["p2.bdl:3:16", "Unknown property '__proto__' in 'embeddings'"],
  },
  {
    what: "train { constructor 1 }",
    args: () => ["check", bertWith("p3.bdl", "train { constructor 1 }")],
    words: () => ["p3.bdl:3:11", "Unknown property 'constructor' in 'train'"],
  },
  {
    what: "block toString",
    args: () => ["check", bertWith("p4.bdl", "toString { a 1 }")],
    words: () => ["p4.bdl:3:3", "Unknown block 'toString'"],
  },
  {
    what: "objective constructor",
    args: () => ["check", bertWith("p5.bdl", "objectives { mlm constructor }")],
    words: () => ["p5.bdl:3:20", "Unknown objective 'constructor'"],
  },
  {
    what: "objective option toString",
    args: () => ["check", bertWith("p6.bdl", "objectives { mlm toString 1 }")],
    words: () => ["p6.bdl:3:20", "Objective 'mlm' has no option 'toString'"],
  },
  { what: "command constructor", args: () => ["constructor"], words: () => ["unknown command 'constructor'"] },
  {
    what: "eval of a bdl.json with heads 3 on hidden 32",
    args: () => ["eval", HEADS_3, "--corpus", join(dir, "corpus.txt")],
    words: () => [join(HEADS_3, "bdl.json"), "model 'tiny' is not valid", "'heads' (3) must divide 'hidden' (32)"],
  },
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
    expect(() => statSync(NEVER)).toThrow();
  });
});
