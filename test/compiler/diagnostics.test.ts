/**
 * Every diagnostic the checker can produce, one small input each, with the exact place it
 * must point at (`file:line:col` and the text of its span: the smallest meaningful thing,
 * such as the misspelt key, never the whole line) and a piece of its message. A test at the
 * end makes sure every code of the catalog has a row here.
 *
 * Inputs live in memory (see `memoryHost`); `import "bert.bdl"` falls back to the reference
 * models of models/, as it does for a real file.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { checkProgram } from "../../src/compiler/semantics/check.js";
import { main } from "../../src/cli/cli.js";
import { Diag, type Diagnostic } from "../../src/compiler/diagnostics.js";
import { BUILTIN_MODELS_DIR, loadProgram, nodeHost, ParseCache, type CompilerHost } from "../../src/compiler/semantics/program.js";
import { lineCol } from "../../src/compiler/source.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MAIN = "mem/main.bdl";
/** Where diagnostics about the reference BERT model are reported, as `bdlc check` would show it. */
const BERT = path.relative(process.cwd(), path.join(BUILTIN_MODELS_DIR, "bert.bdl"));

/** Files in memory; the reference models of models/ (and only they) come from disk. */
function memoryHost(files: Record<string, string>): CompilerHost {
  const memory = new Map(Object.entries(files).map(([p, text]) => [path.resolve(p), text]));
  const builtin = (p: string) => path.resolve(p).startsWith(BUILTIN_MODELS_DIR);
  return {
    readFile(p) {
      const text = memory.get(path.resolve(p));
      if (text !== undefined) return text;
      if (builtin(p)) return nodeHost.readFile(p);
      throw Object.assign(new Error(`ENOENT: no such file '${p}'`), { code: "ENOENT" });
    },
    fileExists(p) {
      return memory.has(path.resolve(p)) || (builtin(p) && nodeHost.fileExists(p));
    },
  };
}

function check(files: Record<string, string>, entry = MAIN): Diagnostic[] {
  return checkProgram(loadProgram(entry, new ParseCache(memoryHost(files)))).diagnostics;
}

const lines = (...ls: string[]) => ls.join("\n") + "\n";

interface Where {
  code: string;
  file: string;
  line: number;
  column: number;
  span: string;
  message: string;
}

function where(d: Diagnostic): Where {
  const { line, column } = lineCol(d.span.source, d.span.start);
  return {
    code: d.code,
    file: d.span.source.path,
    line,
    column,
    span: d.span.source.text.slice(d.span.start, d.span.end),
    message: d.message,
  };
}

function show(ds: readonly Diagnostic[]): string {
  return ds
    .map((d) => {
      const w = where(d);
      return `${w.file}:${w.line}:${w.column} ${w.code} [${w.span}] ${w.message}`;
    })
    .join("\n");
}

interface Case {
  /** What the row is about. */
  what: string;
  code: string;
  /** The entry file's text (MAIN), or several files (entry first). */
  text: string | Record<string, string>;
  line: number;
  column: number;
  /** The exact text the span covers. */
  span: string;
  /** A substring of the message. */
  message: string;
  /** The file the diagnostic is in; MAIN by default. */
  file?: string;
  /** Other codes this input may also produce; any other error fails the row. */
  also?: string[];
}

// A complete small model body, for rows that need no base model.
const SMALL = "vocab 100 hidden 64 layers 2 heads 4 intermediate 128 objectives { mlm weight 1 }";

const CASES: Case[] = [
  // --- lexing and parsing --------------------------------------------------------------
  {
    what: "unexpected character",
    code: "BDL001",
    text: lines('import "bert.bdl"', "model x extends bert {", "  heads 12 #", "}"),
    line: 3,
    column: 12,
    span: "#",
    message: 'Unexpected character "#".',
  },
  {
    what: "unterminated string",
    code: "BDL002",
    text: lines('import "bert.bdl"', "model x extends bert {", '  teacher bert from "checkpoints/bert', "}"),
    line: 3,
    column: 21,
    span: '"checkpoints/bert',
    message: "Unterminated string",
  },
  {
    what: "syntax error: a missing closing brace",
    code: "BDL003",
    text: lines('import "bert.bdl"', "model x extends bert {", "  sharing { group a layers 0..1 }", "}"),
    line: 3,
    column: 33,
    span: "}",
    message: "Expected 'share' but found '}'.",
  },
  {
    what: "syntax error: two values for one key",
    code: "BDL003",
    text: lines('import "bert.bdl"', "model x extends bert {", "  heads 12 12", "}"),
    line: 3,
    column: 12,
    span: "12",
    message: "Expected '}' but found '12'.",
  },
  {
    what: "syntax error: end of file inside a model",
    code: "BDL003",
    text: 'import "bert.bdl"\nmodel x extends bert {\n  heads 12\n',
    line: 3,
    column: 11,
    span: "",
    message: "Expected '}' but found end of file.",
  },
  {
    what: "key without a value",
    code: "BDL005",
    text: lines('import "bert.bdl"', "model x extends bert {", "  heads", "  hidden 768", "}"),
    line: 3,
    column: 3,
    span: "heads",
    message: "'heads' needs a value on the same line.",
  },
  {
    what: "too many errors: parsing stops after a hundred",
    code: "BDL006",
    text: lines("model x {", ...Array.from({ length: 150 }, () => "  heads 12 12"), "}"),
    line: 101,
    column: 12,
    span: "12",
    message: "Too many errors: parsing stopped after 100 syntax errors.",
    also: ["BDL003"],
  },

  // --- files, imports and names --------------------------------------------------------
  {
    what: "unreadable import",
    code: "BDL010",
    text: lines('import "nowhere.bdl"', `model x { ${SMALL} }`),
    line: 1,
    column: 8,
    span: '"nowhere.bdl"',
    message: "Cannot read 'mem/nowhere.bdl': no such file.",
  },
  {
    what: "import cycle",
    code: "BDL011",
    text: {
      [MAIN]: lines('import "b.bdl"', `model a { ${SMALL} }`),
      "mem/b.bdl": lines('import "main.bdl"', "model b extends a {}"),
    },
    file: "mem/b.bdl",
    line: 1,
    column: 8,
    span: '"main.bdl"',
    message: "Import cycle: mem/main.bdl -> mem/b.bdl -> mem/main.bdl.",
  },
  {
    what: "duplicate model in one file",
    code: "BDL012",
    text: lines(`model a { ${SMALL} }`, `model a { ${SMALL} }`),
    line: 2,
    column: 7,
    span: "a",
    message: "Model 'a' is declared more than once (also in mem/main.bdl).",
  },
  {
    what: "duplicate model across files",
    code: "BDL012",
    text: {
      [MAIN]: lines('import "other.bdl"', `model a { ${SMALL} }`),
      "mem/other.bdl": lines(`model a { ${SMALL} }`),
    },
    file: "mem/other.bdl",
    line: 1,
    column: 7,
    span: "a",
    message: "Model 'a' is declared more than once (also in mem/main.bdl).",
  },
  {
    what: "unknown base model, with did-you-mean",
    code: "BDL013",
    text: lines('import "bert.bdl"', "model x extends bret {", "  layers 6", "}"),
    line: 2,
    column: 17,
    span: "bret",
    message: "Unknown model 'bret'. Did you mean 'bert'?",
  },
  {
    what: "extends cycle",
    code: "BDL014",
    text: lines("model a extends b {}", "model b extends a {}"),
    line: 1,
    column: 17,
    span: "b",
    message: "Extends cycle: b -> a -> b.",
  },

  // --- properties and values -----------------------------------------------------------
  {
    what: "unknown model-level key, with did-you-mean",
    code: "BDL020",
    text: lines('import "bert.bdl"', "model x extends bert {", "  hiden 768", "}"),
    line: 3,
    column: 3,
    span: "hiden",
    message: "Unknown property 'hiden' in model 'x'. Did you mean 'hidden'?",
  },
  {
    what: "unknown key inside a block, with did-you-mean",
    code: "BDL020",
    text: lines('import "bert.bdl"', "model x extends bert {", "  embeddings { positons 512 }", "}"),
    line: 3,
    column: 16,
    span: "positons",
    message: "Unknown property 'positons' in 'embeddings'. Did you mean 'positions'?",
  },
  {
    what: "unknown key in train, with did-you-mean",
    code: "BDL020",
    text: lines('import "bert.bdl"', "model x extends bert {", "  train {", "    warmpu 100", "  }", "}"),
    line: 4,
    column: 5,
    span: "warmpu",
    message: "Did you mean 'warmup'?",
  },
  {
    what: "unknown teacher init",
    code: "BDL020",
    text: lines('import "bert.bdl"', "model x extends bert {", "  teacher bert { init embedings }", "}"),
    line: 3,
    column: 23,
    span: "embedings",
    message: "Did you mean 'embeddings'?",
  },
  {
    what: "unknown block",
    code: "BDL021",
    text: lines('import "bert.bdl"', "model x extends bert {", "  embedding { positions 512 }", "}"),
    line: 3,
    column: 3,
    span: "embedding",
    message: "Unknown block 'embedding'. Did you mean 'embeddings'?",
  },
  {
    what: "wrong value type: a string for a count",
    code: "BDL022",
    text: lines('import "bert.bdl"', "model x extends bert {", '  vocab "big"', "}"),
    line: 3,
    column: 9,
    span: '"big"',
    message: "'vocab' expects an integer from 1 to 10,000,000, not a string.",
  },
  {
    what: "wrong value type: a value for a block",
    code: "BDL022",
    text: lines('import "bert.bdl"', "model x extends bert {", "  embeddings 3", "}"),
    line: 3,
    column: 14,
    span: "3",
    message: "'embeddings' expects a block",
  },
  {
    what: "wrong value type: a block for a value",
    code: "BDL022",
    text: lines('import "bert.bdl"', "model x extends bert {", "  hidden { size 3 }", "}"),
    line: 3,
    column: 3,
    span: "hidden",
    message: "'hidden' expects a value, not a block.",
  },
  {
    what: "unknown enum value, with did-you-mean",
    code: "BDL023",
    text: lines('import "bert.bdl"', "model x extends bert {", "  activation gleu", "}"),
    line: 3,
    column: 14,
    span: "gleu",
    message: "'gleu' is not a valid activation. Did you mean 'gelu'?",
  },
  {
    what: "misspelt masking unit, with did-you-mean",
    code: "BDL023",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { unit spam }", "}"),
    line: 3,
    column: 18,
    span: "spam",
    message: "'spam' is not a valid masking unit. Did you mean 'span'? Expected one of: token, word, ngram, span.",
  },
  {
    what: "unknown norm position",
    code: "BDL023",
    text: lines('import "bert.bdl"', "model x extends bert {", "  norm_position middle", "}"),
    line: 3,
    column: 17,
    span: "middle",
    message: "'middle' is not a valid norm position. Expected one of: post, pre.",
  },
  {
    what: "unknown tokenizer, with did-you-mean",
    code: "BDL023",
    text: lines('import "bert.bdl"', "model x extends bert {", "  tokenizer wordpeice lowercase", "}"),
    line: 3,
    column: 13,
    span: "wordpeice",
    message: "Did you mean 'wordpiece'?",
  },
  {
    what: "unknown optimizer in a block",
    code: "BDL023",
    text: lines('import "bert.bdl"', "model x extends bert {", "  train { optimizer sgd }", "}"),
    line: 3,
    column: 21,
    span: "sgd",
    message: "'sgd' is not a valid optimizer. Expected one of: adamw, lamb, adam.",
  },
  {
    what: "a key set twice (warning)",
    code: "BDL024",
    text: lines('import "bert.bdl"', "model x extends bert {", "  layers 6", "  layers 8", "}"),
    line: 4,
    column: 3,
    span: "layers",
    message: "'layers' is set twice in the same block",
  },
  {
    what: "value out of range",
    code: "BDL025",
    text: lines('import "bert.bdl"', "model x extends bert {", "  dropout 1.5", "}"),
    line: 3,
    column: 11,
    span: "1.5",
    message: "'dropout' must be a number ≥ 0 and < 1, not 1.5.",
  },
  {
    what: "zero layers",
    code: "BDL025",
    text: lines('import "bert.bdl"', "model x extends bert {", "  layers 0", "}"),
    line: 3,
    column: 10,
    span: "0",
    message: "'layers' must be an integer from 1 to 10,000, not 0.",
  },
  {
    what: "ngram 0",
    code: "BDL025",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { unit ngram 0 }", "}"),
    line: 3,
    column: 18,
    span: "ngram 0",
    message: "must be an integer ≥ 1, not 0.",
  },
  {
    what: "span p 0",
    code: "BDL025",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { unit span p 0 }", "}"),
    line: 3,
    column: 25,
    span: "0",
    message: "'masking.p' must be a number > 0 and ≤ 1, not 0.",
  },
  {
    what: "span p above 1",
    code: "BDL025",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { unit span p 1.5 }", "}"),
    line: 3,
    column: 25,
    span: "1.5",
    message: "'masking.p' must be a number > 0 and ≤ 1, not 1.5.",
  },
  {
    what: "span max 0",
    code: "BDL025",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { unit span max 0 }", "}"),
    line: 3,
    column: 27,
    span: "0",
    message: "'masking.max' must be an integer ≥ 1, not 0.",
  },
  {
    what: "a descending layer range",
    code: "BDL025",
    text: lines('import "bert.bdl"', "model x extends bert {", "  sharing { group a layers 5..2 share ffn }", "}"),
    line: 3,
    column: 28,
    span: "5..2",
    message: "an ascending range",
  },
  {
    what: "missing required property",
    code: "BDL026",
    text: lines("model lonely {", "  vocab 100 hidden 64 layers 2 heads 4", "  objectives { mlm weight 1 }", "}"),
    line: 1,
    column: 7,
    span: "lonely",
    message: "Model 'lonely' does not set 'intermediate', nor does any model it extends.",
  },

  // --- architecture --------------------------------------------------------------------
  {
    what: "heads not dividing hidden",
    code: "BDL030",
    text: lines('import "bert.bdl"', "model x extends bert {", "  heads 7", "}"),
    line: 3,
    column: 3,
    span: "heads 7",
    message: "'heads' (7) must divide 'hidden' (768).",
  },
  {
    what: "factorize not below hidden",
    code: "BDL031",
    text: lines('import "bert.bdl"', "model x extends bert {", "  embeddings { factorize 768 }", "}"),
    line: 3,
    column: 16,
    span: "factorize 768",
    message: "'factorize' (768) must be smaller than 'hidden' (768).",
  },
  {
    what: "first_attention_norm false in a post-LN model",
    code: "BDL032",
    text: lines('import "bert.bdl"', "model x extends bert {", "  first_attention_norm false", "}"),
    line: 3,
    column: 3,
    span: "first_attention_norm false",
    message: "'first_attention_norm false' needs 'norm_position pre': in a post-LN layer that LayerNorm normalises the layer's output.",
  },
  {
    what: "first_attention_norm false where layer 0 shares its attention",
    code: "BDL033",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  norm_position pre",
      "  first_attention_norm false",
      "  sharing { group a layers 0..2 share attention }",
      "}",
    ),
    line: 4,
    column: 3,
    span: "first_attention_norm false",
    message:
      "'first_attention_norm false' removes layer 0's attention LayerNorm, but sharing group 'a' shares that attention with layers 1, 2, which need it.",
  },
  {
    what: "local_rotary without rotary",
    code: "BDL034",
    text: lines('import "bert.bdl"', "model x extends bert {", "  attention { window 128 global_every 3 local_rotary 10000 }", "}"),
    line: 3,
    column: 41,
    span: "local_rotary 10000",
    message: "'local_rotary' is the RoPE base of local layers, but the model has no rotary positions ('attention { rotary THETA }').",
  },
  {
    what: "a window wider than the positions",
    code: "BDL036",
    text: lines('import "bert.bdl"', "model x extends bert {", "  attention { window 1024 global_every 3 }", "}"),
    line: 3,
    column: 15,
    span: "window 1024",
    message:
      "'window' (1024) is wider than the model's 512 positions, so local layers would see every key; give a smaller window or leave it out.",
  },
  {
    what: "rotary positions with an odd head width",
    code: "BDL035",
    text: lines('import "bert.bdl"', "model x extends bert {", "  heads 256", "  attention { rotary 10000 }", "}"),
    line: 4,
    column: 15,
    span: "rotary 10000",
    message: "Rotary positions rotate pairs of a head's features, so its width (hidden / heads = 3) must be even.",
  },

  // --- sharing -------------------------------------------------------------------------
  {
    what: "sharing group naming a layer ≥ layers",
    code: "BDL040",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  sharing {",
      "    group a layers 0..5 share attention ffn",
      "    group b layers 6..12 share attention ffn",
      "  }",
      "}",
    ),
    line: 5,
    column: 20,
    span: "6..12",
    message: "Sharing group 'b' names layer 12, but the model has 12 layers (0..11).",
  },
  {
    what: "two groups claiming one layer",
    code: "BDL041",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  sharing {",
      "    group a layers 0..5 share attention ffn",
      "    group b layers [5, 6, 7] share ffn",
      "  }",
      "}",
    ),
    line: 5,
    column: 20,
    span: "[5, 6, 7]",
    message: "Layer 5 is claimed by sharing groups 'a' and 'b' for ffn.",
  },
  {
    what: "a group declared twice",
    code: "BDL042",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  sharing {",
      "    group a layers 0..1 share attention",
      "    group a layers 2..3 share ffn",
      "  }",
      "}",
    ),
    line: 5,
    column: 11,
    span: "a",
    message: "Sharing group 'a' is declared twice.",
  },
  {
    what: "unknown shared sublayer",
    code: "BDL043",
    text: lines('import "bert.bdl"', "model x extends bert {", "  sharing { group a layers 0..3 share attn }", "}"),
    line: 3,
    column: 39,
    span: "attn",
    message: "'attn' is not a shareable sublayer.",
  },
  {
    what: "bad sharing mode, with did-you-mean",
    code: "BDL044",
    text: lines('import "bert.bdl"', "model x extends bert {", "  sharing al", "}"),
    line: 3,
    column: 11,
    span: "al",
    message: "'sharing al' is not valid",
  },
  {
    what: "a group of one layer (warning)",
    code: "BDL045",
    text: lines('import "bert.bdl"', "model x extends bert {", "  sharing { group solo layers 3 share ffn }", "}"),
    line: 3,
    column: 19,
    span: "solo",
    message: "Sharing group 'solo' has only one layer, so it shares nothing.",
  },

  // --- objectives ----------------------------------------------------------------------
  {
    what: "unknown objective, with did-you-mean",
    code: "BDL050",
    text: lines('import "bert.bdl"', "model x extends bert {", "  objectives { mlmm weight 1 }", "}"),
    line: 3,
    column: 16,
    span: "mlmm",
    message: "Unknown objective 'mlmm'. Did you mean 'mlm'?",
  },
  {
    what: "distill without a teacher",
    code: "BDL051",
    text: lines('import "bert.bdl"', "model x extends bert {", "  objectives { distill weight 5.0 temperature 2.0 }", "}"),
    line: 3,
    column: 16,
    span: "distill weight 5.0 temperature 2.0",
    message: "Objective 'distill' needs a 'teacher' to learn from.",
  },
  {
    what: "cosine without a teacher",
    code: "BDL051",
    text: lines('import "bert.bdl"', "model x extends bert {", "  objectives {", "    cosine weight 1.0", "  }", "}"),
    line: 4,
    column: 5,
    span: "cosine weight 1.0",
    message: "Objective 'cosine' needs a 'teacher' to learn from.",
  },
  {
    what: "nsp without a pooler",
    code: "BDL052",
    text: lines('import "bert.bdl"', "model x extends bert {", "  pooler none", "  objectives { nsp weight 1.0 }", "}"),
    line: 4,
    column: 16,
    span: "nsp weight 1.0",
    message: "Objective 'nsp' classifies the pooled [CLS] output, but the model has 'pooler none'.",
  },
  {
    what: "nsp and sop together",
    code: "BDL053",
    text: lines('import "bert.bdl"', "model x extends bert {", "  objectives { sop weight 1.0 }", "}"),
    line: 3,
    column: 16,
    span: "sop weight 1.0",
    message: "'nsp' and 'sop' build sentence pairs in incompatible ways; turn one off.",
  },
  {
    what: "distill across vocabularies",
    code: "BDL054",
    text: lines(
      'import "bert.bdl"',
      "model small extends bert { vocab 20000 }",
      "model x extends bert {",
      "  objectives { distill weight 1 }",
      "  teacher small",
      "}",
    ),
    line: 4,
    column: 16,
    span: "distill weight 1",
    message: "'distill' compares logits over the vocabulary, but the student has vocab 30522 and teacher 'small' has vocab 20000.",
  },
  {
    what: "unknown objective option, with did-you-mean",
    code: "BDL055",
    text: lines('import "bert.bdl"', "model x extends bert {", "  objectives { mlm wieght 2 }", "}"),
    line: 3,
    column: 20,
    span: "wieght",
    message: "Objective 'mlm' has no option 'wieght'. Did you mean 'weight'?",
  },
  {
    what: "no objectives (warning)",
    code: "BDL056",
    text: lines('import "bert.bdl"', "model x extends bert {", "  objectives { mlm off nsp off }", "}"),
    line: 2,
    column: 7,
    span: "x",
    message: "Model 'x' has no objectives: it cannot be pretrained.",
  },
  {
    what: "a document mask with sentence pairs",
    code: "BDL063",
    text: lines('import "bert.bdl"', "model x extends bert {", "  train { document_mask true }", "}"),
    line: 3,
    column: 11,
    span: "document_mask true",
    message: "'document_mask' keeps packed documents apart, but objective 'nsp' builds each sequence from sentence pairs",
  },
  {
    what: "generator heads that do not divide its hidden",
    code: "BDL037",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  generator { hidden 256 heads 3 intermediate 1024 }",
      "  objectives { nsp off rtd weight 50 }",
      "}",
    ),
    line: 3,
    column: 26,
    span: "heads 3",
    message: "The generator's 'heads' (3) must divide its 'hidden' (256).",
  },
  {
    what: "rtd without a generator",
    code: "BDL057",
    text: lines('import "bert.bdl"', "model x extends bert {", "  objectives { nsp off rtd weight 50 }", "}"),
    line: 3,
    column: 24,
    span: "rtd weight 50",
    message: "Objective 'rtd' detects the tokens a generator replaced",
  },
  {
    what: "a generator without rtd",
    code: "BDL058",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  generator { hidden 256 heads 4 intermediate 1024 }",
      "  objectives { nsp off }",
      "}",
    ),
    line: 3,
    column: 15,
    span: "hidden 256",
    message: "but objective 'rtd' is off; turn it on or remove the generator.",
  },
  {
    what: "a generator with a sentence-pair objective",
    code: "BDL059",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  generator { hidden 256 heads 4 intermediate 1024 }",
      "  objectives { rtd weight 50 }",
      "}",
    ),
    line: 3,
    column: 15,
    span: "hidden 256",
    message: "Objective 'nsp' cannot be combined with a generator",
  },

  // --- masking -------------------------------------------------------------------------
  {
    what: "masking fractions not summing to 1",
    code: "BDL060",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { mask 0.7 random 0.1 keep 0.1 }", "}"),
    line: 3,
    column: 13,
    span: "mask 0.7",
    message: "Masking fractions mask 0.7 + random 0.1 + keep 0.1 = 0.9, but they must sum to 1.",
  },
  {
    what: "duplicates with a dynamic schedule",
    code: "BDL061",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { schedule dynamic duplicates 3 }", "}"),
    line: 3,
    column: 30,
    span: "duplicates 3",
    message: "'duplicates' only applies to 'schedule static'",
  },
  {
    what: "span settings with another unit",
    code: "BDL062",
    text: lines('import "bert.bdl"', "model x extends bert {", "  masking { unit word max 4 }", "}"),
    line: 3,
    column: 23,
    span: "max 4",
    message: "'max' only applies to 'unit span'; this model's unit is word.",
  },

  // --- teacher links -------------------------------------------------------------------
  {
    what: "teacher naming an unknown model, with did-you-mean",
    code: "BDL070",
    text: lines('import "bert.bdl"', "model x extends bert {", "  layers 6", '  teacher bret from "checkpoints/bert-base"', "}"),
    line: 4,
    column: 11,
    span: "bret",
    message: "Unknown teacher model 'bret'. Did you mean 'bert'?",
  },
  {
    what: "init layers of the wrong length",
    code: "BDL071",
    text: lines('import "bert.bdl"', "model x extends bert {", "  layers 6", "  teacher bert { init layers [0, 2, 4] }", "}"),
    line: 4,
    column: 30,
    span: "[0, 2, 4]",
    message: "'init layers' lists 3 teacher layers, but the student has 6 layers.",
  },
  {
    what: "init layers out of the teacher's range",
    code: "BDL072",
    text: lines('import "bert.bdl"', "model x extends bert {", "  layers 3", "  teacher bert { init layers [0, 6, 12] }", "}"),
    line: 4,
    column: 30,
    span: "[0, 6, 12]",
    message: "'init layers' names teacher layer 12, but teacher 'bert' has 12 layers (0..11).",
  },
  {
    what: "init layers from a teacher of another width",
    code: "BDL073",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  layers 2 hidden 256 heads 4",
      "  teacher bert { init layers [0, 11] }",
      "}",
    ),
    line: 4,
    column: 30,
    span: "[0, 11]",
    message: "Cannot copy layers from teacher 'bert': teacher vs student hidden 768 vs 256.",
  },
  {
    what: "init layers from a teacher whose LayerNorms sit elsewhere",
    code: "BDL075",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  layers 2",
      "  norm_position pre",
      "  teacher bert { init layers [0, 11] }",
      "}",
    ),
    line: 5,
    column: 30,
    span: "[0, 11]",
    message:
      "'init layers' copies post-LN layers of teacher 'bert' into a pre-LN student, where the same weights compute something else; give both the same 'norm_position'.",
  },
  {
    what: "init layers from a teacher whose feed-forward layers are of another kind",
    code: "BDL076",
    text: lines(
      'import "bert.bdl"',
      "model x extends bert {",
      "  layers 2",
      "  feed_forward gated",
      "  teacher bert { init layers [0, 11] }",
      "}",
    ),
    line: 5,
    column: 30,
    span: "[0, 11]",
    message:
      "'init layers' copies plain feed-forward layers of teacher 'bert' into a gated student, where the same weights compute something else; give both the same 'feed_forward'.",
  },
  {
    what: "a model as its own teacher",
    code: "BDL074",
    text: lines('import "bert.bdl"', "model x extends bert {", "  teacher x", "}"),
    line: 3,
    column: 11,
    span: "x",
    message: "Model 'x' cannot be its own teacher.",
  },

  // --- expectations --------------------------------------------------------------------
  {
    what: "expect mismatch",
    code: "BDL080",
    text: lines('import "bert.bdl"', "model x extends bert {", "  layers 6", "  expect params 110M", "}"),
    line: 4,
    column: 3,
    span: "expect params 110M",
    message: "Expected the total parameter count to be 110M, but it is 67,579,196 (about 67.58M).",
  },
  {
    what: "unknown expectation, with did-you-mean",
    code: "BDL081",
    text: lines('import "bert.bdl"', "model x extends bert {", "  expect parms 110M", "}"),
    line: 3,
    column: 10,
    span: "parms",
    message: "Unknown expectation 'parms'. Did you mean 'params'?",
  },

  // --- tokenizer, special tokens, training ---------------------------------------------
  {
    what: "special id outside the vocabulary",
    code: "BDL090",
    text: lines('import "bert.bdl"', "model x extends bert {", "  special { pad 0 unk 100 cls 101 sep 102 mask 30522 }", "}"),
    line: 3,
    column: 43,
    span: "mask 30522",
    message: "Special token 'mask' has id 30522, outside the vocabulary (0..30521).",
  },
  {
    what: "two special tokens on one id",
    code: "BDL092",
    text: lines('import "bert.bdl"', "model x extends bert {", "  special { pad 0 unk 1 cls 2 sep 3 mask 3 }", "}"),
    line: 3,
    column: 37,
    span: "mask 3",
    message: "Special tokens 'sep' and 'mask' share id 3.",
  },
  {
    what: "train seq beyond the learned positions",
    code: "BDL093",
    text: lines('import "bert.bdl"', "model x extends bert {", "  embeddings { positions 128 }", "  train { seq 256 }", "}"),
    line: 4,
    column: 11,
    span: "seq 256",
    message: "'train seq' (256) is longer than the 128 learned positions.",
  },
];

function filesOf(c: Case): Record<string, string> {
  return typeof c.text === "string" ? { [MAIN]: c.text } : c.text;
}

describe("every diagnostic, at the smallest meaningful span", () => {
  it.each(CASES.map((c) => [`${c.code} ${c.what}`, c] as const))("%s", (_title, c) => {
    const found = check(filesOf(c));
    const file = c.file ?? MAIN;
    const ofCode = found.filter((d) => d.code === c.code).map(where);
    expect(ofCode, `no ${c.code} in:\n${show(found)}`).not.toEqual([]);
    const hit = ofCode.find((w) => w.file === file && w.line === c.line && w.column === c.column);
    expect(hit, `no ${c.code} at ${file}:${c.line}:${c.column} in:\n${show(found)}`).toBeDefined();
    expect(hit!.span).toBe(c.span);
    expect(hit!.message).toContain(c.message);
    // Nothing else went wrong: the row's input has exactly the one problem it is about.
    const allowed = new Set([c.code, ...(c.also ?? [])]);
    const others = found.filter((d) => d.severity === "error" && !allowed.has(d.code));
    expect(others, `unexpected errors:\n${show(others)}`).toEqual([]);
  });

  it("covers every code of the catalog", () => {
    const covered = new Set(CASES.map((c) => c.code));
    const missing = Object.values(Diag)
      .map((e) => e.code)
      .filter((code) => !covered.has(code));
    expect(missing).toEqual([]);
  });

  it("covers every class of error that the language spec names", () => {
    const covered = new Set(CASES.map((c) => c.code));
    // heads/hidden, sharing range, two groups, unknown teacher, init length, init range,
    // mask fractions, distill/cosine without teacher, factorize, unknown keys, cycles.
    for (const code of [
      "BDL030",
      "BDL040",
      "BDL041",
      "BDL070",
      "BDL071",
      "BDL072",
      "BDL060",
      "BDL051",
      "BDL031",
      "BDL020",
      "BDL011",
      "BDL014",
    ]) {
      expect(covered.has(code), code).toBe(true);
    }
  });

  it("uses codes of the form BDL0xx, each once in the catalog, with severities error or warning", () => {
    const codes = Object.values(Diag).map((e) => e.code);
    for (const code of codes) expect(code).toMatch(/^BDL0\d\d$/);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of Object.values(Diag)) expect(["error", "warning"]).toContain(e.severity);
  });

  it("reports the entry file that cannot be read, naming it", () => {
    const found = check({}, "mem/absent.bdl");
    expect(found.map((d) => [d.code, d.message])).toEqual([["BDL010", "Cannot read 'mem/absent.bdl': no such file."]]);
  });

  it("reports a problem of a base model once, however many models extend it", () => {
    const found = check({
      [MAIN]: lines(
        "model base {",
        "  vocab 100 hidden 64 layers 2 heads 4 intermediate 128",
        "  hiden 3",
        "}",
        "model a extends base {}",
        "model b extends base {}",
      ),
    });
    expect(found.filter((d) => d.code === "BDL020")).toHaveLength(1);
  });

  it("finds the reference models and spec examples clean", () => {
    for (const file of [
      "models/bert.bdl",
      "models/roberta.bdl",
      "models/albert.bdl",
      "models/distilbert.bdl",
      "test/fixtures/spec/example-1.bdl",
      "test/fixtures/spec/example-2.bdl",
    ]) {
      const found = checkProgram(loadProgram(path.join(ROOT, file))).diagnostics;
      expect(show(found), file).toBe("");
    }
  });
});

describe("recovery: one parse reports every syntax error in a file", () => {
  const text = lines(
    'import "bert.bdl"',
    "model x extends bert {", // 2
    "  heads 12 12", //           3: two values
    "  embeddings { positions 512 offset }", // 4: no value
    "  sharing { group a layers 0..1 }", // 5: no 'share'
    "  masking { rate 0.15 -> }", // 6: incomplete ramp
    "  hiden 768", //             7: a semantic error after all that
    "}",
    "model y extends bert {", //  9
    "  layers [1,", //            10: unclosed list
    "}",
  );

  it("reports at least three syntax errors, on distinct lines, in source order", () => {
    const found = check({ [MAIN]: text });
    const syntax = found.filter((d) => ["BDL001", "BDL002", "BDL003", "BDL005"].includes(d.code)).map(where);
    const syntaxLines = [...new Set(syntax.map((w) => w.line))];
    expect(syntaxLines.length, show(found)).toBeGreaterThanOrEqual(3);
    expect(syntaxLines).toEqual(expect.arrayContaining([3, 4, 5, 6]));
    expect(syntaxLines).toContain(11); // the `}` that should have been `]`
    const offsets = found.map((d) => d.span.start);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });

  it("still finds semantic errors in the parts that parsed", () => {
    const found = check({ [MAIN]: text }).map(where);
    expect(found).toContainEqual(expect.objectContaining({ code: "BDL020", line: 7, column: 3, span: "hiden" }));
  });

  it("reports a lexical error and the syntax errors around it", () => {
    const found = check({ [MAIN]: lines('import "bert.bdl"', "model x extends bert {", "  heads 12 ;", "  layers 6 6", "  vocab @", "}") });
    const got = found.map((d) => `${where(d).line}:${d.code}`);
    expect(got).toEqual(expect.arrayContaining(["3:BDL001", "4:BDL003", "5:BDL001"]));
  });

  it("recovers from a stray token between models, in plain words", () => {
    const found = check({
      [MAIN]: lines(
        'import "bert.bdl"',
        "model a extends bert {",
        "  layers 6",
        "}",
        "}",
        "model b extends bert {",
        "  hiden 3",
        "}",
        "modle c {",
        "}",
      ),
    }).map(where);
    expect(found).toContainEqual(
      expect.objectContaining({ code: "BDL003", line: 5, column: 1, span: "}", message: "Expected 'model' or 'import' but found '}'." }),
    );
    expect(found).toContainEqual(expect.objectContaining({ code: "BDL020", line: 7, column: 3, span: "hiden" }));
    expect(found).toContainEqual(expect.objectContaining({ code: "BDL003", line: 9, column: 1, span: "modle" }));
    for (const w of found) expect(w.message).not.toMatch(/\bEOF\b/);
  });

  it("summarises past a hundred syntax errors instead of flooding", () => {
    const body = Array.from({ length: 300 }, () => "  heads 12 12").join("\n");
    const found = check({ [MAIN]: `import "bert.bdl"\nmodel x extends bert {\n${body}\n}\n` });
    const syntax = found.filter((d) => d.code === "BDL003");
    expect(syntax.length).toBeLessThanOrEqual(100);
    expect(found.filter((d) => d.code === "BDL006").map((d) => d.message)).toEqual([
      "Too many errors: parsing stopped after 100 syntax errors.",
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Found while writing these tests, and fixed: rules about several properties.

describe("messages and spans of rules about several properties", () => {
  // `format` once turned `{{` into `{` but left `}}` alone.
  it("BDL044 message shows the block form with balanced braces", () => {
    const found = check({ [MAIN]: lines('import "bert.bdl"', "model x extends bert {", "  sharing al", "}") });
    const d = found.find((x) => x.code === "BDL044")!;
    expect(d.message).toContain("'sharing { … }'.");
    expect(d.message).not.toContain("}}");
  });

  // Rules report at the span that set a property (`ctx.at("heads")`), even when the
  // derived model broke the rule by changing another one. The error then points into the
  // base model's file (models/bert.bdl here, a file the user did not touch), its message
  // does not name the model, and two models broken the same way get one diagnostic, since
  // `dedupe` keys on span + message.
  it("an error caused by a derived model points into that model's file", () => {
    const found = check({ [MAIN]: lines('import "bert.bdl"', "model x extends bert {", "  hidden 100", "}") });
    const d = found.find((x) => x.code === "BDL030")!;
    expect(where(d)).toMatchObject({ file: MAIN, line: 3 });
  });

  it("two models broken the same way get a diagnostic each", () => {
    const found = check({
      [MAIN]: lines('import "bert.bdl"', "model x extends bert {", "  hidden 100", "}", "model y extends bert {", "  hidden 100", "}"),
    });
    expect(found.filter((d) => d.code === "BDL030")).toHaveLength(2);
  });

  // A student of another width extending distilbert inherits `init layers` and `init
  // embeddings`, which cannot copy from bert: once reported inside models/distilbert.bdl,
  // with no way to switch them off.
  const STUDENT = ['import "distilbert.bdl"', "model student extends distilbert {", "  hidden 384", "  heads 6", "  intermediate 1536"];
  const DISTILBERT = path.relative(process.cwd(), path.join(BUILTIN_MODELS_DIR, "distilbert.bdl"));

  it("a copy the student's width makes impossible is reported at the student's line, pointing at the inherited init", () => {
    const found = check({ [MAIN]: lines(...STUDENT, "}") });
    const copies = found.filter((d) => d.code === "BDL073");
    expect(copies.map((d) => [where(d).file, where(d).line, where(d).span])).toEqual([
      [MAIN, 3, "hidden 384"],
      [MAIN, 3, "hidden 384"],
    ]);
    expect(copies.map((d) => d.message)).toEqual([
      "Cannot copy layers from teacher 'bert': teacher vs student hidden 768 vs 384, intermediate 3072 vs 1536.",
      "Cannot copy embeddings from teacher 'bert': teacher vs student embedding width 768 vs 384.",
    ]);
    const related = copies.map((d) => d.related?.map((r) => [r.span.source.path, r.message]));
    expect(related).toEqual([
      [[DISTILBERT, "copied because of this line; write 'teacher bert { init layers off }' not to copy layers"]],
      [[DISTILBERT, "copied because of this line; write 'teacher bert { init embeddings off }' not to copy embeddings"]],
    ]);
    expect(found.filter((d) => d.severity === "error" && d.code !== "BDL073")).toEqual([]);
  });

  it("init layers off and init embeddings off let that student extend distilbert", () => {
    const text = lines(...STUDENT, "  teacher bert {", "    init layers off", "    init embeddings off", "  }", "}");
    const checked = checkProgram(loadProgram(MAIN, new ParseCache(memoryHost({ [MAIN]: text }))));
    expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(checked.resolutions.get("student")!.model.teacher).toEqual({
      model: "bert",
      checkpoint: null,
      initLayers: null,
      initEmbeddings: false,
    });
    // Only what it switches off changes: the other copy is still inherited.
    const half = lines('import "distilbert.bdl"', "model s extends distilbert {", "  teacher bert { init embeddings off }", "}");
    const teacher = checkProgram(loadProgram(MAIN, new ParseCache(memoryHost({ [MAIN]: half })))).resolutions.get("s")!.model.teacher;
    expect(teacher).toEqual({ model: "bert", checkpoint: null, initLayers: [0, 2, 4, 7, 9, 11], initEmbeddings: false });
  });

  it("a masking sum broken by a derived model points at the derived model's line", () => {
    const found = check({ [MAIN]: lines('import "bert.bdl"', "model x extends bert {", "  masking { keep 0.2 }", "}") });
    const d = found.find((x) => x.code === "BDL060")!;
    expect(where(d)).toMatchObject({ file: MAIN, line: 3, span: "keep 0.2" });
  });
});

// ---------------------------------------------------------------------------------------
// `bdlc check` output

function capture(isTerminal = false) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), isTerminal },
    out: () => out.join("\n"),
    err: () => err.join("\n"),
  };
}

const ERRORS = "test/fixtures/diagnostics/errors.bdl";
const SYNTAX = "test/fixtures/diagnostics/syntax.bdl";
const WARNING = "test/fixtures/diagnostics/warning.bdl";
const CLEAN = "test/fixtures/diagnostics/clean.bdl";

describe("bdlc check output", () => {
  it("prints file:line:col: error BDL0xx: message, one per line, and exits 1", async () => {
    const c = capture();
    const code = await main(["check", ERRORS], c.io);
    expect(code).toBe(1);
    expect(c.out().split("\n")).toEqual([
      `${ERRORS}:5:3: error BDL030: 'heads' (7) must divide 'hidden' (768).`,
      `${ERRORS}:6:3: error BDL020: Unknown property 'hiden' in model 'broken'. Did you mean 'hidden'?`,
      `${ERRORS}:7:14: error BDL023: 'gleu' is not a valid activation. Did you mean 'gelu'? Expected one of: gelu, gelu_new, relu, silu.`,
      `${ERRORS}:9:11: error BDL070: Unknown teacher model 'bret'. Did you mean 'bert'?`,
    ]);
    expect(c.err()).toBe("4 errors.");
  });

  it("prints every syntax error of a file", async () => {
    const c = capture();
    expect(await main(["check", SYNTAX], c.io)).toBe(1);
    const got = c.out().split("\n");
    for (const l of got) expect(l).toMatch(/^test\/fixtures\/diagnostics\/syntax\.bdl:\d+:\d+: error BDL0\d\d: \S.*$/);
    const distinctLines = new Set(got.map((l) => l.split(":")[1]));
    expect(distinctLines.size).toBeGreaterThanOrEqual(3);
  });

  it("adds a code frame with the span underlined on a terminal", async () => {
    const c = capture(true);
    expect(await main(["check", ERRORS], c.io)).toBe(1);
    expect(c.out()).toContain(["  |", "6 |   hiden 768", "  |   ^^^^^"].join("\n"));
  });

  it("prints warnings with exit code 0", async () => {
    const c = capture();
    expect(await main(["check", WARNING], c.io)).toBe(0);
    expect(c.out()).toContain(`${WARNING}:6:3: warning BDL024: 'layers' is set twice in the same block; the second value wins.`);
  });

  it("exits 0 on a clean file, saying so (and nothing with --quiet)", async () => {
    const c = capture();
    expect(await main(["check", CLEAN], c.io)).toBe(0);
    expect(c.out()).toBe(`ok: ${CLEAN}`);
    expect(c.err()).toBe("");
    const q = capture();
    expect(await main(["check", "--quiet", CLEAN], q.io)).toBe(0);
    expect(q.out()).toBe("");
  });

  it("checks several files at once, reporting a shared import's problems once", async () => {
    const c = capture();
    expect(await main(["check", CLEAN, ERRORS, "models/bert.bdl"], c.io)).toBe(1);
    expect(c.out().split("\n")).toHaveLength(4);
  });
});
