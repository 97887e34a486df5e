/**
 * A checkpoint evaluated on the held-out split of its corpus, as training does: the same 1% of
 * documents, packed into sequences of the model's train seq, masked with the model's masking at
 * its starting rate, the masks drawn from the checkpoint's seed.
 */
import { loadGraph } from "./graph-loader.js";
import { loadValidCheckpoint } from "./checkpoint.js";
import { CheckpointError } from "../runtime/checkpoint/checkpoint.js";
import { CorpusError, documentsOnSide, heldOutFlags, loadCorpus } from "../runtime/data/corpus.js";
import { exampleOptionsFor, examplesOf, firstExamples, tokenizeDocuments } from "../runtime/data/examples.js";
import { TokenizerFormatError } from "../runtime/tokenizers/index.js";
import { evalBatchSize, evaluateMlm, type MlmEvaluation } from "../runtime/train/evaluate.js";
import { predictsMaskedTokens } from "../runtime/graph-module.js";
import { startBackend } from "./backend.js";
import { InputError } from "./input-error.js";
import { findTokenizer, loadTokenizerFor } from "./tokenizer-lookup.js";
import { inputErrorOf } from "./user-errors.js";

export interface EvalOptions {
  /** A checkpoint folder, or a run folder meaning its latest checkpoint. */
  checkpoint: string;
  /** The corpus (default: the one the checkpoint was trained on, else wordnet). */
  corpus: string | undefined;
  /** The tokenizer.json (default: the run folder's). */
  tokenizer: string | undefined;
  /** Evaluate at most this many held-out sequences. */
  maxExamples: number;
  backend: string | undefined;
}

export interface EvalHooks {
  /** Called when the evaluation loop begins, with what it evaluates. */
  onStepLoop(examples: number, corpus: string): void;
  /** Polled between batches: true to stop without a result. */
  shouldStop(): boolean;
}

export interface EvalResult {
  /** The checkpoint folder read. */
  checkpoint: string;
  model: string;
  step: number | null;
  corpus: string;
  seed: number;
  examples: number;
  /** Null when `shouldStop` ended the evaluation early. */
  metrics: MlmEvaluation | null;
}

export async function evalCheckpoint(o: EvalOptions, hooks: EvalHooks): Promise<EvalResult> {
  try {
    return await evaluate(o, hooks);
  } catch (e) {
    throw inputErrorOf(e, [CheckpointError, CorpusError, TokenizerFormatError]);
  }
}

async function evaluate(o: EvalOptions, hooks: EvalHooks): Promise<EvalResult> {
  const loaded = loadValidCheckpoint(o.checkpoint);
  await startBackend(o.backend);
  const model = loaded.model;
  const tokenizerPath = findTokenizer(o.checkpoint, loaded.dir, o.tokenizer);
  const recorded = typeof loaded.meta["corpus"] === "string" ? (loaded.meta["corpus"] as string) : undefined;
  const corpusSpec = o.corpus ?? recorded ?? "wordnet";
  let corpus;
  try {
    corpus = loadCorpus(corpusSpec);
  } catch (e) {
    if (e instanceof CorpusError && o.corpus === undefined) {
      throw new InputError(`${e.message} (the checkpoint was trained on corpus '${corpusSpec}'; give another with --corpus PATH)`);
    }
    throw e;
  }
  const tokenizer = loadTokenizerFor(tokenizerPath, model, { ofCheckpoint: true });
  const { graph } = await loadGraph(model, null);
  if (!predictsMaskedTokens(graph)) throw new InputError(`model '${model.name}' has no MLM head to evaluate`);
  const seed = typeof loaded.meta["seed"] === "number" ? (loaded.meta["seed"] as number) : 0;
  const heldOut = documentsOnSide(corpus, heldOutFlags(corpus, 0.01), "heldOut");
  const options = exampleOptionsFor(model, null, seed);
  const examples = firstExamples(
    examplesOf(
      tokenizeDocuments(heldOut, (t) => tokenizer.encode(t), model.vocab),
      options,
    ),
    o.maxExamples,
  );
  if (examples.length === 0) throw new InputError(`corpus '${corpus.name}' has no held-out sequences to evaluate on`);
  const { tf } = await import("../runtime/backends/tf.js");
  const tensors = new Map([...loaded.weights].map(([n, w]) => [n, tf.tensor(w.values, w.shape)]));
  let metrics;
  hooks.onStepLoop(examples.length, corpus.name);
  try {
    metrics = await evaluateMlm(
      graph,
      graph.bindParams((n) => tensors.get(n)),
      examples,
      model.masking,
      {
        seed,
        batch: evalBatchSize(model.train.seq),
        padId: model.special["pad"] ?? 0,
        withSegments: model.embeddings.segments > 0,
        shouldStop: hooks.shouldStop,
      },
    );
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return {
    checkpoint: loaded.dir,
    model: model.name,
    step: loaded.meta.step ?? null,
    corpus: corpus.name,
    seed,
    examples: examples.length,
    metrics,
  };
}
