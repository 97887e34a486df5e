import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import { formatSource } from "../../../src/compiler/unparse/format.js";
import type { ResolvedModel } from "../../../src/model/model.js";
import { parseSource } from "../../../src/compiler/syntax/parse.js";
import { printResolved, teacherNote } from "../../../src/compiler/unparse/print.js";
import { albertBase, bertBase, distilbertBase, robertaBase } from "../../helpers/resolved-fixtures.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const REFERENCE = ["bert", "roberta", "albert", "distilbert"];
const MODEL_FILES = existsSync(path.join(ROOT, "models"))
  ? readdirSync(path.join(ROOT, "models"))
      .filter((f) => f.endsWith(".bdl"))
      .sort()
      .map((f) => path.join("models", f))
  : [];

const tmp = mkdtempSync(path.join(tmpdir(), "bdl-print-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let tmpCount = 0;

/** What must survive printing: everything but where the model came from. */
function meaning(m: ResolvedModel): Omit<ResolvedModel, "file" | "bases"> {
  const { file: _file, bases: _bases, ...rest } = m;
  return rest;
}

/**
 * Prints `model` (and the chain of teachers it names) into one file of its own, checks that
 * file, and returns the diagnostics and what the printed models resolve to.
 */
function reread(model: ResolvedModel, teachers: ResolvedModel[] = []) {
  const texts = [printResolved(model, teachers[0] ?? null)];
  teachers.forEach((t, i) => texts.push(printResolved(t, teachers[i + 1] ?? null)));
  const file = path.join(tmp, `printed-${tmpCount++}.bdl`);
  writeFileSync(file, texts.join("\n"));
  const checked = checkFile(file);
  return { text: texts[0]!, checked, resolved: checked.resolutions.get(model.name)?.model };
}

/** Loads a models/*.bdl file: the models it declares, each with its chain of teachers. */
function load(file: string): { model: ResolvedModel; teachers: ResolvedModel[] }[] {
  const checked = checkFile(path.join(ROOT, file));
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const declared = checked.program.entry!.items.flatMap((i) => (i.kind === "Model" ? [i.name.text] : []));
  return declared.map((name) => {
    const model = checked.resolutions.get(name)!.model;
    const teachers: ResolvedModel[] = [];
    for (let t = model.teacher; t;) {
      const teacher = checked.resolutions.get(t.model)!.model;
      teachers.push(teacher);
      t = teacher.teacher;
    }
    return { model, teachers };
  });
}

function codeLines(text: string): string[] {
  return text.split("\n").filter((l) => !l.trimStart().startsWith("//"));
}

it("has the four reference models to print", () => {
  for (const name of REFERENCE) expect(MODEL_FILES).toContain(`models/${name}.bdl`);
});

describe.each(MODEL_FILES)("printResolved(%s)", (file) => {
  const entries = load(file);

  it("writes no extends and no import", () => {
    for (const { model, teachers } of entries) {
      const text = printResolved(model, teachers[0] ?? null);
      const { ast, diagnostics } = parseSource({ path: "p.bdl", text });
      expect(diagnostics).toEqual([]);
      expect(ast.items.every((i) => i.kind === "Model" && i.base === null)).toBe(true);
      expect(codeLines(text).join("\n")).not.toMatch(/\b(extends|import)\b/);
      expect(text.startsWith(`// bdlc print --resolved: ${model.name} (`)).toBe(true);
    }
  });

  it("checks on its own (with its teacher) and resolves to the same model", () => {
    for (const { model, teachers } of entries) {
      const { checked, resolved } = reread(model, teachers);
      expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(resolved).toBeDefined();
      expect(meaning(resolved!)).toEqual(meaning(model));
      expect(resolved!.bases).toEqual([]);
      for (const t of teachers) expect(meaning(checked.resolutions.get(t.name)!.model)).toEqual(meaning(t));
    }
  });

  it("is deterministic and already canonical", () => {
    for (const { model, teachers } of entries) {
      const text = printResolved(model, teachers[0] ?? null);
      expect(printResolved(model, teachers[0] ?? null)).toBe(text);
      expect(formatSource({ path: "p.bdl", text }).text).toBe(text);
    }
  });
});

describe("printResolved layout", () => {
  it("writes every property in the fixed order", () => {
    const m = { ...distilbertBase(), expect: [{ key: "params" as const, text: "67M", value: 67, scale: 1e6, decimals: 0 }] };
    expect(printResolved(m, bertBase())).toBe(`// bdlc print --resolved: distilbert (models/distilbert.bdl), extends bert
model distilbert {
  vocab 30522
  hidden 768
  layers 6
  heads 12
  intermediate 3072
  activation gelu
  norm_eps 1e-12
  dropout 0.1
  attention_dropout 0.1
  pooler none

  embeddings {
    positions 512
    offset 0
    segments 0
  }

  sharing none

  objectives {
    mlm weight 2
    distill weight 5 temperature 2
    cosine weight 1
  }

  masking {
    rate 0.15
    mask 0.8 random 0.1 keep 0.1
    unit token
    schedule dynamic
  }

  teacher bert {
    init layers [0, 2, 4, 7, 9, 11]
    init embeddings
  }

  tokenizer wordpiece lowercase
  special { pad 0 unk 100 cls 101 sep 102 mask 103 }

  train {
    optimizer adamw lr 5e-4 beta1 0.9 beta2 0.999 eps 1e-6 weight_decay 0.01
    warmup 10000
    decay linear
    batch 4000
    seq 128
    steps 1000000
  }

  expect params 67M
}
`);
  });

  it("writes factorize only when set, and `sharing all` for one group over every layer", () => {
    const text = printResolved(albertBase());
    expect(text).toContain("    factorize 128\n");
    expect(text).toContain("\n  sharing all\n");
    expect(text).toContain("    unit ngram 3\n    schedule static duplicates 10\n");
    expect(text).toContain("    optimizer lamb lr 0.00176 beta1 0.9");
    expect(printResolved(bertBase())).not.toContain("factorize");
  });

  it("writes norm_position only when pre, and the text reads back to it", () => {
    expect(printResolved(bertBase())).not.toContain("norm_position");
    const pre: ResolvedModel = { ...bertBase(), name: "pre", norm_position: "pre" };
    const { text, checked, resolved } = reread(pre);
    expect(text).toContain("\n  norm_eps 1e-12\n  norm_position pre\n");
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(resolved!.norm_position).toBe("pre");
    expect(meaning(resolved!)).toEqual(meaning(pre));
  });

  it("writes span masking with its p and max on the unit line, and the text reads back to it", () => {
    const span: ResolvedModel = { ...bertBase(), name: "span", masking: { ...bertBase().masking, unit: { kind: "span", p: 0.3, max: 5 } } };
    const { text, checked, resolved } = reread(span);
    expect(text).toContain("    unit span p 0.3 max 5\n    schedule ");
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(resolved!.masking.unit).toEqual({ kind: "span", p: 0.3, max: 5 });
    expect(meaning(resolved!)).toEqual(meaning(span));
  });

  it("resolves `unit span` alone to p 0.2 max 10, and p or max from anywhere in the chain", () => {
    const file = path.join(tmp, `span-chain-${tmpCount++}.bdl`);
    writeFileSync(
      file,
      [
        `import "${path.join(ROOT, "models/bert.bdl")}"`,
        "model a extends bert {",
        "  masking { unit span }",
        "}",
        "model b extends a {",
        "  masking { max 4 }",
        "}",
        "",
      ].join("\n"),
    );
    const checked = checkFile(file);
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(checked.resolutions.get("a")!.model.masking.unit).toEqual({ kind: "span", p: 0.2, max: 10 });
    expect(checked.resolutions.get("b")!.model.masking.unit).toEqual({ kind: "span", p: 0.2, max: 4 });
  });

  it("writes feed_forward only when gated, and the text reads back to it", () => {
    expect(printResolved(bertBase())).not.toContain("feed_forward");
    const glu: ResolvedModel = { ...bertBase(), name: "glu", feed_forward: "gated", activation: "silu" };
    const { text, checked, resolved } = reread(glu);
    expect(text).toContain("\n  activation silu\n  norm_eps 1e-12\n  feed_forward gated\n  dropout 0.1\n");
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(resolved!.feed_forward).toBe("gated");
    expect(meaning(resolved!)).toEqual(meaning(glu));
  });

  it("writes a bias switch only when false, and the text reads back to it", () => {
    expect(printResolved(bertBase())).not.toMatch(/_bias/);
    const plain: ResolvedModel = { ...bertBase(), name: "plain", attention_bias: false, mlp_bias: false, norm_bias: false };
    const { text, checked, resolved } = reread(plain);
    expect(text).toContain("\n  norm_eps 1e-12\n  attention_bias false\n  mlp_bias false\n  norm_bias false\n  dropout 0.1\n");
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect([resolved!.attention_bias, resolved!.mlp_bias, resolved!.norm_bias]).toEqual([false, false, false]);
    expect(meaning(resolved!)).toEqual(meaning(plain));
    const one = reread({ ...bertBase(), name: "one", mlp_bias: false });
    expect(one.text).toContain("\n  mlp_bias false\n");
    expect(one.text).not.toMatch(/attention_bias|norm_bias/);
    expect("attention_bias" in one.resolved! || "norm_bias" in one.resolved!).toBe(false);
  });

  it("writes sharing groups with ranges for consecutive layers and lists otherwise", () => {
    const m: ResolvedModel = {
      ...bertBase(),
      sharing: [
        { name: "a", layers: [0, 1, 2, 3, 4, 5], share: ["attention", "ffn"] },
        { name: "b", layers: [6, 8, 10], share: ["ffn", "attention"] },
        { name: "c", layers: [7], share: ["attention"] },
      ],
    };
    const text = printResolved(m);
    expect(text).toContain(
      "  sharing {\n" +
        "    group a layers 0..5 share attention ffn\n" +
        "    group b layers [6, 8, 10] share ffn attention\n" +
        "    group c layers [7] share attention\n" +
        "  }\n",
    );
    const { checked, resolved } = reread(m);
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(meaning(resolved!)).toEqual(meaning(m));
  });

  it("keeps a one-group-over-everything block that `sharing all` would rename", () => {
    const m: ResolvedModel = { ...bertBase(), sharing: [{ name: "g", layers: [...Array(12).keys()], share: ["attention", "ffn"] }] };
    expect(printResolved(m)).toContain("group g layers 0..11 share attention ffn");
    expect(meaning(reread(m).resolved!)).toEqual(meaning(m));
  });

  it("round-trips ramps, checkpoints, word masking and a teacher without inits", () => {
    const m: ResolvedModel = {
      ...distilbertBase(),
      name: "student",
      masking: { ...bertBase().masking, rate: { from: 0.15, to: 0.4, steps: 100000 }, unit: { kind: "word" } },
      teacher: { model: "bert", checkpoint: 'ckpt/"base" \\ v1', initLayers: null, initEmbeddings: false },
      tokenizer: { kind: "bpe", lowercase: false },
    };
    const { text, checked, resolved } = reread(m, [bertBase()]);
    expect(text).toContain("    rate 0.15 -> 0.4 over 100000\n");
    expect(text).toContain('  teacher bert from "ckpt/\\"base\\" \\\\ v1"\n');
    expect(text).toContain("  tokenizer bpe\n");
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(meaning(resolved!)).toEqual(meaning(m));
  });

  it("round-trips the hand-built reference models", () => {
    for (const m of [bertBase(), robertaBase(), albertBase()]) expect(meaning(reread(m).resolved!)).toEqual(meaning(m));
    expect(meaning(reread(distilbertBase(), [bertBase()]).resolved!)).toEqual(meaning(distilbertBase()));
  });

  it("names where the model came from in its first line", () => {
    const m = { ...distilbertBase(), name: "tiny", file: "x/tiny.bdl", bases: ["distilbert", "bert"] };
    expect(printResolved(m, bertBase()).split("\n")[0]).toBe("// bdlc print --resolved: tiny (x/tiny.bdl), extends distilbert -> bert");
    expect(printResolved(bertBase()).split("\n")[0]).toBe("// bdlc print --resolved: bert (models/bert.bdl)");
  });
});

describe("teacherNote", () => {
  const large: ResolvedModel = { ...bertBase(), name: "large", hidden: 1024, heads: 16, intermediate: 4096 };
  const note = "// cosine compares hidden states through a learned projection 768 -> 1024";

  it("says how cosine bridges a teacher of another width", () => {
    expect(teacherNote(distilbertBase(), large)).toBe(note);
    const text = printResolved(distilbertBase(), large);
    expect(text).toContain(`\n  ${note}\n  teacher bert {\n`);
    expect(formatSource({ path: "p.bdl", text }).text).toBe(text);
  });

  it("says nothing when the widths agree, without cosine, or without the teacher model", () => {
    expect(teacherNote(distilbertBase(), bertBase())).toBeNull();
    expect(teacherNote(distilbertBase(), null)).toBeNull();
    const noCosine = { ...distilbertBase(), objectives: distilbertBase().objectives.filter((o) => o.name !== "cosine") };
    expect(teacherNote(noCosine, large)).toBeNull();
    expect(printResolved(distilbertBase(), bertBase())).not.toContain("projection");
  });
});
