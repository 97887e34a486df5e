/**
 * One forward pass on explicit inputs — and, where labels are given, the loss and one
 * backward pass — for `bdlc run`: debugging, and checking against other implementations.
 * Inputs and outputs use Hugging Face's names; gradient norms are keyed by Hugging Face
 * parameter names.
 */
import { hfGradNorms } from "../model/hf/grad-norms.js";
import type { WeightMap } from "./checkpoint/hf-weights.js";
import {
  maskedTokenPredictor,
  type AnyGraphModule,
  type BoundParams,
  type GraphInputs,
  type GraphLabels,
  type GraphTeacherOutputs,
} from "./graph-module.js";
import { EVAL } from "./layers/dropout.js";
import { flattenPositions } from "./layers/heads.js";
import { givenSamples, replaceTokens } from "./objectives/replaced-tokens.js";
import { tf, type Tensor } from "./backends/tf.js";

export interface RunInputs {
  input_ids: number[][];
  attention_mask?: number[][];
  token_type_ids?: number[][];
  labels?: number[][];
  next_sentence_label?: number[];
  sentence_order_label?: number[];
  teacher_input_ids?: number[][];
  /** Packed documents: each token's document index (-1 for padding); attention and positions stay within a document. */
  document_ids?: number[][];
  /** ELECTRA: the generator's sample at each labelled position (-1 elsewhere), replayed instead of drawn. */
  generator_samples?: number[][];
}

/** The optional [batch][sequence] fields, each the shape of `input_ids`. */
const MATRICES = ["attention_mask", "token_type_ids", "labels", "teacher_input_ids", "generator_samples", "document_ids"] as const;

export class RunInputError extends Error {}

export interface Model {
  graph: AnyGraphModule;
  weights: WeightMap;
}

/** Checks the shapes of a `bdlc run` inputs file, naming the field that is wrong. */
export function checkRunInputs(x: unknown, label: string): RunInputs {
  if (typeof x !== "object" || x === null || Array.isArray(x)) throw new RunInputError(`${label}: expected a JSON object`);
  const o = x as Record<string, unknown>;
  const matrix = (key: string, required: boolean): void => {
    const v = o[key];
    if (v === undefined && !required) return;
    if (
      !Array.isArray(v) ||
      v.length === 0 ||
      !v.every((r) => Array.isArray(r) && r.length === (v[0] as unknown[]).length && r.every(Number.isInteger))
    ) {
      throw new RunInputError(`${label}: '${key}' must be a non-empty [batch][sequence] array of integers`);
    }
  };
  matrix("input_ids", true);
  for (const key of MATRICES) matrix(key, false);
  const ids = o["input_ids"] as number[][];
  for (const key of MATRICES) {
    const m = o[key] as number[][] | undefined;
    if (m && (m.length !== ids.length || m[0]!.length !== ids[0]!.length)) {
      throw new RunInputError(`${label}: '${key}' is ${m.length}×${m[0]!.length} but input_ids is ${ids.length}×${ids[0]!.length}`);
    }
  }
  for (const key of ["next_sentence_label", "sentence_order_label"]) {
    const v = o[key];
    if (v !== undefined && (!Array.isArray(v) || v.length !== ids.length || !v.every(Number.isInteger))) {
      throw new RunInputError(`${label}: '${key}' must be an array of ${ids.length} integers`);
    }
  }
  if (o["generator_samples"] !== undefined && o["labels"] === undefined) {
    throw new RunInputError(`${label}: 'generator_samples' needs 'labels', the positions they replace`);
  }
  return o as unknown as RunInputs;
}

/** Every input id is a row of the word embeddings. */
export function checkVocab(inputs: RunInputs, vocab: number): void {
  const vocabOk = inputs.input_ids.every((row) => row.every((id) => id >= 0 && id < vocab));
  if (!vocabOk) throw new RunInputError(`input_ids must lie in 0..${vocab - 1} (the model's vocab)`);
}

function toArray(t: Tensor): unknown {
  return t.arraySync();
}

export function runOnce(student: Model, inputs: RunInputs, teacher: Model | null = null): Record<string, unknown> {
  const { graph, weights } = student;
  const config = graph.config;
  checkVocab(inputs, config.vocab);
  const variables = new Map<string, tf.Variable>();
  const out: Record<string, unknown> = {};
  try {
    for (const [name, w] of weights) variables.set(name, tf.variable(tf.tensor(w.values, w.shape), true));
    const params = graph.bindParams((name) => variables.get(name));
    const x: GraphInputs = {
      inputIds: tf.tensor2d(inputs.input_ids, undefined, "int32"),
      attentionMask: tf.tensor2d(inputs.attention_mask ?? inputs.input_ids.map((r) => r.map(() => 1)), undefined, "int32"),
      ...(inputs.token_type_ids ? { tokenTypeIds: tf.tensor2d(inputs.token_type_ids, undefined, "int32") } : {}),
      ...(inputs.document_ids ? { documentIds: tf.tensor2d(inputs.document_ids, undefined, "int32") } : {}),
    };
    tf.tidy(() => {
      if (graph.generatorGraph) {
        Object.assign(out, electraOutputs(graph, params, x, inputs));
        return;
      }
      const encoded = graph.encode(params, x, EVAL);
      out["last_hidden_state"] = toArray(encoded.lastHiddenState);
      out["hidden_states"] = encoded.hiddenStates.map(toArray);
      if (encoded.poolerOutput) out["pooler_output"] = toArray(encoded.poolerOutput);
      const [batch, seq] = x.inputIds.shape;
      if (graph.mlmLogits) {
        const logits = graph.mlmLogits(params, flattenPositions(encoded.lastHiddenState));
        out["mlm_logits"] = toArray(tf.reshape(logits, [batch, seq, config.vocab]));
      }
      if (graph.nspLogits && encoded.poolerOutput) out["nsp_logits"] = toArray(graph.nspLogits(params, encoded.poolerOutput));
      if (graph.sopLogits && encoded.poolerOutput) out["sop_logits"] = toArray(graph.sopLogits(params, encoded.poolerOutput));
    });
    const labels = labelsOf(inputs);
    if (labels) Object.assign(out, lossAndGradients(student, variables, x, labels, inputs, teacher));
  } finally {
    for (const v of variables.values()) v.dispose();
  }
  return out;
}

/**
 * ELECTRA's outputs, under the names of its two Hugging Face models: the generator's on the
 * masked input, the discriminator's on the input with the generator's given samples in
 * place (on the input itself where no samples are given).
 */
function electraOutputs(graph: AnyGraphModule, params: BoundParams, x: GraphInputs, inputs: RunInputs): Record<string, unknown> {
  const { graph: generator, params: generatorParams } = maskedTokenPredictor(graph, params)!;
  const [batch, seq] = x.inputIds.shape;
  const out: Record<string, unknown> = {};
  const generated = generator.encode(generatorParams, x, EVAL);
  out["generator_last_hidden_state"] = toArray(generated.lastHiddenState);
  out["generator_hidden_states"] = generated.hiddenStates.map(toArray);
  const logits = generator.mlmLogits!(generatorParams, flattenPositions(generated.lastHiddenState));
  out["generator_logits"] = toArray(tf.reshape(logits, [batch, seq, graph.config.vocab]));
  let discriminatorIds = x.inputIds;
  if (inputs.generator_samples && inputs.labels) {
    const labels = tf.tensor2d(inputs.labels, undefined, "int32");
    const samples = givenSamples(tf.tensor2d(inputs.generator_samples, undefined, "int32"), labels);
    discriminatorIds = replaceTokens(x.inputIds, labels, samples).inputIds;
    out["discriminator_input_ids"] = toArray(discriminatorIds);
  }
  const encoded = graph.encode(params, { ...x, inputIds: discriminatorIds }, EVAL);
  out["discriminator_last_hidden_state"] = toArray(encoded.lastHiddenState);
  out["discriminator_hidden_states"] = encoded.hiddenStates.map(toArray);
  out["discriminator_logits"] = toArray(graph.rtdLogits!(params, encoded.lastHiddenState));
  return out;
}

function labelsOf(inputs: RunInputs): GraphLabels | null {
  const labels: GraphLabels = {};
  if (inputs.labels) labels.labels = tf.tensor2d(inputs.labels, undefined, "int32");
  if (inputs.generator_samples) labels.generatorSamples = tf.tensor2d(inputs.generator_samples, undefined, "int32");
  if (inputs.next_sentence_label) labels.nextSentenceLabel = tf.tensor1d(inputs.next_sentence_label, "int32");
  if (inputs.sentence_order_label) labels.sentenceOrderLabel = tf.tensor1d(inputs.sentence_order_label, "int32");
  return Object.keys(labels).length > 0 ? labels : null;
}

function lossAndGradients(
  student: Model,
  variables: Map<string, tf.Variable>,
  x: GraphInputs,
  y: GraphLabels,
  inputs: RunInputs,
  teacher: Model | null,
): Record<string, unknown> {
  const { graph } = student;
  const teacherVars = new Map<string, Tensor>();
  try {
    let teacherOut: GraphTeacherOutputs | undefined;
    if (graph.teacherOutputs) {
      if (!teacher) throw new RunInputError(`model '${graph.config.name}' learns from a teacher: give its weights with --teacher-weights`);
      for (const [name, w] of teacher.weights) teacherVars.set(name, tf.tensor(w.values, w.shape));
      const tp = teacher.graph.bindParams((name) => teacherVars.get(name));
      const tx = inputs.teacher_input_ids ? { ...x, inputIds: tf.tensor2d(inputs.teacher_input_ids, undefined, "int32") } : x;
      teacherOut = graph.teacherOutputs(tp, tx);
    }
    const params = graph.bindParams((name) => variables.get(name));
    const terms: Record<string, number> = {};
    const list = [...variables.values()];
    const { value, grads } = tf.variableGrads(() => {
      const r = graph.loss(params, x, y, EVAL, teacherOut);
      for (const [k, v] of Object.entries(r.terms)) terms[k] = v.dataSync()[0]!;
      return r.loss;
    }, list);
    const byVariable = new Map(list.map((v) => [v.name, v]));
    const names = new Map([...variables].map(([n, v]) => [v, n]));
    const squared = new Map<string, number>();
    for (const [varName, g] of Object.entries(grads)) {
      squared.set(
        names.get(byVariable.get(varName)!)!,
        tf.tidy(() => tf.sum(tf.square(g)).dataSync()[0]!),
      );
      g.dispose();
    }
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { loss, loss_terms: terms, ...hfGradNorms(graph.config, squared) };
  } finally {
    for (const t of teacherVars.values()) t.dispose();
  }
}
