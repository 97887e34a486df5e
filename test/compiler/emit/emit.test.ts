/**
 * The emitter: golden files for the emitted graphs (regenerate with UPDATE_BASELINES=1
 * and review the diff), determinism, the parameter table and sharing as loaded, size
 * independent of the layer count, and `tsc --strict` over every reference model's graph.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { checkFile } from "../../../src/compiler/semantics/check.js";
import { emitGraph } from "../../../src/compiler/emit/emit.js";
import { generatorModel } from "../../../src/model/generator.js";
import { loadGraph } from "../../../src/app/graph-loader.js";
import { electraPair, hfNaming } from "../../../src/model/hf/names.js";
import { parameterTable } from "../../../src/model/parameters.js";
import { tf } from "../../../src/runtime/backends/tf.js";
import { tempFiles } from "../../helpers/temp-files.js";
import type { ResolvedModel } from "../../../src/model/model.js";

const MODEL_FILES = readdirSync("models")
  .filter((f) => f.endsWith(".bdl"))
  .sort();

function modelsOf(file: string): { model: ResolvedModel; teacher: ResolvedModel | null }[] {
  const checked = checkFile(`models/${file}`);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const name = file.replace(/\.bdl$/, "");
  const model = checked.resolutions.get(name)!.model;
  const teacher = model.teacher ? checked.resolutions.get(model.teacher.model)!.model : null;
  return [{ model, teacher }];
}

/**
 * A model of its own for each thing no reference model has: pre-LN layers and a final LayerNorm; gated feed-forward layers;
 * attention, feed-forward and LayerNorms without bias.
 */
function fixture(name: string): { model: ResolvedModel; teacher: ResolvedModel | null } {
  const checked = checkFile(`test/fixtures/emit/${name}.bdl`);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return { model: checked.resolutions.get(name)!.model, teacher: null };
}

const ALL = [
  ...MODEL_FILES.flatMap(modelsOf),
  fixture("pre-ln-mini"),
  fixture("glu-mini"),
  fixture("no-bias-mini"),
  fixture("modern-mini"),
];
const temp = tempFiles("bdl-emit-");

describe("emitted graphs", () => {
  it.each([
    "bert-mini",
    "albert-mini",
    "distilbert-mini",
    "roberta-mini",
    "pre-ln-mini",
    "glu-mini",
    "no-bias-mini",
    "modern-mini",
    "electra-mini",
  ])("%s matches its golden file", async (name) => {
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
    expect(bert).not.toMatch(/bindOnce|attentionOwner/);
    // Post-LN is the runtime's default: only a pre-LN graph names the position, and only it has a final LayerNorm.
    for (const { model, teacher } of ALL.filter((m) => m.model.norm_position !== "pre")) {
      expect((await emitGraph(model, teacher)).text, model.name).not.toMatch(/normPosition|finalNorm|final_norm|rt\.layerNorm/);
    }
    const pre = (await emitGraph(find("pre-ln-mini").model)).text;
    expect(pre.match(/^  normPosition: "pre",$/gm)).toHaveLength(2);
    expect(pre).toMatch(/const ATTENTION: rt\.AttentionOptions = \{[^}]*normPosition: "pre",\n\};/);
    expect(pre).toMatch(/const FEED_FORWARD: rt\.FeedForwardOptions = \{[^}]*normPosition: "pre",\n\};/);
    expect(pre).toContain("h = rt.layerNorm(h, p.finalNorm, 1e-12);");
    expect(pre).toContain('finalNorm: { weight: t1("encoder.final_norm.weight"), bias: t1("encoder.final_norm.bias") },');
    // Plain is the runtime's default: only a gated graph names the feed-forward kind.
    for (const { model, teacher } of ALL.filter((m) => m.model.feed_forward !== "gated")) {
      expect((await emitGraph(model, teacher)).text, model.name).not.toMatch(/kind: "gated"|Gated:/);
    }
    const glu = (await emitGraph(find("glu-mini").model)).text;
    expect(glu).toMatch(/const FEED_FORWARD: rt\.FeedForwardOptions = \{[^}]*activation: "silu",[^}]*kind: "gated",\n\};/);
    expect(glu).not.toMatch(/normPosition|finalNorm/);
    // A part without bias binds no bias tensor; every other model binds one for each dense layer and LayerNorm.
    const noBias = (await emitGraph(find("no-bias-mini").model)).text;
    expect(noBias).not.toMatch(/attention\.\w+\.bias|ffn\.\w+\.bias|norm\.bias/);
    expect(noBias).toContain("query: { kernel: t2(`${owner}.attention.query.kernel`) },");
    expect(noBias).toContain('norm: { weight: t1("embeddings.norm.weight") },');
    // The heads' dense layers and the MLM decoder keep theirs: no switch covers them.
    expect(noBias).toContain('pooler: { kernel: t2("pooler.kernel"), bias: t1("pooler.bias") },');
    for (const { model, teacher } of ALL.filter((m) => m.model.attention_bias !== false)) {
      expect((await emitGraph(model, teacher)).text, model.name).toContain("bias: t1(`${owner}.attention.query.bias`)");
    }
    // Rotary positions and local attention: tables and a banded bias, no position ids; every other model has neither.
    const modern = (await emitGraph(find("modern-mini").model)).text;
    expect(modern).toContain("const localBias = rt.localAttentionBias(bias, 128);");
    expect(modern).toContain("const rotary = rt.rotaryTables(seq, 64, 160000);");
    expect(modern).toContain("const localRotary = rt.rotaryTables(seq, 64, 10000);");
    expect(modern).toContain("const local = i % 3 !== 0;");
    expect(modern.replace(/\s+/g, " ")).toContain(
      "rt.selfAttention( h, local ? localBias : bias, layer.attention, ATTENTION, random, local ? localRotary : rotary, );",
    );
    expect(modern).toContain("position: null,");
    expect(modern).toContain('norm: owner === "layers.0" ? null : { weight: t1(`${owner}.attention.norm.weight`) },');
    expect(modern).toContain('transform: { kernel: t2("heads.mlm.transform.kernel") },');
    expect(modern).not.toMatch(/positionIds/);
    for (const { model, teacher } of ALL.filter((m) => !m.model.attention)) {
      expect((await emitGraph(model, teacher)).text, model.name).not.toMatch(/rotary|localAttentionBias|"layers\.0" ?/);
    }
  });

  it("passes layer settings as named options, and weights only the terms whose weight is not 1", async () => {
    for (const { model, teacher } of ALL) {
      const { text } = await emitGraph(model, teacher);
      expect(text, model.name).not.toMatch(/rt\.tf\.mul\(\w+, 1\)/);
      if (!model.attention?.rotary) expect(text, model.name).toMatch(/rt\.positionIds\(x\.inputIds, POSITIONS, x\.documentIds\)/);
      for (const o of model.objectives.filter((o) => o.weight !== 1 && (teacher || (o.name !== "distill" && o.name !== "cosine")))) {
        expect(text, `${model.name} ${o.name}`).toContain(`rt.tf.mul(${o.name}, ${o.weight})`);
      }
    }
    const distil = ALL.find((m) => m.model.name === "distilbert-mini")!;
    expect((await emitGraph(distil.model, distil.teacher)).text).toContain("const DISTILL: rt.DistillOptions = { temperature: 2 };");
  });

  it("lists the parameter table the compiler derives, and binds a sharing group's layers to the same objects", async () => {
    for (const { model, teacher } of ALL.filter((m) => m.model.name.endsWith("-mini"))) {
      const { graph } = await loadGraph(model, teacher);
      // A generator's own tensors carry the names of its checkpoint (ElectraForMaskedLM).
      const generatorNames = model.generator ? electraPair(model).generator.naming.names : [];
      const hf = new Map([...generatorNames, ...hfNaming(model).names].map((n) => [n.name, n.hf]));
      const expected = parameterTable(model, teacher).map((p) => ({ ...p, ...(hf.has(p.name) ? { hf: hf.get(p.name) } : {}) }));
      expect(graph.parameters, model.name).toEqual(expected);
    }
    const albert = ALL.find((m) => m.model.name === "albert-mini")!.model;
    const { graph } = await loadGraph(albert);
    const lookup = (name: string) => tf.zeros(graph.parameters.find((p) => p.name === name)!.shape);
    const { layers } = graph.bindParams(lookup) as unknown as { layers: { attention: unknown; ffn: unknown }[] };
    expect(layers).toHaveLength(4);
    expect(layers.every((l) => l.attention === layers[0]!.attention && l.ffn === layers[0]!.ffn)).toBe(true);
  });

  it("grows by no more than a loop with the layer count", async () => {
    const emitted = async (source: string) => {
      const checked = checkFile(temp.file("m.bdl", source));
      expect(checked.diagnostics.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
      const model = checked.resolutions.get("m")!.model;
      return { model, lines: (await emitGraph(model)).text.split("\n").length };
    };
    const base = (layers: number, extra = "") => `model m {
  vocab 60 hidden 16 layers ${layers} heads 2 intermediate 24
  embeddings { positions 16 }
  special { pad 0 unk 1 cls 2 sep 3 mask 4 }
  train { seq 16 }
  ${extra}
}
`;
    const [small, large] = [await emitted(base(4)), await emitted(base(2000))];
    expect(large.lines).toBe(small.lines);
    // `sharing all` lists its layers in the config, a few to a line: nothing else grows.
    const [shared4, shared2000] = [await emitted(base(4, "sharing all")), await emitted(base(2000, "sharing all"))];
    expect(shared2000.lines - shared4.lines).toBeLessThan(200);
    // The 2000-layer module loads and lists every tensor; so does one with attention shared by half its layers.
    const { graph } = await loadGraph(large.model);
    expect(graph.parameters.map((p) => p.name)).toEqual(parameterTable(large.model).map((p) => p.name));
    const partial = await emitted(base(2000, "sharing { group half layers 1000..1999 share attention }"));
    expect(partial.lines - small.lines).toBeLessThan(200);
    const loaded = (await loadGraph(partial.model)).graph;
    expect(loaded.parameters.map((p) => [p.name, p.group])).toEqual(parameterTable(partial.model).map((p) => [p.name, p.group]));
    // One tensor per rank is enough to bind: the getter checks ranks, and identity is what is asserted.
    const byRank = [tf.zeros([1]), tf.zeros([1, 1])];
    const shapes = new Map(loaded.parameters.map((p) => [p.name, p.shape]));
    const { layers } = loaded.bindParams((name) => byRank[shapes.get(name)!.length - 1]) as unknown as {
      layers: { attention: unknown; ffn: unknown }[];
    };
    expect(layers[1000]!.attention).toBe(layers[1999]!.attention);
    expect(layers[0]!.attention).not.toBe(layers[1]!.attention);
    expect(layers[1000]!.ffn).not.toBe(layers[1999]!.ffn);
  });

  it("passes tsc --strict --noEmit for every reference model and mini", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bdl-emit-"));
    const files: string[] = [];
    for (const { model, teacher } of ALL) {
      const { fileName, text } = await emitGraph(model, teacher);
      writeFileSync(join(dir, fileName), text);
      files.push(join(dir, fileName));
      // A model with a generator imports the generator's module, emitted beside it.
      if (model.generator) {
        const generator = await emitGraph(generatorModel(model));
        writeFileSync(join(dir, generator.fileName), generator.text);
        files.push(join(dir, generator.fileName));
      }
      // The module's own types survive where it is used: it is a GraphModule of its Params, Inputs, Labels (and teacher's).
      const name = JSON.stringify(`./${model.name}.js`);
      const typeArguments =
        teacher && /export function teacherOutputs/.test(text)
          ? "g.Params, g.Inputs, g.Labels, g.TeacherOutputs, t.Params"
          : "g.Params, g.Inputs, g.Labels";
      const use = [
        `import type { GraphModule } from "bdl/runtime";`,
        `import * as g from ${name};`,
        ...(teacher ? [`import type * as t from ${JSON.stringify(`./${teacher.name}.js`)};`] : []),
        `export const typed: GraphModule<${typeArguments}> = g;`,
        "",
      ].join("\n");
      writeFileSync(join(dir, `${model.name}.use.ts`), use);
      files.push(join(dir, `${model.name}.use.ts`));
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
    const errors = ts.getPreEmitDiagnostics(program).map((d) =>
      ts.formatDiagnostic(d, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => dir,
        getNewLine: () => "\n",
      }),
    );
    expect(errors).toEqual([]);
  }, 120_000);
});
