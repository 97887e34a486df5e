/** Teacher links: `init layers` copies exactly the named teacher layers; a narrower student gets a projection. */
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import { initialWeights } from "../../src/runtime/init.js";
import { parameterTable } from "../../src/model/parameters.js";
import { initFromTeacher } from "../../src/runtime/teacher-init.js";
import { runOnce } from "../../src/runtime/run.js";
import { tf } from "../../src/runtime/backends/tf.js";

const SOURCE = `
model teacher12 {
  vocab 50 hidden 16 layers 12 heads 2 intermediate 32
  embeddings { positions 32 }
  objectives { mlm }
  pooler none
  train { seq 32 }
}

model student6 extends teacher12 {
  layers 6
  embeddings { segments 0 positions 16 }
  train { seq 16 }
  objectives { distill weight 5 temperature 2 cosine weight 1 }
  teacher teacher12 {
    init layers [0, 2, 4, 7, 9, 11]
    init embeddings
  }
}

model narrow extends teacher12 {
  hidden 8
  layers 2
  objectives { cosine weight 1 }
  teacher teacher12
}
`;

function resolved() {
  const dir = mkdtempSync(join(tmpdir(), "bdl-teacher-"));
  writeFileSync(join(dir, "t.bdl"), SOURCE);
  const checked = checkFile(join(dir, "t.bdl"));
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const get = (n: string) => checked.resolutions.get(n)!.model;
  return { teacher: get("teacher12"), student: get("student6"), narrow: get("narrow") };
}

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("teacher links", () => {
  it("between bias-free models copies the tensors both have; a switch that differs is an error naming the bias", () => {
    const { teacher, student } = resolved();
    const bare = { attention_bias: false, norm_bias: false } as const;
    const [bareTeacher, bareStudent] = [
      { ...teacher, ...bare },
      { ...student, ...bare },
    ];
    const teacherWeights = initialWeights(parameterTable(bareTeacher), 1, 0);
    const own = initialWeights(parameterTable(bareStudent, bareTeacher), 2, 0);
    const started = initFromTeacher(bareStudent, own, bareTeacher, teacherWeights);
    expect(started.has("layers.0.attention.query.bias")).toBe(false);
    expect(Array.from(started.get("layers.1.attention.query.kernel")!.values)).toEqual(
      Array.from(teacherWeights.get("layers.2.attention.query.kernel")!.values),
    );
    // The biases the student keeps are there (their values are zeros in both models, so only presence tells).
    expect(started.has("layers.1.ffn.output.bias")).toBe(true);
    const fullOwn = initialWeights(parameterTable(student, bareTeacher), 2, 0);
    expect(() => initFromTeacher(student, fullOwn, bareTeacher, teacherWeights)).toThrow(/cannot copy teacher '.*\.bias'.*no such tensor/);
  });

  it("init layers [0, 2, 4, 7, 9, 11] copies exactly those teacher layers, and init embeddings the embeddings", () => {
    const { teacher, student } = resolved();
    const teacherWeights = initialWeights(parameterTable(teacher), 1, 0);
    const own = initialWeights(parameterTable(student, teacher), 2, 0);
    const started = initFromTeacher(student, own, teacher, teacherWeights);
    const list = [0, 2, 4, 7, 9, 11];
    for (const [name, w] of started) {
      const layer = /^layers\.(\d+)\.(.*)$/.exec(name);
      if (layer) {
        const from = teacherWeights.get(`layers.${list[Number(layer[1])]}.${layer[2]}`)!;
        expect(Array.from(w.values), name).toEqual(Array.from(from.values));
        // …and not any other teacher layer.
        const source = list[Number(layer[1])]!;
        const other = teacherWeights.get(`layers.${source === 11 ? 10 : source + 1}.${layer[2]}`)!;
        if (name.endsWith("kernel")) expect(Array.from(w.values)).not.toEqual(Array.from(other.values));
      } else if (name === "embeddings.position") {
        // The student has 16 positions, its teacher 32: the first 16 rows are copied.
        expect(Array.from(w.values)).toEqual(Array.from(teacherWeights.get(name)!.values.subarray(0, 16 * 16)));
      } else if (name.startsWith("embeddings.")) {
        expect(Array.from(w.values), name).toEqual(Array.from(teacherWeights.get(name)!.values));
      } else {
        // Heads keep the student's own initial values.
        expect(Array.from(w.values), name).toEqual(Array.from(own.get(name)!.values));
      }
    }
  });

  it("a student whose hidden differs from its teacher's gets a learned projection for cosine", async () => {
    const { teacher, narrow } = resolved();
    const table = parameterTable(narrow, teacher);
    expect(table.find((p) => p.name === "heads.cosine.projection.kernel")?.shape).toEqual([8, 16]);
    expect(parameterTable(narrow).find((p) => p.name.startsWith("heads.cosine"))).toBeUndefined();

    const { graph, teacher: teacherGraph } = await loadGraph(narrow, teacher);
    const inputs = { input_ids: [[2, 7, 9, 3]], attention_mask: [[1, 1, 1, 1]], labels: [[-100, 7, -100, -100]] };
    const out = runOnce({ graph, weights: initialWeights(table, 3, 0) }, inputs, {
      graph: teacherGraph!,
      weights: initialWeights(parameterTable(teacher), 4, 0),
    });
    const norms = out["grad_norms"] as Record<string, number>;
    expect(Object.keys(norms).some((k) => k.includes("cosine"))).toBe(true);
    expect((out["loss_terms"] as Record<string, number>)["cosine"]).toBeGreaterThan(0);
  });
});
