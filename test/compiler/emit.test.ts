/**
 * The emitter: golden files for the emitted graphs (regenerate with UPDATE_BASELINES=1
 * and review the diff), determinism, and `tsc --strict` over every reference model's graph.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/check.js";
import { emitGraph } from "../../src/compiler/emit.js";
import type { ResolvedModel } from "../../src/compiler/model.js";

const MODEL_FILES = readdirSync("models").filter((f) => f.endsWith(".bdl")).sort();

function modelsOf(file: string): { model: ResolvedModel; teacher: ResolvedModel | null }[] {
  const checked = checkFile(`models/${file}`);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const name = file.replace(/\.bdl$/, "");
  const model = checked.resolutions.get(name)!.model;
  const teacher = model.teacher ? checked.resolutions.get(model.teacher.model)!.model : null;
  return [{ model, teacher }];
}

const ALL = MODEL_FILES.flatMap(modelsOf);

describe("emitted graphs", () => {
  it.each(["bert-mini", "albert-mini", "distilbert-mini", "roberta-mini"])("%s matches its golden file", async (name) => {
    const { model, teacher } = ALL.find((m) => m.model.name === name)!;
    const { text } = await emitGraph(model, teacher);
    const baseline = `test/fixtures/emit/${name}.ts.baseline`;
    if (process.env["UPDATE_BASELINES"]) writeFileSync(baseline, text);
    expect(text).toBe(readFileSync(baseline, "utf8"));
  });

  it("is deterministic: two emissions of every model are byte-identical", async () => {
    for (const { model, teacher } of ALL) {
      const [a, b] = [await emitGraph(model, teacher), await emitGraph(model, teacher)];
      expect(a.text, model.name).toBe(b.text);
    }
  });

  it("emits no code for features a model does not use", async () => {
    const find = (n: string) => ALL.find((m) => m.model.name === n)!;
    const bert = (await emitGraph(find("bert-mini").model)).text;
    expect(bert).not.toMatch(/projectEmbeddings|sopLogits|teacherOutputs|distillLoss|cosineLoss/);
    const distil = find("distilbert-mini");
    const student = (await emitGraph(distil.model, distil.teacher)).text;
    expect(student).not.toMatch(/nspLogits|rt\.pooler|tokenTypeIds|segment: t2/);
    expect(student).toMatch(/teacherOutputs/);
    const albert = (await emitGraph(find("albert-mini").model)).text;
    expect(albert).toMatch(/projectEmbeddings/);
    // Four layers, one shared set of weights: the same objects in every layer.
    expect(albert.match(/\{ attention: groupsAllAttention, ffn: groupsAllFfn \}/g)?.length).toBe(4);
  });

  it("passes tsc --strict --noEmit for every reference model and mini", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bdl-emit-"));
    const files: string[] = [];
    for (const { model, teacher } of ALL) {
      const { fileName, text } = await emitGraph(model, teacher);
      writeFileSync(join(dir, fileName), text);
      files.push(join(dir, fileName));
    }
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      noUncheckedIndexedAccess: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      types: ["node"],
      typeRoots: [resolve("node_modules/@types")],
      baseUrl: dir,
      paths: { "bdl/runtime": [resolve("src/runtime/index.ts")] },
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => dir,
      getNewLine: () => "\n",
    }));
    expect(errors).toEqual([]);
  }, 120_000);
});
