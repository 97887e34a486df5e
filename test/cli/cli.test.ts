/**
 * The `bdlc` command line, through `main(argv, io)` with an io that captures what it prints,
 * against the contract of the CLI spec: exit 0 on success, 1 on a user error with one clear
 * message and no stack trace, `--help` on every command. One test runs the built binary.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkProgram } from "../../src/compiler/semantics/check.js";
import { main } from "../../src/cli/cli.js";
import { loadProgram, nodeHost, ParseCache, type CompilerHost } from "../../src/compiler/semantics/program.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
let tmp = "";

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "bdl-cli-"));
  delete process.env["BDL_DEBUG"];
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function bdlc(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => void out.push(t), err: (t) => void err.push(t), isTerminal: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A user error: exit 1, something said on stderr, no stack trace, no "internal error". */
function expectUserError(r: Run): void {
  expect(r.code, `${r.out}\n${r.err}`).toBe(1);
  const all = `${r.out}\n${r.err}`;
  expect(all).not.toMatch(/^\s+at /m);
  expect(all).not.toMatch(/internal error/i);
  expect(r.out + r.err).not.toBe("");
}

// ---------------------------------------------------------------------------------------

describe("usage and help", () => {
  it("bdlc alone prints the usage and exits 1; --help exits 0", async () => {
    const none = await bdlc();
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/^Usage: bdlc <command> \[options\]/);
    const help = await bdlc("--help");
    expect(help.code).toBe(0);
    expect(help.out).toBe(none.out);
  });

  it("--version prints the version", async () => {
    const r = await bdlc("--version");
    expect(r.code).toBe(0);
    expect(r.out).toBe(`bdlc ${JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).version}`);
  });

  it("lists at least the front-end commands of the CLI spec", async () => {
    const { out } = await bdlc("--help");
    for (const c of ["check", "fmt", "print", "diff", "params", "graph"]) expect(out).toMatch(new RegExp(`^  ${c} +\\S`, "m"));
  });

  it("--help works on every command it lists", async () => {
    const { out } = await bdlc("--help");
    const commands = out
      .split("\n")
      .slice(out.split("\n").indexOf("Commands:") + 1)
      .map((l) => /^  (\S+)  /.exec(l)?.[1])
      .filter((c): c is string => c !== undefined);
    expect(commands.length).toBeGreaterThanOrEqual(6);
    for (const c of commands) {
      for (const flag of ["--help", "-h"]) {
        const r = await bdlc(c, flag);
        expect(r.code, `${c} ${flag}: ${r.err}`).toBe(0);
        expect(r.out, `${c} ${flag}`).toMatch(new RegExp(`^Usage: bdlc ${c}\\b`));
        expect(r.err).toBe("");
      }
    }
  }, 60_000);

  it("an unknown command gets a did-you-mean", async () => {
    const r = await bdlc("chek", "models/bert.bdl");
    expectUserError(r);
    expect(r.err).toMatch(/^bdlc: unknown command 'chek'\. Did you mean 'check'\?/);
  });

  it("an unknown command far from any gets no suggestion, but the usage", async () => {
    const r = await bdlc("frobnicate");
    expectUserError(r);
    expect(r.err).not.toContain("Did you mean");
    expect(r.err).toContain("Usage: bdlc <command>");
  });

  it("an unknown flag is a clear one-line message, with a did-you-mean when close", async () => {
    const bogus = await bdlc("check", "--bogus", "models/bert.bdl");
    expectUserError(bogus);
    expect(bogus.err.split("\n")[0]).toMatch(/^bdlc check: Unknown option '--bogus'/);
    expect(bogus.out).toBe("");
    const close = await bdlc("params", "--jsn", "models/bert.bdl");
    expectUserError(close);
    expect(close.err.split("\n")[0]).toMatch(/^bdlc params: Unknown option '--jsn'.*Did you mean '--json'\?/);
  });

  it("a missing argument names what is missing", async () => {
    const r = await bdlc("params");
    expectUserError(r);
    expect(r.err).toMatch(/^bdlc params: missing FILE\./);
    const d = await bdlc("diff", "models/bert.bdl");
    expectUserError(d);
    expect(d.err).toMatch(/^bdlc diff: missing/);
  });
});

describe("a missing file is a user error naming the path", () => {
  const missing = "no/such/model.bdl";
  const cases: [string, string[]][] = [
    ["check", ["check", missing]],
    ["params", ["params", missing]],
    ["params --json", ["params", "--json", missing]],
    ["graph", ["graph", missing]],
    ["print", ["print", "--resolved", missing]],
    ["diff (first)", ["diff", missing, "models/bert.bdl"]],
    ["diff (second)", ["diff", "models/bert.bdl", `${missing}:bert`]],
    ["fmt", ["fmt", missing]],
    ["fmt --check", ["fmt", "--check", missing]],
  ];
  it.each(cases)("%s", async (_name, argv) => {
    const r = await bdlc(...argv);
    expectUserError(r);
    expect(`${r.out}\n${r.err}`).toContain(missing);
    expect(`${r.out}\n${r.err}`).toMatch(/no such file/);
  });
});

// ---------------------------------------------------------------------------------------

const HF_COUNTS = [
  ["bert", 109_482_240, 110_106_428],
  ["roberta", 124_055_040, 124_697_433],
  ["albert", 11_683_584, 11_813_810],
  ["distilbert", 66_362_880, 66_985_530],
] as const;

describe("a file of several models: each command says how it picks one", () => {
  const TWO =
    "model a {\n  vocab 100\n  hidden 64\n  layers 2\n  heads 4\n  intermediate 128\n  objectives { mlm }\n}\nmodel b extends a { layers 1 }\n";
  // Only graph takes --model NAME; import-hf's --model takes FILE[:NAME]; the rest take FILE:NAME.
  const cases: [string, (file: string) => string[], string][] = [
    ["diff", (f) => ["diff", f, f], "choose one with FILE:NAME."],
    ["mask-preview", (f) => ["mask-preview", f], "choose one with FILE:NAME."],
    ["run", (f) => ["run", f, "--weights", "w", "--inputs", "in.json"], "choose one with FILE:NAME."],
    ["train", (f) => ["train", f, "--steps", "1"], "choose one with FILE:NAME."],
    ["graph", (f) => ["graph", f], "choose one with --model NAME or FILE:NAME."],
    ["import-hf", (f) => ["import-hf", "hf", "--model", f, "--out", "ckpt"], "choose one with --model FILE:NAME."],
  ];
  it.each(cases)("%s", async (_, args, words) => {
    const file = path.join(tmp, "two-models.bdl");
    writeFileSync(file, TWO);
    const r = await bdlc(...args(file));
    expectUserError(r);
    expect(r.err).toContain(`${file} declares several models (a, b); ${words}`);
  });
});

describe("bdlc params", () => {
  it.each(HF_COUNTS)("params --json models/%s.bdl gives the Hugging Face counts", async (name, encoder, total) => {
    const r = await bdlc("params", "--json", `models/${name}.bdl`);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toBe("");
    expect(r.out.split("\n")).toHaveLength(1);
    expect(r.out.startsWith(`{"model":"${name}","encoder":${encoder},"total":${total},"breakdown":{`)).toBe(true);
    const json = JSON.parse(r.out) as { model: string; encoder: number; total: number; breakdown: Record<string, number> };
    expect(Object.keys(json)).toEqual(["model", "encoder", "total", "breakdown"]);
    const sum = (keep: (k: string) => boolean) =>
      Object.entries(json.breakdown)
        .filter(([k]) => keep(k))
        .reduce((a, [, n]) => a + n, 0);
    expect(sum(() => true)).toBe(total);
    expect(sum((k) => !k.startsWith("head."))).toBe(encoder);
  });

  it("prints one JSON object per line for a file with several models", async () => {
    const r = await bdlc("params", "--json", "test/fixtures/spec/example-2.bdl");
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    expect(lines).toHaveLength(2);
    const objects = lines.map((l) => JSON.parse(l) as { model: string; total: number });
    expect(objects.map((o) => [o.model, o.total])).toEqual([
      ["grouped", 18_969_020],
      ["student", 66_985_530],
    ]);
  });

  it("--model and FILE:NAME pick one model; an unknown name gets a did-you-mean", async () => {
    const byFlag = await bdlc("params", "--json", "--model", "student", "test/fixtures/spec/example-2.bdl");
    const byRef = await bdlc("params", "--json", "test/fixtures/spec/example-2.bdl:student");
    expect(byFlag.code).toBe(0);
    expect(byFlag.out).toBe(byRef.out);
    expect(JSON.parse(byFlag.out).model).toBe("student");
    const typo = await bdlc("params", "--model", "studnet", "test/fixtures/spec/example-2.bdl");
    expectUserError(typo);
    expect(typo.err).toContain("no model named 'studnet'");
    expect(typo.err).toContain("Did you mean 'student'?");
  });

  it("prints a readable table without --json", async () => {
    const r = await bdlc("params", "models/albert.bdl");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^albert\n/);
    expect(r.out).toMatch(/^ {2}encoder +11,683,584$/m);
    expect(r.out).toMatch(/^ {2}total +11,813,810$/m);
  });

  it("refuses a file with errors, printing them, exit 1", async () => {
    const r = await bdlc("params", "test/fixtures/diagnostics/errors.bdl");
    expectUserError(r);
    expect(r.out).toBe("");
    expect(r.err).toContain("test/fixtures/diagnostics/errors.bdl:5:3: error BDL030:");
  });
});

describe("bdlc diff", () => {
  it("bert -> albert names every changed property and both parameter counts", async () => {
    const r = await bdlc("diff", "models/bert.bdl", "models/albert.bdl");
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split("\n");
    expect(lines.slice(0, 2)).toEqual(["--- models/bert.bdl:bert", "+++ models/albert.bdl:albert"]);
    const changed = lines.map((l) => /^ {2}(\S+) {2,}/.exec(l)?.[1]).filter(Boolean);
    for (const p of [
      "vocab",
      "activation",
      "embeddings.factorize",
      "sharing",
      "objectives.nsp",
      "objectives.sop",
      "masking.unit",
      "tokenizer",
      "train.optimizer",
    ]) {
      expect(changed, r.out).toContain(p);
    }
    // Properties the two share are not listed.
    for (const p of ["hidden", "layers", "heads", "intermediate", "objectives.mlm"]) expect(changed).not.toContain(p);
    expect(r.out).toMatch(/^ {2}vocab +30522 -> 30000$/m);
    expect(r.out).toMatch(/^ {2}params\.encoder +109,482,240 -> 11,683,584 /m);
    expect(r.out).toMatch(/^ {2}params\.total +110,106,428 -> 11,813,810 /m);
  });

  it("a model against itself has no changed property", async () => {
    const r = await bdlc("diff", "models/bert.bdl", "models/bert.bdl:bert");
    expect(r.code).toBe(0);
    const properties = r.out.split("\n\n")[0]!.split("\n").slice(2);
    expect(properties.filter((l) => l.includes(" -> "))).toEqual([]);
    expect(r.out).toMatch(/^ {2}params\.total +110,106,428 -> 110,106,428 +\(no change\)$/m);
  });

  it("needs FILE:MODEL for a file with several models", async () => {
    const r = await bdlc("diff", "test/fixtures/spec/example-2.bdl", "models/bert.bdl");
    expectUserError(r);
    expect(r.err).toContain("declares several models (grouped, student)");
    const ok = await bdlc("diff", "test/fixtures/spec/example-2.bdl:student", "models/distilbert.bdl");
    expect(ok.code, ok.err).toBe(0);
  });
});

describe("bdlc graph", () => {
  it("writes an SVG file with --svg", async () => {
    const out = path.join(tmp, "albert.svg");
    const r = await bdlc("graph", "models/albert.bdl", "--svg", out);
    expect(r.code, r.err).toBe(0);
    const svg = readFileSync(out, "utf8");
    expect(svg).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
    expect(svg.trimEnd()).toMatch(/<\/svg>$/);
    expect(readdirSync(tmp).filter((f) => f.includes(".tmp-"))).toEqual([]); // written atomically
  });

  it("prints the SVG to stdout without --svg", async () => {
    const r = await bdlc("graph", "models/distilbert.bdl");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
  });

  it("an unwritable --svg path is a user error", async () => {
    const r = await bdlc("graph", "models/albert.bdl", "--svg", path.join(tmp, "no", "such", "dir", "a.svg"));
    expectUserError(r);
    expect(r.err).toContain("cannot write");
  });
});

// ---------------------------------------------------------------------------------------

/** Check text as if it were a file beside models/ (so its imports resolve the same way). */
function checkText(text: string, name = "printed.bdl") {
  const file = path.join(ROOT, "models", `__${name}`);
  const host: CompilerHost = {
    readFile: (p) => (path.resolve(p) === file ? text : nodeHost.readFile(p)),
    fileExists: (p) => path.resolve(p) === file || nodeHost.fileExists(p),
  };
  return checkProgram(loadProgram(file, new ParseCache(host)));
}

describe("bdlc print --resolved", () => {
  it.each(HF_COUNTS)("the resolved %s is a standalone model with the same parameter counts", async (name, _encoder, total) => {
    const r = await bdlc("print", "--resolved", `models/${name}.bdl`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(new RegExp(`^model ${name} \\{$`, "m"));
    expect(r.out).not.toMatch(/^model \S+ extends/m);
    // It checks clean on its own, with no import: distilbert's teacher is printed after it ...
    expect(r.out).not.toMatch(/^import /m);
    expect(r.out.match(/^model \S+/gm)).toEqual(name === "distilbert" ? ["model distilbert", "model bert"] : [`model ${name}`]);
    const checked = checkText(r.out, `${name}.bdl`);
    expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
    // ... and means the same model.
    const p = await bdlc("params", "--json", `models/${name}.bdl`);
    const original = JSON.parse(p.out) as { total: number };
    expect(original.total).toBe(total);
    const resolved = checked.resolutions.get(name)!;
    expect(resolved.model.vocab).toBeGreaterThan(0);
    const { countParams } = await import("../../src/model/counts.js");
    const teacher = resolved.model.teacher ? (checked.resolutions.get(resolved.model.teacher.model)?.model ?? null) : null;
    expect(countParams(resolved.model, teacher).total).toBe(total);
  });

  it("prints every model of a file, or the one --model names", async () => {
    const all = await bdlc("print", "--resolved", "test/fixtures/spec/example-2.bdl");
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/^model grouped \{$/m);
    expect(all.out).toMatch(/^model student \{$/m);
    const one = await bdlc("print", "--resolved", "--model", "student", "test/fixtures/spec/example-2.bdl");
    expect(one.out).not.toMatch(/^model grouped/m);
  });

  it("is plain-diffable: printing is deterministic", async () => {
    const a = await bdlc("print", "--resolved", "models/albert.bdl");
    const b = await bdlc("print", "--resolved", "models/albert.bdl");
    expect(a.out).toBe(b.out);
  });

  it("without --resolved is a user error pointing at fmt", async () => {
    const r = await bdlc("print", "models/bert.bdl");
    expectUserError(r);
    expect(r.err).toContain("--resolved");
  });
});

describe("bdlc fmt", () => {
  const MODELS = readdirSync(path.join(ROOT, "models"))
    .filter((f) => f.endsWith(".bdl"))
    .sort()
    .map((f) => `models/${f}`);

  it("fmt --check models/*.bdl exits 0: the reference models are formatted", async () => {
    expect(MODELS.length).toBeGreaterThanOrEqual(4);
    const r = await bdlc("fmt", "--check", ...MODELS);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe("");
  });

  it("--check lists an unformatted file, --write fixes it, and then --check passes", async () => {
    const file = path.join(tmp, "messy.bdl");
    writeFileSync(file, 'import   "bert.bdl"\nmodel m extends bert{\nlayers 6   // six\n\t\theads 12}\n');
    const check = await bdlc("fmt", "--check", file);
    expectUserError(check);
    expect(check.err).toContain(file);
    const write = await bdlc("fmt", "--write", file);
    expect(write.code, write.err).toBe(0);
    const formatted = readFileSync(file, "utf8");
    expect(formatted).toContain("// six");
    expect((await bdlc("fmt", "--check", file)).code).toBe(0);
    // And plain fmt prints the formatted text.
    const plain = await bdlc("fmt", file);
    expect(plain.out + "\n").toBe(formatted);
  });

  it("leaves a file with syntax errors alone, printing the errors", async () => {
    const file = path.join(tmp, "broken.bdl");
    const text = "model m {\n  heads 12 12\n";
    writeFileSync(file, text);
    const r = await bdlc("fmt", "--write", file);
    expectUserError(r);
    expect(r.err).toMatch(/broken\.bdl:2:\d+: error BDL003/);
    expect(readFileSync(file, "utf8")).toBe(text);
  });

  it("--write and --check together is a user error", async () => {
    const r = await bdlc("fmt", "--write", "--check", "models/bert.bdl");
    expectUserError(r);
  });
});

// ---------------------------------------------------------------------------------------

describe("the installed binary", () => {
  const bundle = path.join(ROOT, "dist", "bundle", "cli.js");

  it("node bin/bdlc.js check models/bert.bdl exits 0", () => {
    expect(existsSync(bundle), "the CLI is not built: run `npm run build` first").toBe(true);
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "bdlc.js"), "check", "models/bert.bdl"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("ok: models/bert.bdl\n");
  }, 60_000);

  it("and exits 1 with the diagnostics on a bad file, with no stack trace", () => {
    expect(existsSync(bundle), "the CLI is not built: run `npm run build` first").toBe(true);
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "bdlc.js"), "check", "test/fixtures/diagnostics/errors.bdl"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("test/fixtures/diagnostics/errors.bdl:5:3: error BDL030:");
    expect(r.stderr).toBe("4 errors.\n");
  }, 60_000);

  it("stops quietly, exit 0, when the reader closes the pipe early (bdlc run … | head)", () => {
    expect(existsSync(bundle), "the CLI is not built: run `npm run build` first").toBe(true);
    const g = "test/fixtures/goldens";
    // About 97 KB of JSON, more than a pipe holds: writes after `head` exits fail with EPIPE.
    const command = `"${process.execPath}" bin/bdlc.js run ${g}/bert.bdl --weights ${g}/bert --inputs ${g}/bert/inputs.json 2>"$ERR" | head -c 10 >/dev/null; echo $?" "\${PIPESTATUS[0]}`;
    const errFile = path.join(mkdtempSync(path.join(os.tmpdir(), "bdl-pipe-")), "stderr.txt");
    const r = spawnSync("bash", ["-c", command], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, ERR: errFile } });
    expect(r.stdout.trim()).toBe("0 0");
    expect(readFileSync(errFile, "utf8")).toBe("");
  }, 120_000);

  it("runs a compiled graph: bdlc run on the BERT golden gives transformers' loss", () => {
    expect(existsSync(bundle), "the CLI is not built: run `npm run build` first").toBe(true);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), "bdl-run-")), "out.json");
    const g = "test/fixtures/goldens";
    const r = spawnSync(
      process.execPath,
      [
        path.join(ROOT, "bin", "bdlc.js"),
        "run",
        `${g}/bert.bdl`,
        "--weights",
        `${g}/bert`,
        "--inputs",
        `${g}/bert/inputs.json`,
        "--out",
        out,
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const ours = JSON.parse(readFileSync(out, "utf8")) as { loss: number };
    const golden = JSON.parse(readFileSync(`${g}/bert/outputs.json`, "utf8")) as { loss: number };
    expect(Math.abs(ours.loss - golden.loss) / golden.loss).toBeLessThan(2e-4);
  }, 120_000);
});
