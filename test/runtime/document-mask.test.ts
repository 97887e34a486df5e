/**
 * Packed documents (`train { document_mask true }`): a sequence holding several documents,
 * with their document ids, encodes each document exactly as it is encoded alone — no
 * attention crosses a document boundary, and learned positions count from each document's
 * start. Checked for learned absolute positions (BERT, and RoBERTa's offset), rotary
 * positions and local layers, with padding; and the examples and batches that carry the
 * document ids.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { loadGraph } from "../../src/app/graph-loader.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { examplesOf, firstExamples, tokenizeDocuments } from "../../src/runtime/data/examples.js";
import { maskExample, describeMasked } from "../../src/runtime/data/masking.js";
import { collate } from "../../src/runtime/train/collate.js";
import { EVAL } from "../../src/runtime/layers/dropout.js";
import { tf } from "../../src/runtime/backends/tf.js";
import { randomWeights, resolvedModels, tinyModelSource } from "../helpers/reference-encoder.js";
import { tempFiles } from "../helpers/temp-files.js";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const SOURCE = `${tinyModelSource("tiny-plain")}
model tiny-packed extends tiny-plain { train { document_mask true } }
model tiny-offset extends tiny-packed { embeddings { offset 2 } }
model tiny-rotary-local extends tiny-packed { layers 3 attention { rotary 10000 window 4 global_every 2 } }
`;

const temp = tempFiles("bdl-document-mask-");
const models = (): Map<string, ResolvedModel> => resolvedModels(temp.file("tiny.bdl", SOURCE));

// Three documents packed into one row ([CLS] belongs to the first; each [SEP] to its document), and a padded second row.
const PACKED = [2, 11, 12, 13, 3, 21, 22, 3, 31, 32, 33, 34, 3];
const DOCUMENTS = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2];
const SECOND = [2, 15, 16, 3, 25, 26, 27, 3, 0, 0, 0, 0, 0];
const SECOND_DOCUMENTS = [0, 0, 0, 0, 1, 1, 1, 1, -1, -1, -1, -1, -1];

async function encoder(name: string) {
  const model = models().get(name)!;
  const { graph } = await loadGraph(model);
  const weights = randomWeights(new Map(graph.parameters.map((p) => [p.name, p.shape])), 7);
  const params = graph.bindParams((n) => weights.get(n));
  return (ids: number[][], documents?: number[][]) =>
    tf.tidy(() => {
      const x = {
        inputIds: tf.tensor2d(ids, undefined, "int32"),
        // Padding is id 0 here, and document -1 where documents are given.
        attentionMask: tf.tensor2d(
          ids.map((row, b) => row.map((id, i) => Number(documents ? documents[b]![i]! >= 0 : id !== 0))),
          undefined,
          "int32",
        ),
        ...(documents ? { documentIds: tf.tensor2d(documents, undefined, "int32") } : {}),
      };
      return graph.encode(params, x, EVAL).lastHiddenState.arraySync() as number[][][];
    });
}

function maxDifference(a: number[][], b: number[][]): number {
  return Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i]![j]!))));
}

/** The document's tokens of a packed row, and their positions there. */
function pieces(row: number[], documents: number[]): { ids: number[]; at: number[] }[] {
  const out: { ids: number[]; at: number[] }[] = [];
  documents.forEach((d, i) => {
    if (d < 0) return;
    (out[d] ??= { ids: [], at: [] }).ids.push(row[i]!);
    out[d]!.at.push(i);
  });
  return out;
}

describe("a packed sequence with document ids", () => {
  it.each(["tiny-packed", "tiny-offset", "tiny-rotary-local"])("%s: encodes each document as it is encoded alone", async (name) => {
    const encode = await encoder(name);
    const packed = encode([PACKED, SECOND], [DOCUMENTS, SECOND_DOCUMENTS]);
    const rows: [number[], number[], number][] = [
      [PACKED, DOCUMENTS, 0],
      [SECOND, SECOND_DOCUMENTS, 1],
    ];
    let compared = 0;
    for (const [row, documents, b] of rows) {
      for (const piece of pieces(row, documents)) {
        const alone = encode([piece.ids])[0]!;
        expect(
          maxDifference(
            piece.at.map((i) => packed[b]![i]!),
            alone,
          ),
        ).toBeLessThan(1e-5);
        compared++;
      }
    }
    expect(compared).toBe(5);
    // Without the ids, attention crosses the boundaries and the later documents come out otherwise.
    const crossing = encode([PACKED]);
    const second = pieces(PACKED, DOCUMENTS)[1]!;
    expect(
      maxDifference(
        second.at.map((i) => crossing[0]![i]!),
        encode([second.ids])[0]!,
      ),
    ).toBeGreaterThan(1e-2);
  });
});

describe("packed examples with a document mask", () => {
  const store = tokenizeDocuments(
    [
      { id: "a", sentences: ["a b c"] },
      { id: "b", sentences: ["d e"] },
      { id: "c", sentences: ["f g h i j k"] },
    ],
    (text) => ({ ids: text.split(" ").map((w) => 10 + w.charCodeAt(0) - 97), words: text.split(" ").map((_, i) => i) }),
    64,
  );
  const special = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 };

  it("say which document each token belongs to, the [SEP] after a document its own", () => {
    const [first, second] = firstExamples(examplesOf(store, { seq: 10, special, sentencePairs: null, seed: 0, documentMask: true }), 2);
    expect(first!.ids).toEqual([2, 10, 11, 12, 3, 13, 14, 3]);
    expect(first!.documents).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(second!.ids).toEqual([2, 15, 16, 17, 18, 19, 20, 3]);
    expect(second!.documents).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const without = firstExamples(examplesOf(store, { seq: 10, special, sentencePairs: null, seed: 0 }), 1)[0]!;
    expect(without.ids).toEqual(first!.ids);
    expect(without.documents).toBeUndefined();
  });

  it("keep their ids through masking into the batch (padding -1), and mask-preview marks the boundary", () => {
    const examples = firstExamples(examplesOf(store, { seq: 10, special, sentencePairs: null, seed: 0, documentMask: true }), 2);
    const masking = models().get("tiny-packed")!.masking;
    const masked = examples.map((e, index) => maskExample(e, masking, { seed: 0, epoch: 0, index, step: 0, vocab: 64, special }));
    expect(masked[0]!.documents).toEqual(examples[0]!.documents);
    const batch = collate(masked, 0, null, false);
    expect(batch.x.documentIds!.arraySync()).toEqual([
      [0, 0, 0, 0, 0, 1, 1, 1],
      [0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    batch.dispose();
    const short = collate(
      [masked[0]!, { ...masked[0]!, inputIds: [2, 10, 3], labels: [-100, -100, -100], tokenTypes: [0, 0, 0], documents: [0, 0, 0] }],
      0,
      null,
      false,
    );
    expect(short.x.documentIds!.arraySync()[1]).toEqual([0, 0, 0, -1, -1, -1, -1, -1]);
    short.dispose();
    const unmasked = { ...masked[0]!, inputIds: examples[0]!.ids, labels: examples[0]!.ids.map(() => -100) };
    const text = describeMasked(unmasked, (id) => `t${id}`);
    expect(text).toBe("t2 t10 t11 t12 t3 ‖ t13 t14 t3");
  });
});
