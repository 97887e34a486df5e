/**
 * The PyTorch emitter: golden files for the reference models' modules (regenerate with
 * UPDATE_BASELINES=1 and review the diff), determinism, only the code a model's features
 * need, the parameter table as Python builds it equal to the model's (names, shapes,
 * initialisers, decay, in order) and the module's parameters equal to the table, and text from
 * a .bdl file or the file system reaching the module only as escaped string literals.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import { emitTorchModule } from "../../../src/compiler/emit/torch.js";
import { pyLiteral } from "../../../src/compiler/emit/python.js";
import { parameterTable } from "../../../src/model/parameters.js";
import type { ResolvedModel } from "../../../src/model/model.js";
import { torchPython } from "../../../src/torch/index.js";
import { tempFiles } from "../../helpers/temp-files.js";
import { skipTorch } from "../../torch/torch-here.js";

type Pair = { model: ResolvedModel; teacher: ResolvedModel | null };

function modelsIn(file: string): Pair[] {
  const checked = checkFile(file);
  expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return [...checked.resolutions.values()].map((r) => ({
    model: r.model,
    teacher: r.model.teacher ? checked.resolutions.get(r.model.teacher.model)!.model : null,
  }));
}

const ALL: Pair[] = [
  ...readdirSync("models")
    .filter((f) => f.endsWith(".bdl"))
    .sort()
    .flatMap((f) => modelsIn(`models/${f}`)),
  ...["pre-ln-mini", "glu-mini", "no-bias-mini", "modern-mini"].flatMap((f) => modelsIn(`test/fixtures/emit/${f}.bdl`)),
  ...["bert", "albert", "distill", "modernbert", "electra"].flatMap((f) => modelsIn(`test/fixtures/goldens/${f}.bdl`)),
].filter((p, i, all) => all.findIndex((q) => q.model.name === p.model.name) === i);

const pick = (name: string) => ALL.find((p) => p.model.name === name)!;
const temp = tempFiles("bdl-emit-torch-");

describe("emitted PyTorch modules", () => {
  it.each(["bert-mini", "albert-mini", "distilbert-mini", "roberta-mini", "modernbert-mini", "electra-mini"])(
    "%s matches its golden file",
    (name) => {
      const { model, teacher } = pick(name);
      const { text, fileName } = emitTorchModule(model, teacher);
      expect(fileName).toBe(`${name}.py`);
      const baseline = `test/fixtures/emit/${name}.py.baseline`;
      if (process.env["UPDATE_BASELINES"]) writeFileSync(baseline, text);
      expect(text).toBe(readFileSync(baseline, "utf8"));
    },
  );

  it("is deterministic: two emissions of every model are byte-identical", () => {
    for (const { model, teacher } of ALL)
      expect(emitTorchModule(model, teacher).text, model.name).toBe(emitTorchModule(model, teacher).text);
  });

  it("has no code for features the model lacks", () => {
    const bert = emitTorchModule(pick("bert-mini").model).text;
    for (const absent of [
      "rotary",
      "local_attention_bias",
      "class Generator",
      "TeacherOutputs",
      "sop_logits",
      "document_ids",
      "final_norm",
      "bias: bool",
    ])
      expect(bert, absent).not.toContain(absent);
    const modern = emitTorchModule(pick("modernbert-mini").model).text;
    for (const present of ["def rotate(", "local_attention_bias", "final_norm", "chunk(2"]) expect(modern, present).toContain(present);
    for (const absent of ["self.pooler", "self.segment", "nsp_logits"]) expect(modern, absent).not.toContain(absent);
    const electra = emitTorchModule(pick("electra-mini").model).text;
    expect(electra).toContain("class Generator(Encoder)");
    expect(electra).not.toContain("nsp_logits");
  });
});

describe.skipIf(skipTorch)("emitted PyTorch modules, in Python", () => {
  it("build the model's parameter table, and a Model whose parameters are that table", () => {
    const dir = join(temp.dir, "tables");
    mkdirSync(dir);
    const expected: Record<string, unknown> = {};
    for (const { model, teacher } of ALL) {
      writeFileSync(join(dir, `${model.name}.py`), emitTorchModule(model, teacher).text);
      expected[model.name] = parameterTable(model, teacher).map((p) => [p.name, p.shape, p.init, p.decay]);
    }
    const script = [
      "import json, sys, importlib.util",
      "out = {}",
      "for name in sys.argv[2:]:",
      "    spec = importlib.util.spec_from_file_location(name, f'{sys.argv[1]}/{name}.py')",
      "    m = importlib.util.module_from_spec(spec); sys.modules[name] = m; spec.loader.exec_module(m)",
      "    model = m.Model(); model.initialize()",
      "    built = sorted((n, list(p.shape)) for n, p in model.named_parameters())",
      "    out[name] = {'table': [[s.name, list(s.shape), s.init, s.decay] for s in m.PARAMETERS], 'built': built}",
      "print(json.dumps(out))",
    ].join("\n");
    const run = spawnSync(torchPython().command, ["-c", script, dir, ...Object.keys(expected)], { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(run.stderr).toBe("");
    const got = JSON.parse(run.stdout) as Record<string, { table: unknown[]; built: [string, number[]][] }>;
    for (const [name, table] of Object.entries(expected)) {
      expect(got[name]!.table, name).toEqual(table);
      const sorted = (table as [string, number[]][]).map(([n, s]) => [n, s]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      expect(got[name]!.built, name).toEqual(sorted);
    }
  }, 120_000);

  it("keep hostile text from the .bdl file and its path as data", () => {
    const marker = join(temp.dir, "payload-ran");
    const payload = `__import__("os").system("touch ${marker.replaceAll('"', "")}")`;
    // A folder name that ends a string, a docstring or a comment line if written raw.
    const dir = join(temp.dir, `x"""\n${payload}\n#"\\`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "m.bdl");
    const checkpoint = `ckpt"\n${payload}\n'''\u2028\u{1F600}\\`;
    writeFileSync(
      file,
      `model t {
  vocab 60 hidden 16 layers 2 heads 2 intermediate 24
  embeddings { positions 16 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
}
model s extends t {
  layers 1
  objectives { mlm weight 1 distill weight 1 cosine weight 1 }
  teacher t from ${JSON.stringify(checkpoint)} { init layers [1] }
}
`,
    );
    const [teacher, student] = modelsIn(file).map((p) => p.model);
    const path = join(temp.dir, "hostile.py");
    writeFileSync(path, emitTorchModule(student!, teacher!).text);
    const script = `import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("hostile", sys.argv[1]); m = importlib.util.module_from_spec(spec)
sys.modules["hostile"] = m; spec.loader.exec_module(m)
print(json.dumps([m.CONFIG["file"], m.CONFIG["teacher"]["checkpoint"], m.CONFIG["name"]]))`;
    const run = spawnSync(torchPython().command, ["-c", script, path], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    // The checkpoint as the language reads it (its escapes are the language's), kept exactly.
    expect(JSON.parse(run.stdout)).toEqual([file, student!.teacher!.checkpoint, "s"]);
    expect(student!.teacher!.checkpoint).toContain(payload);
    expect(existsSync(marker)).toBe(false);
    expect(
      emitTorchModule(student!, teacher!)
        .text.split("\n")
        .filter((line) => line.includes("__import__")),
    ).toEqual([
      expect.stringMatching(/^CONFIG|^ {4}"file"|^ {8}"checkpoint"|^# PyTorch module/),
      expect.stringMatching(/^CONFIG|^ {4}"file"|^ {8}"checkpoint"|^# PyTorch module/),
      expect.stringMatching(/^CONFIG|^ {4}"file"|^ {8}"checkpoint"|^# PyTorch module/),
    ]);
  });

  it("write every string as a Python literal that reads back as itself", () => {
    const texts = ['a"b', "back\\slash", "line\nbreak", "\u2028\u2029", "\u{1F600}", "'''", "\x00\x7f"];
    const run = spawnSync(torchPython().command, ["-c", `import json; print(json.dumps(${pyLiteral(texts)}))`], { encoding: "utf8" });
    expect(JSON.parse(run.stdout)).toEqual(texts);
  });
});
