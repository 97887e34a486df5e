/** Parser tests as one-line tables: a model body in, the members' shape out. */
import { generateCstDts } from "chevrotain";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Member, Value } from "../../../src/compiler/syntax/ast.js";
import { parseSource } from "../../../src/compiler/syntax/parse.js";
import { parser } from "../../../src/compiler/syntax/parser.js";

function parseBody(body: string) {
  const { ast, diagnostics } = parseSource({ path: "t.bdl", text: `model m {\n${body}\n}\n` });
  const model = ast.items[0];
  if (!model || model.kind !== "Model") throw new Error("no model parsed");
  return { members: model.members.map(show), errors: diagnostics.map((d) => `${d.code} ${d.message}`) };
}

/** A compact rendering of a member, so each table row fits on a line. */
function show(m: Member): string {
  switch (m.kind) {
    case "Setting":
      return `${m.key.text}=${value(m.value)}`;
    case "Record":
      return `${m.name.text}{${m.settings.map(show).join(",")}}`;
    case "Sharing":
      return m.mode
        ? `sharing=${m.mode.text}`
        : `sharing{${m.groups.map((g) => `${g.name.text}:${value(g.layers)}:${g.share.map((s) => s.text).join("+")}`).join(",")}}`;
    case "Objectives":
      return `objectives{${m.objectives.map((o) => (o.off ? `${o.name.text}:off` : `${o.name.text}(${o.options.map(show).join(",")})`)).join(",")}}`;
    case "Teacher":
      return `teacher=${m.model.text}${m.checkpoint ? `@${m.checkpoint.value}` : ""}{${m.inits.map((i) => (i.layers ? `layers:${value(i.layers)}` : i.target.text)).join(",")}}`;
    case "Expect":
      return `expect ${m.key.text}=${value(m.value)}`;
    case "Tokenizer":
      return `tokenizer=${m.tokenizer.text}${m.lowercase ? "+lowercase" : ""}`;
  }
}

function value(v: Value): string {
  switch (v.kind) {
    case "Number":
      return String(v.value);
    case "Quantity":
      return `${v.value}*${v.scale}/${v.decimals}`;
    case "String":
      return JSON.stringify(v.value);
    case "Range":
      return `${v.from.value}..${v.to.value}`;
    case "List":
      return `[${v.items.map((i) => i.value).join(",")}]`;
    case "Ramp":
      return `${v.from.value}->${v.to.value}/${value(v.over)}`;
    case "Word":
      return v.argument ? `${v.name.text}(${v.argument.value})` : v.name.text;
  }
}

describe("parser", () => {
  it.each([
    ["vocab 30522", ["vocab=30522"]],
    ["norm_eps 1e-12 dropout 0", ["norm_eps=1e-12", "dropout=0"]],
    ["activation gelu_new pooler none", ["activation=gelu_new", "pooler=none"]],
    ["layers 6", ["layers=6"]],
    ["steps 1.5M", ["steps=1.5*1000000/1"]],
    ["embeddings { factorize 128 }", ["embeddings{factorize=128}"]],
    ["embeddings {}", ["embeddings{}"]],
    ["masking { mask 0.8 random 0.1 keep 0.1 }", ["masking{mask=0.8,random=0.1,keep=0.1}"]],
    ["masking { unit ngram 3 schedule static duplicates 10 }", ["masking{unit=ngram(3),schedule=static,duplicates=10}"]],
    ["masking { rate 0.15 -> 0.40 over 100000 }", ["masking{rate=0.15->0.4/100000}"]],
    ["masking { rate 0.15 -> 0.40 over 100K }", ["masking{rate=0.15->0.4/100*1000/0}"]],
    ["sharing all", ["sharing=all"]],
    ["sharing none", ["sharing=none"]],
    ["sharing { group a layers 0..5 share attention ffn group b layers [6, 8] share ffn }", ["sharing{a:0..5:attention+ffn,b:[6,8]:ffn}"]],
    ["sharing { group solo layers 3 share attention }", ["sharing{solo:3:attention}"]],
    ["objectives { nsp off  sop weight 1.0 }", ["objectives{nsp:off,sop(weight=1)}"]],
    ["objectives { mlm distill weight 5 temperature 2 cosine }", ["objectives{mlm(),distill(weight=5,temperature=2),cosine()}"]],
    ['teacher bert from "ckpt/x" { init layers [0, 2] init embeddings }', ["teacher=bert@ckpt/x{layers:[0,2],embeddings}"]],
    ["teacher bert-mini", ["teacher=bert-mini{}"]],
    ["teacher bert { init layers 0..5 }", ["teacher=bert{layers:0..5}"]],
    ["expect params 19M expect encoder_params 66.4M", ["expect params=19*1000000/0", "expect encoder_params=66.4*1000000/1"]],
    ["expect params 110106428", ["expect params=110106428"]],
    ["tokenizer wordpiece lowercase special { pad 0 }", ["tokenizer=wordpiece+lowercase", "special{pad=0}"]],
    ["tokenizer bpe vocab 50265", ["tokenizer=bpe", "vocab=50265"]],
    ['train { optimizer adamw lr 5e-4 beta1 0.9 } name "x"', ["train{optimizer=adamw,lr=0.0005,beta1=0.9}", 'name="x"']],
    ["hiden 768 // a typo is a setting with an unknown key, caught by the checker", ["hiden=768"]],
  ])("%s", (body, expected) => {
    const { members, errors } = parseBody(body);
    expect(errors).toEqual([]);
    expect(members).toEqual(expected);
  });

  it.each([
    ["vocab", "BDL005 'vocab' needs a value on the same line."],
    ["embeddings { factorize }", "BDL005 'factorize' needs a value on the same line."],
    ["vocab ]", "BDL005 'vocab' needs a value on the same line."],
    ["vocab =", 'BDL001 Unexpected character "=".'],
    ["embeddings {\n factorize\n}", "BDL005 'factorize' needs a value on the same line."],
    ["sharing { group a layers 0..5 }", "BDL003 Expected 'share' but found '}'."],
    ["vocab 3 ]", "BDL003 Expected '}' but found ']'."],
  ])("reports %s", (body, message) => {
    expect(parseBody(body).errors).toContain(message);
  });

  it("parses models named by keywords and hyphenated names", () => {
    const { ast, diagnostics } = parseSource({ path: "t.bdl", text: "model train extends bert-mini { }\nmodel a-b-c { }" });
    expect(diagnostics).toEqual([]);
    expect(ast.items.map((i) => (i.kind === "Model" ? `${i.name.text}<${i.base?.text ?? ""}` : ""))).toEqual(["train<bert-mini", "a-b-c<"]);
  });

  it("keeps comments with their positions", () => {
    const { ast } = parseSource({ path: "t.bdl", text: "// head\nmodel m { // open\n  vocab 1 // trailing\n}\n" });
    expect(ast.comments.map((c) => c.text)).toEqual(["// head", "// open", "// trailing"]);
  });

  it("recovers: one parse reports an error on each broken line and keeps the good members", () => {
    const { members, errors } = parseBody("vocab\nhidden 768\nlayers [\nheads 12\nembeddings { positions }\nintermediate 3072");
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(members).toContain("hidden=768");
    expect(members).toContain("heads=12");
    expect(members).toContain("intermediate=3072");
  });
});

describe("generated CST types", () => {
  it("src/compiler/syntax/cst.d.ts matches the parser (regenerate: npm run build && node scripts/gen-cst-types.mjs)", () => {
    const expected =
      "// Generated by scripts/gen-cst-types.mjs from src/compiler/syntax/parser.ts. Do not edit.\n" +
      generateCstDts(parser.getGAstProductions());
    expect(readFileSync("src/compiler/syntax/cst.d.ts", "utf8")).toBe(expected);
  });
});
