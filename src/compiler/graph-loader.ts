/**
 * Compile a model's training graph and load it into this process: emit the TypeScript
 * module (and its teacher's), transpile it to JavaScript, and import it. `bdlc run` and
 * the tests execute exactly the code `bdlc compile` writes.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { emitGraph, RUNTIME_MODULE } from "./emit.js";
import type { ResolvedModel } from "./model.js";
import type { GraphModule } from "../runtime/graph-module.js";

/**
 * The runtime the graph must share with this process (one TensorFlow.js engine): the
 * bundle's `runtime.js` when running from the built CLI, the TypeScript source under the
 * test runner.
 */
function runtimeUrl(): string {
  for (const candidate of ["./runtime.js", "../runtime/index.ts"]) {
    const url = new URL(candidate, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url.href;
  }
  throw new Error("cannot find the bdl runtime next to the compiler");
}

async function transpile(text: string): Promise<string> {
  const { ts } = await import("ts-morph");
  const js = ts.transpileModule(text, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  }).outputText;
  return js
    .replaceAll(`"${RUNTIME_MODULE}"`, JSON.stringify(runtimeUrl()))
    .replace(/from "\.\/([^"]+)\.js"/g, (_, name: string) => `from "./${name}.mjs"`);
}

/** Writes `<name>.mjs` into `dir` atomically. */
function writeModule(dir: string, name: string, js: string): void {
  const path = join(dir, `${name}.mjs`);
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, js);
  renameSync(temp, path);
}

export interface LoadedGraphs {
  graph: GraphModule;
  teacher: GraphModule | null;
}

export async function loadGraph(model: ResolvedModel, teacher: ResolvedModel | null = null): Promise<LoadedGraphs> {
  const student = await transpile((await emitGraph(model, teacher)).text);
  const teacherJs = teacher ? await transpile((await emitGraph(teacher, null)).text) : null;
  // Content-addressed folder: the same model always loads the same module.
  const hash = createHash("sha256").update(student).update(teacherJs ?? "").digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "bdl-graphs", hash);
  mkdirSync(dir, { recursive: true });
  if (teacher && teacherJs) writeModule(dir, teacher.name, teacherJs);
  writeModule(dir, model.name, student);
  const graph = (await import(pathToFileURL(join(dir, `${model.name}.mjs`)).href)) as GraphModule;
  const teacherGraph = teacher ? ((await import(pathToFileURL(join(dir, `${teacher.name}.mjs`)).href)) as GraphModule) : null;
  return { graph, teacher: teacherGraph };
}
