/**
 * Parity with Hugging Face transformers: the compiled graph of each golden's tiny model,
 * run on the golden's weights and inputs, reproduces its outputs, losses and gradient
 * norms (goldens: test/fixtures/goldens/README.md). This is the test that matters most
 * for the runtime: it runs the code `bdlc compile` emits.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFile } from "../../src/compiler/semantics/check.js";
import { loadGraph } from "../../src/app/graph-loader.js";
import { readSafetensors } from "../../src/runtime/checkpoint/safetensors.js";
import { weightsFromHf, weightsFromHfPair } from "../../src/runtime/checkpoint/hf-weights.js";
import { runOnce, type RunInputs } from "../../src/runtime/run.js";
import { useBackend, type BackendName } from "../../src/runtime/backends/backend.js";
import { nativeCounters, nativeLimits } from "../../src/runtime/backends/native/limits.js";
import { loadOnnxRuntime } from "../../src/runtime/backends/native/onnxruntime.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { registerWebgpu } from "../../src/runtime/backends/webgpu.js";
import { expectGradNormClose, LOSS_REL, maxAbsDiff, OUTPUT_ABS, relative, type Nested } from "../helpers/parity.js";

const GOLDENS = "test/fixtures/goldens";
const defaultLimits = { ...nativeLimits };

async function compiled(bdl: string, name: string) {
  const checked = checkFile(bdl);
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const model = checked.resolutions.get(name)!.model;
  const teacherModel = model.teacher ? checked.resolutions.get(model.teacher.model)!.model : null;
  const loaded = await loadGraph(model, teacherModel);
  return {
    model,
    teacherModel,
    graph: loaded.graph,
    teacherGraph: loaded.teacher,
  };
}

function json(path: string) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Every backend that can run here: `native` where onnxruntime-node is installed, `webgpu` where Dawn finds an adapter. */
const webgpuHere = await registerWebgpu().then(
  () => true,
  () => false,
);
const BACKENDS_HERE: BackendName[] = [
  "cpu",
  "wasm",
  ...(loadOnnxRuntime() ? (["native"] as const) : []),
  ...(webgpuHere ? (["webgpu"] as const) : []),
];

describe.each(BACKENDS_HERE)("on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    // Tiny models: route every product and reduction through the native kernels.
    Object.assign(nativeLimits, { minProductMacs: 1, minElements: 1 });
  });

  afterAll(async () => {
    Object.assign(nativeLimits, defaultLimits);
    await tf.setBackend("cpu");
  });

  describe.each([
    ["bert", "tiny-bert", "nsp_logits"],
    ["albert", "tiny-albert", "sop_logits"],
  ])("%s golden", (folder, name, sentenceLogits) => {
    let out: Record<string, unknown>;
    let golden: Record<string, any>;

    beforeAll(async () => {
      const { model, graph } = await compiled(`${GOLDENS}/${folder}.bdl`, name);
      const weights = weightsFromHf(readSafetensors(`${GOLDENS}/${folder}/model.safetensors`), model, folder);
      golden = json(`${GOLDENS}/${folder}/outputs.json`);
      out = runOnce({ graph, weights }, json(`${GOLDENS}/${folder}/inputs.json`) as RunInputs);
    });

    it.each(["last_hidden_state", "pooler_output", "mlm_logits", sentenceLogits])("%s matches to OUTPUT_ABS", (key) => {
      expect(maxAbsDiff(out[key] as Nested, golden[key])).toBeLessThan(OUTPUT_ABS);
    });

    it("every hidden_states entry matches to OUTPUT_ABS", () => {
      const ours = out["hidden_states"] as Nested[];
      expect(ours.length).toBe(golden["hidden_states"].length);
      ours.forEach((h, i) => expect(maxAbsDiff(h, golden["hidden_states"][i]), `hidden_states[${i}]`).toBeLessThan(OUTPUT_ABS));
    });

    it("loss and each loss term match to LOSS_REL relative", () => {
      expect(relative(out["loss"] as number, golden["loss"])).toBeLessThan(LOSS_REL);
      const terms = out["loss_terms"] as Record<string, number>;
      expect(Object.keys(terms).sort()).toEqual(Object.keys(golden["loss_terms"]).sort());
      for (const [k, v] of Object.entries(golden["loss_terms"] as Record<string, number>))
        expect(relative(terms[k]!, v), k).toBeLessThan(LOSS_REL);
    });

    it("every gradient norm matches to GRAD_NORM_REL relative, keyed by Hugging Face names", () => {
      const ours = out["grad_norms"] as Record<string, number>;
      expect(Object.keys(ours).sort()).toEqual(Object.keys(golden["grad_norms"]).sort());
      for (const [k, v] of Object.entries(golden["grad_norms"] as Record<string, number>)) expectGradNormClose(ours[k]!, v, k);
    });
  });

  describe("modernbert golden (ModernBertForMaskedLM, transformers 5.17)", () => {
    let out: Record<string, unknown>;
    let golden: Record<string, any>;

    beforeAll(async () => {
      const { model, graph } = await compiled(`${GOLDENS}/modernbert.bdl`, "tiny-modernbert");
      const weights = weightsFromHf(readSafetensors(`${GOLDENS}/modernbert/model.safetensors`), model, "modernbert");
      golden = json(`${GOLDENS}/modernbert/outputs.json`);
      out = runOnce({ graph, weights }, json(`${GOLDENS}/modernbert/inputs.json`) as RunInputs);
    });

    it.each(["last_hidden_state", "mlm_logits"])("%s matches to OUTPUT_ABS", (key) => {
      expect(maxAbsDiff(out[key] as Nested, golden[key])).toBeLessThan(OUTPUT_ABS);
    });

    it("every hidden_states entry matches to OUTPUT_ABS (the last one after final_norm, as transformers 5 records it)", () => {
      const ours = out["hidden_states"] as Nested[];
      expect(ours.length).toBe(golden["hidden_states"].length);
      ours.forEach((h, i) => expect(maxAbsDiff(h, golden["hidden_states"][i]), `hidden_states[${i}]`).toBeLessThan(OUTPUT_ABS));
    });

    it("the MLM loss matches to LOSS_REL relative", () => {
      expect(relative(out["loss"] as number, golden["loss"])).toBeLessThan(LOSS_REL);
      expect(relative((out["loss_terms"] as Record<string, number>)["mlm"]!, golden["loss_terms"]["mlm"])).toBeLessThan(LOSS_REL);
    });

    it("every gradient norm matches to GRAD_NORM_REL relative, the fused attn.Wqkv's over its three parts", () => {
      const ours = out["grad_norms"] as Record<string, number>;
      expect(Object.keys(ours).sort()).toEqual(Object.keys(golden["grad_norms"]).sort());
      for (const [k, v] of Object.entries(golden["grad_norms"] as Record<string, number>)) expectGradNormClose(ours[k]!, v, k);
    });
  });

  describe("electra golden (ElectraForMaskedLM generator + ElectraForPreTraining discriminator, transformers 5.17)", () => {
    let out: Record<string, unknown>;
    let golden: Record<string, any>;

    beforeAll(async () => {
      const { model, graph } = await compiled(`${GOLDENS}/electra.bdl`, "tiny-electra");
      const side = (name: string) => ({ file: readSafetensors(`${GOLDENS}/electra/${name}/model.safetensors`), label: name });
      const weights = weightsFromHfPair(side("discriminator"), side("generator"), model);
      golden = json(`${GOLDENS}/electra/outputs.json`);
      out = runOnce({ graph, weights }, json(`${GOLDENS}/electra/inputs.json`) as RunInputs);
    });

    it.each(["generator_logits", "discriminator_logits", "discriminator_last_hidden_state"])("%s matches to OUTPUT_ABS", (key) => {
      expect(maxAbsDiff(out[key] as Nested, golden[key])).toBeLessThan(OUTPUT_ABS);
    });

    it.each(["generator_hidden_states", "discriminator_hidden_states"])("every %s entry matches to OUTPUT_ABS", (key) => {
      const ours = out[key] as Nested[];
      expect(ours.length).toBe(golden[key].length);
      ours.forEach((h, i) => expect(maxAbsDiff(h, golden[key][i]), `${key}[${i}]`).toBeLessThan(OUTPUT_ABS));
    });

    it("the discriminator reads the given samples in place, as the golden's discriminator_input_ids", () => {
      expect(out["discriminator_input_ids"]).toEqual(json(`${GOLDENS}/electra/inputs.json`)["discriminator_input_ids"]);
    });

    it("matches term by term: mlm, rtd, and mlm + 50 × rtd", () => {
      const terms = out["loss_terms"] as Record<string, number>;
      for (const [k, v] of Object.entries(golden["loss_terms"] as Record<string, number>))
        expect(relative(terms[k]!, v), k).toBeLessThan(LOSS_REL);
      expect(relative(out["loss"] as number, golden["loss"])).toBeLessThan(LOSS_REL);
    });

    it.each(["generator_grad_norms", "discriminator_grad_norms"])(
      "every %s entry matches to GRAD_NORM_REL relative, the shared embeddings' with both models' gradients",
      (key) => {
        const ours = out[key] as Record<string, number>;
        expect(Object.keys(ours).sort()).toEqual(Object.keys(golden[key]).sort());
        for (const [k, v] of Object.entries(golden[key] as Record<string, number>)) expectGradNormClose(ours[k]!, v, k);
      },
    );
  });

  describe("distill golden (BertForMaskedLM teacher → DistilBertForMaskedLM student)", () => {
    let out: Record<string, unknown>;
    let golden: Record<string, any>;

    beforeAll(async () => {
      const { model, teacherModel, graph, teacherGraph } = await compiled(`${GOLDENS}/distill.bdl`, "tiny-student");
      const studentWeights = weightsFromHf(readSafetensors(`${GOLDENS}/distill/student/model.safetensors`), model, "student");
      const teacherWeights = weightsFromHf(readSafetensors(`${GOLDENS}/distill/teacher/model.safetensors`), teacherModel!, "teacher");
      golden = json(`${GOLDENS}/distill/outputs.json`);
      out = runOnce({ graph, weights: studentWeights }, json(`${GOLDENS}/distill/inputs.json`) as RunInputs, {
        graph: teacherGraph!,
        weights: teacherWeights,
      });
    });

    it("student logits and last hidden state match to OUTPUT_ABS", () => {
      expect(maxAbsDiff(out["mlm_logits"] as Nested, golden["student_logits"])).toBeLessThan(OUTPUT_ABS);
      expect(maxAbsDiff(out["last_hidden_state"] as Nested, golden["student_last_hidden_state"])).toBeLessThan(OUTPUT_ABS);
    });

    it("matches term by term: distill, mlm, cosine, and the weighted loss", () => {
      const terms = out["loss_terms"] as Record<string, number>;
      for (const [k, v] of Object.entries(golden["loss_terms"] as Record<string, number>))
        expect(relative(terms[k]!, v), k).toBeLessThan(LOSS_REL);
      expect(relative(out["loss"] as number, golden["loss"])).toBeLessThan(LOSS_REL);
    });

    it("every student gradient norm matches to GRAD_NORM_REL relative", () => {
      const ours = out["grad_norms"] as Record<string, number>;
      expect(Object.keys(ours).sort()).toEqual(Object.keys(golden["student_grad_norms"]).sort());
      for (const [k, v] of Object.entries(golden["student_grad_norms"] as Record<string, number>)) expectGradNormClose(ours[k]!, v, k);
    });
  });

  // Defined last, so it runs after the goldens above.
  if (backend === "native") {
    it("ran the goldens' products and reductions in onnxruntime", () => {
      expect(nativeCounters.calls).toBeGreaterThan(100);
    });
  }
});
