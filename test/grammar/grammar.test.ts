// The grammar artifacts under grammar/ against the compiler they describe:
// bdl.ebnf vs the parser's rules and their doc comments, the generated files vs a fresh
// generation, and the TextMate grammar vs the spec's examples.
import { readFileSync } from "node:fs";
import type { TokenType } from "chevrotain";
import { describe, expect, it } from "vitest";
import { parser } from "../../src/compiler/syntax/parser.js";
import * as schema from "../../src/compiler/semantics/schema.js";
import * as tokens from "../../src/compiler/syntax/tokens.js";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

// ---------------------------------------------------------------------------------------
// bdl.ebnf

/** The file without its block comments; quoted literals and /regex/ literals are kept intact. */
function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw new Error("bdl.ebnf: unterminated comment");
      // Keep line breaks so that production starts stay at the start of a line.
      out += text.slice(i, end + 2).replace(/[^\n]/g, " ");
      i = end + 2;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      out += text.slice(i, end + 1);
      i = end + 1;
    } else if (c === "/") {
      // A regex literal: runs to the next `/` outside a character class and not escaped.
      let j = i + 1;
      let inClass = false;
      for (; j < text.length && (inClass || text[j] !== "/"); j++) {
        if (text[j] === "\\") j++;
        else if (text[j] === "[") inClass = true;
        else if (text[j] === "]") inClass = false;
        if (text[j] === "\n") throw new Error("bdl.ebnf: unterminated regex");
      }
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const normalise = (body: string) => body.replace(/\s+/g, " ").trim();

/** Productions of bdl.ebnf: a line starting with `name :=` opens one; indented lines continue it. */
function ebnfProductions(text: string): Map<string, string> {
  const productions = new Map<string, string>();
  let current: string | undefined;
  for (const line of stripComments(text).split("\n")) {
    const start = /^([A-Za-z][A-Za-z0-9]*)\s*:=(.*)$/.exec(line);
    if (start) {
      current = start[1]!;
      if (productions.has(current)) throw new Error(`bdl.ebnf: ${current} is defined twice`);
      productions.set(current, start[2]!);
    } else if (/^\S/.test(line)) {
      throw new Error(`bdl.ebnf: unexpected text at the start of a line: ${line}`);
    } else if (current && line.trim()) {
      productions.set(current, productions.get(current)! + " " + line);
    }
  }
  return new Map([...productions].map(([name, body]) => [name, normalise(body)]));
}

/**
 * Productions quoted in parser.ts doc comments: `/** name := … *\/`. As in bdl.ebnf, a
 * production goes on over indented lines; the first unindented line after it is prose.
 * A trailing parenthesised gloss set off by two or more spaces
 * (`recordDecl := … '}'   (embeddings, masking, …)`) is prose too.
 */
function parserDocProductions(source: string): Map<string, string> {
  const productions = new Map<string, string>();
  for (const [, comment] of source.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const lines = comment!
      .split("\n")
      .map((line) => line.replace(/^\s*\*? ?/, "").trimEnd())
      .filter((line, i) => i > 0 || line.trim());
    const m = /^\s*([a-z][A-Za-z0-9]*)\s*:=(.*)$/.exec(lines[0] ?? "");
    if (!m) continue;
    let body = m[2]!.replace(/ {2,}\([^()'"]*\)$/, "");
    for (const line of lines.slice(1)) {
      if (!/^\s/.test(line) || !line.trim()) break;
      body += " " + line.replace(/ {2,}\([^()'"]*\)$/, "");
    }
    productions.set(m[1]!, normalise(body));
  }
  return productions;
}

/** Names and quoted literals a production body refers to. */
function references(body: string): Set<string> {
  const refs = new Set<string>();
  for (const m of body.matchAll(/'[^']*'|[A-Za-z_][A-Za-z0-9_]*/g)) refs.add(m[0]);
  return refs;
}

type Gast = { type: string; name?: string; label?: string; definition?: Gast[] };

/** The same, from the parser itself, in the EBNF's spelling of tokens. */
function gastReferences(rule: Gast, refs = new Set<string>()): Set<string> {
  for (const node of rule.definition ?? []) {
    if (node.type === "Terminal") {
      const spelling: Record<string, string> = { NumberLiteral: "Number", StringLiteral: "String" };
      refs.add(node.label?.startsWith("'") ? node.label : (spelling[node.name!] ?? node.name!));
    } else if (node.type === "NonTerminal") {
      refs.add(node.name!);
    }
    gastReferences(node, refs);
  }
  return refs;
}

const ebnfText = read("grammar/bdl.ebnf");
const ebnf = ebnfProductions(ebnfText);
const syntactic = [...ebnf.keys()].filter((n) => /^[a-z]/.test(n));
const lexical = [...ebnf.keys()].filter((n) => /^[A-Z]/.test(n));
const ruleNames = Object.keys(parser.getGAstProductions());
const docs = parserDocProductions(read("src/compiler/syntax/parser.ts"));
const gast = new Map((parser.getSerializedGastProductions() as Gast[]).map((r) => [r.name!, r]));

describe("grammar/bdl.ebnf", () => {
  it("has one syntactic production per parser rule, and no other", () => {
    expect(new Set(syntactic)).toEqual(new Set(ruleNames));
    expect(syntactic.length).toBe(ruleNames.length);
  });

  it("quotes every parser rule in its doc comment", () => {
    expect(new Set(docs.keys())).toEqual(new Set(ruleNames));
  });

  it.each(ruleNames)("%s reads as the parser's doc comment says", (name) => {
    expect(ebnf.get(name)).toBe(docs.get(name));
  });

  it.each(ruleNames)("%s refers to the tokens and rules its parser rule uses", (name) => {
    expect([...references(ebnf.get(name) ?? "")].sort()).toEqual([...gastReferences(gast.get(name)!)].sort());
  });

  it("defines every token the syntactic productions use", () => {
    for (const name of syntactic) {
      for (const ref of references(ebnf.get(name)!)) {
        if (/^[A-Z]/.test(ref)) expect(lexical, `${ref} in ${name}`).toContain(ref);
        if (ref.startsWith("'")) expect(`${ebnf.get("Keyword")} ${ebnf.get("Punctuation")}`, `${ref} in ${name}`).toContain(ref);
      }
    }
  });

  it("lists every keyword of tokens.ts, and nothing else, as Keyword", () => {
    const words = tokens.KEYWORDS.map((t) => t.LABEL!);
    expect(words.every((w) => /^'[a-z]+'$/.test(w))).toBe(true);
    expect(ebnf.get("Keyword")!.split(" | ")).toEqual(words);
    for (const w of words) expect(ebnfText).toContain(w);
  });

  it("gives each token the regex tokens.ts gives it", () => {
    const tokenFor: Record<string, TokenType> = {
      WhiteSpace: tokens.WhiteSpace,
      Comment: tokens.Comment,
      Identifier: tokens.Identifier,
      Quantity: tokens.Quantity,
      Number: tokens.NumberLiteral,
      String: tokens.StringLiteral,
    };
    for (const [name, token] of Object.entries(tokenFor)) {
      expect(ebnf.get(name), name).toBe(`/${(token.PATTERN as RegExp).source}/`);
    }
  });

  it("gives the punctuation tokens and categories their members", () => {
    const punctuation = [tokens.LBrace, tokens.RBrace, tokens.LBracket, tokens.RBracket, tokens.Comma, tokens.DotDot, tokens.Arrow];
    expect(ebnf.get("Punctuation")!.split(" | ")).toEqual(punctuation.map((t) => t.LABEL));
    const members = (category: TokenType) => tokens.allTokens.filter((t) => t !== category && (t.CATEGORIES ?? []).includes(category));
    expect(members(tokens.Word)).toEqual([...tokens.KEYWORDS, tokens.Identifier]);
    expect(ebnf.get("Word")).toBe("Identifier | Keyword");
    expect(
      members(tokens.Key)
        .map((t) => (t === tokens.Identifier ? "Identifier" : t.LABEL))
        .sort(),
    ).toEqual(ebnf.get("Key")!.split(" | ").sort());
  });
});

// ---------------------------------------------------------------------------------------
// Generated files

interface Generator {
  DIAGRAMS_PATH: string;
  EBNF_PATH: string;
  generate(input: { parser: unknown; schema: unknown; currentEbnf: string }): Record<string, string>;
  renderPropertiesSection(schema: unknown): string;
}
// A plain .mjs script: imported by a computed specifier, typed by the interface above.
const generatorPath: string = "../../scripts/gen-grammar.mjs";
const generator = (await import(generatorPath)) as Generator;

describe("generated grammar files", () => {
  const fresh = generator.generate({ parser, schema, currentEbnf: ebnfText });

  it.each([generator.DIAGRAMS_PATH, generator.EBNF_PATH])("%s is current (node scripts/gen-grammar.mjs)", (path) => {
    expect(read(path) === fresh[path], `${path} is stale: run npm run build && node scripts/gen-grammar.mjs`).toBe(true);
  });

  it("bdl.ebnf names every property of the schema", () => {
    const section = generator.renderPropertiesSection(schema);
    const keys = [
      ...Object.keys(schema.MODEL_PROPERTIES),
      ...Object.values(schema.RECORDS).flatMap((r) => Object.keys(r)),
      ...Object.keys(schema.RECORDS),
      ...Object.keys(schema.OBJECTIVES),
    ];
    for (const key of keys) expect(section).toMatch(new RegExp(`\\* +${key} `));
    expect(ebnfText).toContain(section);
  });

  it("diagrams.html is self-contained and draws every rule", () => {
    const html = read(generator.DIAGRAMS_PATH);
    expect(html).not.toMatch(/<(?:script|link|img)\b[^>]*\b(?:src|href)=/i);
    expect(html).toContain("drawDiagramsFromSerializedGrammar");
    for (const name of ruleNames) expect(html).toContain(`"name": "${name}"`);
  });
});

// ---------------------------------------------------------------------------------------
// TextMate grammar

interface TmRule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  captures?: Record<string, { name?: string }>;
  beginCaptures?: Record<string, { name?: string }>;
  endCaptures?: Record<string, { name?: string }>;
  patterns?: TmRule[];
  include?: string;
}
interface TmGrammar {
  scopeName: string;
  fileTypes: string[];
  patterns: TmRule[];
  repository: Record<string, TmRule>;
}

const tmText = read("grammar/bdl.tmLanguage.json");

function allRules(g: TmGrammar): TmRule[] {
  const out: TmRule[] = [];
  const visit = (r: TmRule) => {
    out.push(r);
    r.patterns?.forEach(visit);
  };
  g.patterns.forEach(visit);
  Object.values(g.repository).forEach(visit);
  return out;
}

/** Oniguruma syntax that JavaScript lacks or reads differently. */
const ONIGURUMA_ONLY = [/\(\?[imx-]+[):]/, /\\[hHAzZGK]/, /\(\?>/, /[*+?}][+]/, /\\p\{\^/, /\[\[:/];

/** Patterns of `rule` with includes resolved (an included rule without a regex contributes its patterns). */
function expand(g: TmGrammar, rules: TmRule[]): TmRule[] {
  return rules.flatMap((r) => {
    if (r.include) {
      const target = g.repository[r.include.replace(/^#/, "")];
      if (!target) throw new Error(`no repository rule ${r.include}`);
      return expand(g, [target]);
    }
    if (!r.match && !r.begin) return expand(g, r.patterns ?? []);
    return [r];
  });
}

/**
 * A small TextMate tokenizer: match / begin-end rules, captures, includes, first-leftmost
 * match wins (ties go to the earlier rule; an `end` wins ties). Returns the scopes of every
 * character of every line.
 */
function tokenize(g: TmGrammar, lines: string[]): string[][][] {
  const stack: { rule: TmRule; end: RegExp }[] = [];
  const regex = (source: string) => new RegExp(source, "dg");
  return lines.map((line) => {
    const scopes: string[][] = Array.from({ length: line.length }, () => []);
    const base = () => [g.scopeName, ...stack.map((s) => s.rule.name).filter((n): n is string => !!n)];
    const paint = (from: number, to: number, names: string[]) => {
      for (let i = from; i < to; i++) scopes[i] = [...names];
    };
    const paintCaptures = (m: RegExpExecArray, captures: TmRule["captures"]) => {
      for (const [group, { name }] of Object.entries(captures ?? {})) {
        const span = m.indices![Number(group)];
        if (span && name) for (let i = span[0]; i < span[1]; i++) scopes[i] = [...scopes[i]!, name];
      }
    };
    let pos = 0;
    for (let guard = 0; pos <= line.length; guard++) {
      if (guard > 10_000) throw new Error("tokenizer loops");
      const top = stack[stack.length - 1];
      let best: { rule: TmRule; m: RegExpExecArray } | undefined;
      for (const rule of expand(g, top ? (top.rule.patterns ?? []) : g.patterns)) {
        const re = regex(rule.match ?? rule.begin!);
        re.lastIndex = pos;
        const m = re.exec(line);
        if (m && (!best || m.index < best.m.index)) best = { rule, m };
      }
      let endMatch: RegExpExecArray | null = null;
      if (top) {
        top.end.lastIndex = pos;
        endMatch = top.end.exec(line);
      }
      if (endMatch && (!best || endMatch.index <= best.m.index)) {
        paint(pos, endMatch.index + endMatch[0].length, base());
        paintCaptures(endMatch, top!.rule.endCaptures);
        stack.pop();
        pos = endMatch.index + endMatch[0].length;
        if (endMatch[0].length === 0 && pos >= line.length) break;
        continue;
      }
      if (!best) break;
      const { rule, m } = best;
      const end = m.index + m[0].length;
      paint(pos, m.index, base());
      const names = rule.name ? [...base(), rule.name] : base();
      paint(m.index, end, names);
      if (rule.match !== undefined) {
        paintCaptures(m, rule.captures);
      } else {
        paintCaptures(m, rule.beginCaptures ?? rule.captures);
        stack.push({ rule, end: regex(rule.end!) });
      }
      if (end === pos && rule.match !== undefined) pos++;
      else pos = end;
    }
    if (pos < line.length) paint(pos, line.length, base());
    return scopes;
  });
}

describe("grammar/bdl.tmLanguage.json", () => {
  const g = JSON.parse(tmText) as TmGrammar;

  it("is a TextMate grammar for .bdl", () => {
    expect(g.scopeName).toBe("source.bdl");
    expect(g.fileTypes).toEqual(["bdl"]);
    for (const r of allRules(g)) {
      if (r.include) expect(g.repository[r.include.replace(/^#/, "")], r.include).toBeDefined();
    }
  });

  it("uses only regexes that JavaScript and Oniguruma read alike", () => {
    const sources = allRules(g).flatMap((r) => [r.match, r.begin, r.end].filter((s): s is string => s !== undefined));
    expect(sources.length).toBeGreaterThan(10);
    for (const source of sources) {
      expect(() => new RegExp(source), source).not.toThrow();
      for (const bad of ONIGURUMA_ONLY) expect(source, `${source} uses ${bad}`).not.toMatch(bad);
    }
  });

  /** The scopes every character of the first occurrence of `text` on `line` has. */
  function scopesOf(line: string, text: string): string[] {
    const at = line.indexOf(text);
    if (at < 0) throw new Error(`${text} not in ${line}`);
    const scopes = tokenize(g, [line])[0]!.slice(at, at + text.length);
    return scopes[0]!.filter((s) => scopes.every((c) => c.includes(s)));
  }
  const lineWith = (lines: string[], text: string) => {
    const line = lines.find((l) => l.includes(text));
    if (!line) throw new Error(`no line with ${text}`);
    return line;
  };

  const example = read("test/fixtures/spec/example-2.bdl").split("\n");

  it("tokenizes the spec's example-2.bdl", () => {
    const scopes = tokenize(g, example);
    expect(scopes.length).toBe(example.length);

    const header = lineWith(example, "model grouped extends bert {");
    expect(scopesOf(header, "model")).toContain("keyword.other.bdl");
    expect(scopesOf(header, "grouped")).toContain("entity.name.type.model.bdl");
    expect(scopesOf(header, "extends")).toContain("keyword.other.bdl");
    expect(scopesOf(header, "bert")).toContain("entity.other.inherited-class.bdl");
    expect(scopesOf(header, "{")).toContain("punctuation.section.block.begin.bdl");

    const comment = lineWith(example, "// ALBERT-style");
    expect(scopesOf(comment, comment)).toContain("comment.line.double-slash.bdl");
    const trailing = lineWith(example, "positions 512");
    expect(scopesOf(trailing, "// learned absolute positions")).toContain("comment.line.double-slash.bdl");
    expect(scopesOf(trailing, "positions")).toContain("support.type.property-name.bdl");
    expect(scopesOf(trailing, "512")).toContain("constant.numeric.bdl");

    const imp = lineWith(example, "import");
    expect(scopesOf(imp, "import")).toContain("keyword.other.bdl");
    expect(scopesOf(imp, '"bert.bdl"')).toContain("string.quoted.double.bdl");

    const teacher = lineWith(example, "teacher bert from");
    expect(scopesOf(teacher, "teacher")).toContain("keyword.other.bdl");
    expect(scopesOf(teacher, "bert")).toContain("entity.name.type.model.bdl");
    expect(scopesOf(teacher, "from")).toContain("keyword.other.bdl");
    expect(scopesOf(teacher, '"checkpoints/bert-base"')).toContain("string.quoted.double.bdl");
    expect(scopesOf(teacher, "// a model name")).toContain("comment.line.double-slash.bdl");

    const train = lineWith(example, "optimizer adamw");
    expect(scopesOf(train, "1e-6")).toContain("constant.numeric.bdl");
    expect(scopesOf(train, "5e-4")).toContain("constant.numeric.bdl");
    expect(scopesOf(train, "adamw")).toContain("constant.language.bdl");
    expect(scopesOf(train, "weight_decay")).toContain("support.type.property-name.bdl");

    const expectLine = lineWith(example, "expect params 19M");
    expect(scopesOf(expectLine, "19M")).toContain("constant.numeric.quantity.bdl");
    expect(scopesOf(expectLine, "M")).toContain("keyword.other.unit.bdl");

    const group = lineWith(example, "group a layers 0..5");
    expect(scopesOf(group, "group")).toContain("keyword.other.bdl");
    expect(scopesOf(group, "layers")).toContain("keyword.other.bdl");
    expect(scopesOf(group, "0")).toContain("constant.numeric.bdl");
    expect(scopesOf(group, "..")).toContain("keyword.operator.range.bdl");
    expect(scopesOf(group, "5")).toContain("constant.numeric.bdl");
    expect(scopesOf(group, "attention")).toContain("constant.language.bdl");

    const ramp = lineWith(example, "rate 0.15 -> 0.40 over 100000");
    expect(scopesOf(ramp, "->")).toContain("keyword.operator.arrow.bdl");
    expect(scopesOf(ramp, "over")).toContain("keyword.other.bdl");

    const init = lineWith(example, "init layers [0, 2");
    expect(scopesOf(init, "[")).toContain("punctuation.section.brackets.begin.bdl");
    expect(scopesOf(init, ",")).toContain("punctuation.separator.comma.bdl");
    expect(scopesOf(lineWith(example, "init embeddings"), "embeddings")).toContain("constant.language.bdl");
    expect(scopesOf(lineWith(example, "embeddings {"), "embeddings")).toContain("storage.type.record.bdl");
  });

  it("scopes 1e-12, strings with escapes, and keywords only as whole words", () => {
    expect(scopesOf("  norm_eps 1e-12", "1e-12")).toContain("constant.numeric.bdl");
    expect(scopesOf("  norm_eps 1e-12", "norm_eps")).toContain("support.type.property-name.bdl");
    const str = 'import "a\\"b.bdl" // c';
    expect(scopesOf(str, '\\"')).toContain("constant.character.escape.bdl");
    expect(scopesOf(str, "// c")).toContain("comment.line.double-slash.bdl");
    expect(scopesOf(str, "b.bdl")).toContain("string.quoted.double.bdl");
    // An unterminated string ends with its line.
    expect(tokenize(g, ['import "open', "model x {"])[1]![0]).toContain("keyword.other.bdl");
    for (const name of ["models", "model-x", "bert-model", "over_all"]) {
      expect(scopesOf(`model ${name} extends x`, name)).toContain("entity.name.type.model.bdl");
      expect(scopesOf(`  ${name} 1`, name)).toEqual(["source.bdl"]);
    }
  });

  it("scopes every property name of the schema and the value words", () => {
    const keys = new Set([
      ...Object.keys(schema.MODEL_PROPERTIES),
      ...Object.values(schema.RECORDS).flatMap((r) => Object.keys(r)),
      ...Object.values(schema.OBJECTIVES).flatMap((o) => Object.keys(o)),
      ...schema.EXPECT_KEYS,
    ]);
    keys.delete("layers"); // a keyword (`group a layers 0..5`) as well as a model property
    for (const key of keys) expect(scopesOf(`  ${key} 1`, key), key).toContain("support.type.property-name.bdl");
    for (const record of Object.keys(schema.RECORDS)) {
      expect(scopesOf(`  ${record} { }`, record), record).toContain("storage.type.record.bdl");
    }
    const words = [
      ..."gelu gelu_new relu silu post pre plain gated true false tanh none all token word ngram span static dynamic adamw lamb adam linear cosine constant".split(
        " ",
      ),
      ...schema.TOKENIZERS,
      ...schema.SHARED_PARTS,
      ...schema.SHARING_MODES,
      ...Object.keys(schema.OBJECTIVES),
      "embeddings",
    ];
    for (const word of words) expect(scopesOf(`  x ${word}`, word), word).toContain("constant.language.bdl");
    for (const kw of tokens.KEYWORDS) {
      const word = kw.LABEL!.slice(1, -1);
      expect(scopesOf(`  ${word} `, word), word).toContain("keyword.other.bdl");
    }
  });
});
