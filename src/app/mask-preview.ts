/**
 * The first training examples of a model, built as training builds them (sentence pairs for
 * NSP/SOP, else packed sentences) and masked with the model's masking, as text: one line each.
 */
import type { ResolvedModel } from "../model/model.js";
import { CorpusError, documentsOnSide, heldOutFlags, loadCorpus, sentencesOf, trainingDocuments } from "../runtime/data/corpus.js";
import { buildExamples, exampleOptionsFor, sentencePairsFor } from "../runtime/data/examples.js";
import { describeMasked, maskExample } from "../runtime/data/masking.js";
import { TokenizerFormatError, TokenizerTrainingError, trainTokenizer } from "../runtime/tokenizers/index.js";
import { loadTokenizerFor } from "./tokenizer-lookup.js";
import { InputError } from "./input-error.js";
import { inputErrorOf } from "./user-errors.js";

export interface MaskPreviewOptions {
  model: ResolvedModel;
  /** Examples to show. */
  count: number;
  corpus: string;
  /** A tokenizer.json; without it, a tokenizer of the model's kind is trained on the corpus. */
  tokenizer: string | undefined;
  seed: number;
  epoch: number;
  step: number;
}

export interface MaskPreviewHooks {
  /** A note for the user (a tokenizer being trained, fewer examples than asked for). */
  note(text: string): void;
}

export function maskPreview(o: MaskPreviewOptions, hooks: MaskPreviewHooks): string[] {
  const { model } = o;
  const maskId = model.special["mask"];
  if (maskId === undefined) throw new InputError(`model '${model.name}' declares no 'mask' special token, so it has no masking to preview`);
  try {
    return preview(o, maskId, hooks);
  } catch (e) {
    throw inputErrorOf(e, [CorpusError, TokenizerTrainingError, TokenizerFormatError]);
  }
}

function preview(o: MaskPreviewOptions, maskId: number, hooks: MaskPreviewHooks): string[] {
  const { model, count, seed, epoch, step } = o;
  const corpus = loadCorpus(o.corpus);
  const held = heldOutFlags(corpus, 0.01);
  const trainDocuments = trainingDocuments(held);
  /** The first `n` documents of the training split. */
  function* firstTrainDocuments(n: number) {
    let taken = 0;
    for (const d of documentsOnSide(corpus, held, "train")) {
      if (taken++ === n) return;
      yield d;
    }
  }
  let tokenizer;
  if (o.tokenizer !== undefined) {
    tokenizer = loadTokenizerFor(o.tokenizer, model);
  } else {
    hooks.note(
      `note: no --tokenizer given: training a ${model.tokenizer.kind} tokenizer (vocab ${model.vocab}) on the ${trainDocuments} training documents of ${corpus.name}…`,
    );
    tokenizer = trainTokenizer(model.tokenizer.kind, sentencesOf(documentsOnSide(corpus, held, "train")), {
      vocabSize: model.vocab,
      lowercase: model.tokenizer.lowercase,
      special: model.special,
    });
  }
  const pairs = sentencePairsFor(model);
  const options = exampleOptionsFor(model, pairs, seed);
  // The first documents of the training split, more of them until there are enough examples.
  let docs = Math.min(trainDocuments, Math.max(8, 2 * count));
  let examples = buildExamples(firstTrainDocuments(docs), (t) => tokenizer.encode(t), options);
  while (examples.length < count && docs < trainDocuments) {
    docs = Math.min(trainDocuments, docs * 4);
    examples = buildExamples(firstTrainDocuments(docs), (t) => tokenizer.encode(t), options);
  }
  if (examples.length === 0) throw new InputError(`corpus '${corpus.name}' yields no training examples for model '${model.name}'`);
  if (examples.length < count) hooks.note(`note: corpus '${corpus.name}' yields only ${examples.length} example(s)`);
  const labelText = (label: number): string =>
    pairs === "nsp"
      ? `nsp ${label} (${label === 1 ? "random B" : "B follows A"})`
      : `sop ${label} (${label === 1 ? "swapped" : "in order"})`;
  return examples.slice(0, count).map((ex, index) => {
    const masked = maskExample(ex, model.masking, { seed, epoch, index, step, vocab: model.vocab, special: model.special });
    const text = describeMasked(masked, (id) => tokenizer.idToToken(id), maskId);
    return masked.sentenceLabel !== undefined && pairs !== null ? `[${labelText(masked.sentenceLabel)}] ${text}` : text;
  });
}
