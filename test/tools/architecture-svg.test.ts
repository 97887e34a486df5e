import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderGraphSvg, type GraphOptions } from "../../src/tools/architecture-svg.js";
import type { ResolvedModel } from "../../src/model/model.js";
import { countParams, formatCount } from "../../src/model/counts.js";
import { albertBase, bertBase, distilbertBase, robertaBase } from "../helpers/resolved-fixtures.js";

/** ALBERT-style with two groups, as in the spec's `grouped` example. */
function grouped(): ResolvedModel {
  return {
    ...albertBase(),
    name: "grouped",
    sharing: [
      { name: "a", layers: [0, 1, 2, 3, 4, 5], share: ["attention", "ffn"] },
      { name: "b", layers: [6, 7, 8, 9, 10, 11], share: ["attention", "ffn"] },
    ],
  };
}

/** BERT whose first six layers share only their attention sublayer. */
function attentionShared(): ResolvedModel {
  return {
    ...bertBase(),
    name: "attshare",
    bases: ["bert"],
    sharing: [{ name: "att", layers: [0, 1, 2, 3, 4, 5], share: ["attention"] }],
  };
}

/** A group whose layers are not next to each other, and a pooler no pretraining head reads. */
function scattered(): ResolvedModel {
  return {
    ...robertaBase(),
    name: "scattered",
    pooler: "tanh",
    objectives: [
      { name: "mlm", weight: 1 },
      { name: "cosine", weight: 1 },
    ],
    teacher: { model: "bert", checkpoint: null, initLayers: null, initEmbeddings: false },
    sharing: [{ name: "odd", layers: [1, 3, 5], share: ["attention", "ffn"] }],
  };
}

function deep(): ResolvedModel {
  return { ...bertBase(), name: "deep", layers: 48, hidden: 1024, heads: 16, intermediate: 4096 };
}

/** A student whose teacher is wider, so `cosine` needs a projection. */
function wideTeacher(): ResolvedModel {
  return { ...bertBase(), name: "bert-large", layers: 24, hidden: 1024, heads: 16, intermediate: 4096 };
}

/**
 * Minimal XML well-formedness check (node has no DOM): every tag is closed in order, text
 * and attribute values hold no raw `<` and only known entities after `&`.
 */
function checkWellFormed(xml: string): void {
  const stack: string[] = [];
  let i = 0;
  const checkText = (text: string): void => {
    for (let k = 0; k < text.length; k++) {
      if (text[k] === "<") throw new Error(`raw '<' in text near ${k}`);
      if (text[k] === "&") {
        const end = text.indexOf(";", k);
        const entity = text.slice(k, end + 1);
        if (!["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].includes(entity)) throw new Error(`bad entity ${entity}`);
      }
    }
  };
  while (i < xml.length) {
    const open = xml.indexOf("<", i);
    if (open < 0) {
      checkText(xml.slice(i));
      break;
    }
    checkText(xml.slice(i, open));
    // A tag ends at the first '>' outside a quoted attribute value.
    let j = open + 1;
    let quote: string | null = null;
    while (j < xml.length && (quote !== null || xml[j] !== ">")) {
      const ch = xml[j]!;
      if (quote !== null) {
        if (ch === quote) quote = null;
        else if (ch === "<") throw new Error(`raw '<' in attribute near ${j}`);
      } else if (ch === '"' || ch === "'") {
        quote = ch;
      }
      j++;
    }
    if (j >= xml.length) throw new Error("unterminated tag");
    const body = xml.slice(open + 1, j);
    if (body.startsWith("/")) {
      const name = body.slice(1).trim();
      const top = stack.pop();
      if (top !== name) throw new Error(`</${name}> closes <${top}>`);
    } else if (!body.endsWith("/")) {
      stack.push(body.split(/\s/)[0]!);
    }
    i = j + 1;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join(", ")}>`);
}

/** All text content of the SVG, entities decoded, in document order. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&"),
  );
}

/** Text lines joined by spaces, so a phrase wrapped over two lines still matches. */
function allText(svg: string): string {
  return texts(svg).join(" ");
}

const bertParams: GraphOptions["params"] = {
  encoder: 109482240,
  total: 110106428,
  breakdown: {
    embeddings: 23837184,
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`layer.${i}`, 7087872])),
    pooler: 590592,
    "head.mlm": 623930,
    "head.nsp": 1538,
  },
};

describe("renderGraphSvg", () => {
  it("writes a standalone, well-formed SVG", () => {
    const svg = renderGraphSvg(bertBase());
    checkWellFormed(svg);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toMatch(/ width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain("system-ui");
    expect(svg).not.toMatch(/href|@import|url\((?!#)/);
    for (const size of svg.matchAll(/font-size="(\d+)"/g)) expect(Number(size[1])).toBeGreaterThanOrEqual(11);
  });

  it("draws bert: 12 layers, pooler, NSP, tied MLM decoder", () => {
    const text = allText(renderGraphSvg(bertBase()));
    for (let i = 0; i < 12; i++) expect(text).toContain(`layer ${i}`);
    expect(text).toContain("Encoder · 12 layers");
    expect(text).toContain("12 heads × 64 · hidden 768");
    expect(text).toContain("768 → 3072 → 768 · gelu");
    expect(text).toContain("Pooler");
    expect(text).toContain("NSP head");
    expect(text).toContain("MLM head");
    expect(text).toContain("decoder tied to word embeddings");
    expect(text).toContain("30,522 × 768");
    expect(text).toContain("segment");
    expect(text).not.toContain("shared");
  });

  it("says where the LayerNorms sit: after each residual sum, or before each sublayer and once at the end", () => {
    expect(allText(renderGraphSvg(bertBase()))).toContain("each: self-attention → feed-forward, residual + LayerNorm");
    const pre = allText(renderGraphSvg({ ...bertBase(), norm_position: "pre" }));
    expect(pre).toContain("each: x + attention(LN(x)) → x + FFN(LN(x)); final LayerNorm");
  });

  it("names span masking's length distribution in the masking summary", () => {
    const span: ResolvedModel = { ...bertBase(), masking: { ...bertBase().masking, unit: { kind: "span", p: 0.2, max: 10 } } };
    expect(allText(renderGraphSvg(span))).toContain("of word spans (Geo 0.2, ≤ 10)");
    expect(allText(renderGraphSvg(bertBase()))).not.toContain("word spans");
  });

  it("draws a gated feed-forward as one, twice as wide before the gate", () => {
    expect(allText(renderGraphSvg(bertBase()))).not.toContain("Gated");
    const glu = allText(renderGraphSvg({ ...bertBase(), feed_forward: "gated", activation: "silu" }));
    expect(glu).toContain("Gated feed-forward");
    expect(glu).toContain("768 → 2×3072 → 768 · silu GLU");
  });

  it("draws rotary positions and the local/global pattern in attention, and layer 0 without its attention LayerNorm", () => {
    const bert = allText(renderGraphSvg(bertBase()));
    expect(bert).not.toMatch(/RoPE|rotary|local ±/);
    const modern = allText(
      renderGraphSvg({
        ...bertBase(),
        norm_position: "pre",
        first_attention_norm: false,
        attention: { rotary: 160000, window: 128, global_every: 3, local_rotary: 10000 },
      }),
    );
    expect(modern).toContain("RoPE θ 160000 / local 10000 · local ±64, global every 3");
    expect(modern).toContain("no position table");
    expect(modern).toContain("rotary, in attention");
    expect(modern).toContain("final LayerNorm; layer 0 without attention LN");
  });

  it("draws ELECTRA's generator beside the encoder, its samples feeding the discriminator, and the rtd head", () => {
    const electra: ResolvedModel = {
      ...bertBase(),
      pooler: "none",
      generator: { hidden: 256, layers: 12, heads: 4, intermediate: 1024 },
      objectives: [
        { name: "mlm", weight: 1 },
        { name: "rtd", weight: 50 },
      ],
    };
    const svg = renderGraphSvg(electra, { params: countParams(electra) });
    checkWellFormed(svg);
    const text = allText(svg);
    expect(text).toContain("GENERATOR");
    expect(text).toContain("12 layers · hidden 256 · 4 heads · FFN 1024");
    expect(text).toContain("projection E 768 → 256 (its own)");
    expect(text).toContain("MLM head: dense 256 → 768");
    expect(text).toContain("replace the masked tokens");
    expect(text).toContain("Replaced-token detection");
    expect(text).toContain("pretraining loss = 1 × mlm + 50 × rtd");
    expect(text).toContain("generator (its own tensors)");
    // The MLM head is the generator's: the encoder has none of its own, and BERT has no generator.
    expect(text).not.toContain("MLM head dense 768");
    expect(allText(renderGraphSvg(bertBase()))).toContain("MLM head dense 768");
    expect(allText(renderGraphSvg(bertBase()))).not.toContain("GENERATOR");
  });

  it("shows parameter counts when given", () => {
    const text = allText(renderGraphSvg(bertBase(), { params: bertParams }));
    expect(text).toContain("110,106,428 parameters · encoder 109,482,240");
    expect(text).toContain("layers 0–11 (7,087,872 each)");
    expect(text).toContain("85,054,464");
    expect(text).toContain("NSP head");
    expect(text).toContain("1,538");
  });

  it("draws albert's `sharing all` as one block used ×12, and the factorized embeddings", () => {
    const svg = renderGraphSvg(albertBase());
    checkWellFormed(svg);
    const text = allText(svg);
    expect(text).toContain("×12");
    expect(text).toContain("ONE set of weights, applied 12 times in a row (×12)");
    expect(text).toContain("layers 0–11");
    expect(text).toContain("group all");
    expect(text).toContain("shares attention + ffn");
    // One attention cell, not twelve.
    expect(texts(svg).filter((t) => t === "Self-attention")).toHaveLength(1);
    expect(text).toContain("E = 128 (factorized, < H = 768)");
    expect(text).toContain("Projection E → H");
    expect(text).toContain("dense 128 → 768");
    expect(text).toContain("SOP head");
    expect(text).not.toContain("NSP head");
  });

  it("draws distilbert's teacher with the layers it initialises from", () => {
    const model = distilbertBase();
    model.teacher = { ...model.teacher!, checkpoint: "checkpoints/bert-base" };
    const svg = renderGraphSvg(model, { teacher: bertBase() });
    checkWellFormed(svg);
    const text = allText(svg);
    expect(text).toContain("TEACHER");
    expect(text).toContain("from checkpoints/bert-base");
    expect(text).toContain("12 layers · hidden 768 · 12 heads");
    expect(text).toContain("init layers");
    expect(text).toContain("[0, 2, 4, 7, 9, 11]");
    expect(text).toContain("init embeddings");
    expect(text).toContain("T7 → student layer 3");
    expect(text).toContain("← teacher 7");
    expect(text).toContain("Distillation");
    expect(text).toContain("temperature T = 2 · weight 5");
    expect(text).toContain("Cosine");
    expect(text).toContain("no segment embeddings");
    expect(text).not.toContain("Pooler");
    expect(text).not.toContain("projection 768");
  });

  it("notes the cosine projection when the teacher is wider", () => {
    const text = allText(renderGraphSvg(distilbertBase(), { teacher: wideTeacher() }));
    expect(text).toContain("projection 768 → 1024 (learned)");
  });

  it("draws a teacher it could not resolve from the link alone", () => {
    const text = allText(renderGraphSvg(distilbertBase()));
    expect(text).toContain("TEACHER");
    expect(text).toContain("no checkpoint given");
    expect(text).toContain("[0, 2, 4, 7, 9, 11]");
  });

  it("draws two sharing groups as two blocks", () => {
    const svg = renderGraphSvg(grouped());
    checkWellFormed(svg);
    const text = allText(svg);
    expect(text).toContain("group a");
    expect(text).toContain("group b");
    expect(text).toContain("layers 0–5");
    expect(text).toContain("layers 6–11");
    expect(texts(svg).filter((t) => t === "×6")).toHaveLength(2);
    expect(texts(svg).filter((t) => t === "Self-attention")).toHaveLength(2);
  });

  it("joins only the attention halves of a group that shares attention", () => {
    const svg = renderGraphSvg(attentionShared());
    checkWellFormed(svg);
    const text = allText(svg);
    expect(text).toContain("shared: group att, one set of weights for layers 0–5");
    expect(text).toContain("shares attention");
    // Six unshared attention cells (layers 6–11) + one joined cell; twelve FFN cells.
    expect(texts(svg).filter((t) => t === "Self-attention")).toHaveLength(7);
    expect(texts(svg).filter((t) => t === "Feed-forward")).toHaveLength(12);
    expect(text).not.toContain("ONE set of weights");
  });

  it("collapses the middle of a deep unshared stack", () => {
    const text = allText(renderGraphSvg(deep()));
    expect(text).toContain("… 44 more layers (2–45), each like the layers shown …");
    for (const i of [0, 1, 46, 47]) expect(text).toContain(`layer ${i}`);
    expect(text).not.toContain("layer 20");
  });

  it("colours scattered shared layers one by one and places an unread pooler aside", () => {
    const svg = renderGraphSvg(scattered());
    checkWellFormed(svg);
    const text = allText(svg);
    expect(texts(svg).filter((t) => t === "shared: group odd")).toHaveLength(6);
    expect(text).toContain("layers 1, 3, 5");
    expect(text).toContain("(for fine-tuning)");
    expect(text).toContain("teacher outputs");
    expect(text).not.toContain("init layers");
  });

  it("draws a model with no objectives", () => {
    const svg = renderGraphSvg({ ...bertBase(), objectives: [] });
    checkWellFormed(svg);
    expect(allText(svg)).not.toContain("MLM head");
  });

  it("draws roberta's position offset and missing pooler", () => {
    const text = allText(renderGraphSvg(robertaBase()));
    expect(text).toContain("(512 + 2) × 768");
    expect(text).toContain("extends bert");
    expect(text).not.toContain("Pooler");
  });

  it("escapes text", () => {
    const model = { ...bertBase(), name: `a<b>&"c'`, file: "x&y.bdl" };
    const svg = renderGraphSvg(model);
    checkWellFormed(svg);
    expect(texts(svg)).toContain(`a<b>&"c'`);
    expect(svg).not.toContain("a<b>");
  });

  it("is deterministic", () => {
    for (const make of [bertBase, albertBase, distilbertBase, grouped, attentionShared, deep, scattered]) {
      expect(renderGraphSvg(make(), { teacher: bertBase(), params: bertParams })).toBe(
        renderGraphSvg(make(), { teacher: bertBase(), params: bertParams }),
      );
    }
  });

  // Pictures to look at: GRAPH_OUT=/tmp npx vitest run test/compiler/graph.test.ts
  // (by default they go to a fresh temporary folder and are only checked to be well-formed).
  it("draws every layout with the real parameter counts", async () => {
    const { countParams } = await import("../../src/model/counts.js");
    const dir = process.env["GRAPH_OUT"] ?? mkdtempSync(join(tmpdir(), "bdl-graph-"));
    const bert = bertBase();
    const distil = distilbertBase();
    distil.teacher = { ...distil.teacher!, checkpoint: "checkpoints/bert-base" };
    const cases: Array<[string, ResolvedModel, ResolvedModel | null]> = [
      ["bert", bert, null],
      ["roberta", robertaBase(), null],
      ["albert", albertBase(), null],
      ["distilbert", distil, bert],
      ["grouped", grouped(), null],
      ["attshare", attentionShared(), null],
      ["deep", deep(), null],
      ["distil-wide", distilbertBase(), wideTeacher()],
      ["scattered", scattered(), bert],
    ];
    for (const [name, model, teacher] of cases) {
      const svg = renderGraphSvg(model, { teacher, params: countParams(model, teacher) });
      writeFileSync(`${dir}/graph-${name}.svg`, svg);
      expect(svg).toContain(formatCount(countParams(model, teacher).total));
    }
  });
});
