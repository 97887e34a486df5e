/**
 * Compile a model's training graph and load it into this process: emit the TypeScript
 * module (and its teacher's), transpile it to JavaScript, and evaluate it. `bdlc run` and
 * the tests execute exactly the code `bdlc compile` writes.
 *
 * Nothing is written to disk: a module in a shared folder could be swapped or reached
 * through a planted link by another user before it is imported. The module is evaluated
 * as a function of its imports instead, and those are only the runtime this process has
 * loaded and, for a student, its teacher's graph (for a model with a generator, the generator's).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compileFunction } from "node:vm";
import { emitGraph, generatorModuleSpecifier, RUNTIME_MODULE, teacherModuleSpecifier } from "../compiler/emit/emit.js";
import { generatorModel } from "../model/generator.js";
import type { ResolvedModel } from "../model/model.js";
import type { AnyGraphModule } from "../runtime/graph-module.js";

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

/** The emitted module as CommonJS-style JavaScript: `require` for its imports, `exports` for its exports. */
async function transpile(text: string): Promise<string> {
  const { ts } = await import("ts-morph");
  return ts.transpileModule(text, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: false,
      verbatimModuleSyntax: false,
    },
  }).outputText;
}

/** Evaluates a transpiled graph module; `imports` are the modules it may import, by specifier. */
function evaluate(name: string, js: string, imports: Map<string, unknown>): AnyGraphModule {
  const exports: Record<string, unknown> = {};
  const require = (specifier: string): unknown => {
    if (!imports.has(specifier)) throw new Error(`internal error: the graph of '${name}' imports ${JSON.stringify(specifier)}`);
    return imports.get(specifier);
  };
  // The file name only labels stack traces; it is never opened.
  compileFunction(js, ["exports", "require"], { filename: `bdl-graph:${encodeURIComponent(name)}.js` })(exports, require);
  // What the emitted module exports is checked where it is emitted (`tsc --strict` against `GraphModule`); here it is only JavaScript.
  return exports as unknown as AnyGraphModule;
}

export interface LoadedGraphs {
  graph: AnyGraphModule;
  teacher: AnyGraphModule | null;
}

export async function loadGraph(model: ResolvedModel, teacher: ResolvedModel | null = null): Promise<LoadedGraphs> {
  const runtime: unknown = await import(runtimeUrl());
  const imports = new Map<string, unknown>([[RUNTIME_MODULE, runtime]]);
  const teacherGraph = teacher ? evaluate(teacher.name, await transpile((await emitGraph(teacher, null)).text), imports) : null;
  if (teacher && teacherGraph) imports.set(teacherModuleSpecifier(teacher.name), teacherGraph);
  if (model.generator) {
    const generator = generatorModel(model);
    imports.set(
      generatorModuleSpecifier(model),
      evaluate(generator.name, await transpile((await emitGraph(generator, null)).text), imports),
    );
  }
  const graph = evaluate(model.name, await transpile((await emitGraph(model, teacher)).text), imports);
  return { graph, teacher: teacherGraph };
}
