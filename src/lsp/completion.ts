/**
 * Completion of property names per block and of the words a property accepts. The block
 * the cursor is in is found by the compiler's own lexer on the text before the cursor (the
 * parser cannot help: the text being typed is, by nature, not yet a valid file), and what
 * each block accepts is read off the schema.
 */
import type { IToken } from "chevrotain";
import { CompletionItemKind, MarkupKind, type CompletionItem } from "vscode-languageserver";
import {
  EXPECT_KEYS,
  MEMBER_NAMES,
  MODEL_PROPERTIES,
  OBJECTIVES,
  ownEntry,
  RECORDS,
  SHARED_PARTS,
  SHARING_MODES,
  TEACHER_INITS,
  TOKENIZERS,
  type Property,
} from "../compiler/semantics/schema.js";
import { tokenize } from "../compiler/syntax/lexer.js";
import { LBrace, RBrace, UnterminatedString, Word } from "../compiler/syntax/tokens.js";
import { describeProperty, valueWords } from "./schema-docs.js";
import type { Analysis } from "./workspace.js";

/** Where the cursor is: the innermost open block (its first word: `model`, `embeddings`, …; null at top level) and the word before it. */
interface Context {
  block: string | null;
  /** The last complete token before the cursor on the cursor's line, and the one before that. */
  previous: IToken | undefined;
  beforePrevious: IToken | undefined;
}

export function complete(analysis: Analysis, offset: number): CompletionItem[] {
  const text = analysis.document.getText().slice(0, offset);
  const context = contextAt(text, analysis.path);
  if (!context) return [];
  const prev = context.previous && isWord(context.previous) ? context.previous.image : undefined;
  const models = [...analysis.checked.program.models.keys()];
  switch (context.block) {
    case null:
      // Any model in scope but the one being declared (`model m extends |`).
      if (prev === "extends")
        return words(
          models.filter((m) => m !== context.beforePrevious?.image),
          CompletionItemKind.Class,
          "a model in scope",
        );
      if (prev === undefined) return words(["model", "import"], CompletionItemKind.Keyword, "");
      return [];
    case "model":
      return modelBody(prev, context.beforePrevious?.image, models);
    case "objectives":
      return objectivesBlock(prev);
    case "sharing":
      if (prev === "share" || (prev !== undefined && (SHARED_PARTS as readonly string[]).includes(prev)))
        return words(SHARED_PARTS, CompletionItemKind.EnumMember, "a shareable sublayer");
      return prev === undefined ? words(["group"], CompletionItemKind.Keyword, "group NAME layers A..B share PARTS") : [];
    case "teacher":
      if (prev === "init") return words(TEACHER_INITS, CompletionItemKind.EnumMember, "what to copy from the teacher");
      return prev === undefined ? words(["init"], CompletionItemKind.Keyword, "init layers [...] | init embeddings") : [];
    default: {
      const record = ownEntry<Readonly<Record<string, Property>>>(RECORDS, context.block);
      return record ? propertiesOrValues(record, context.block + ".", prev) : [];
    }
  }
}

function modelBody(prev: string | undefined, beforePrev: string | undefined, models: string[]): CompletionItem[] {
  if (prev === "teacher") return words(models, CompletionItemKind.Class, "a model in scope");
  if (prev === "tokenizer") return words(TOKENIZERS, CompletionItemKind.EnumMember, "a tokenizer");
  if (beforePrev === "tokenizer") return words(["lowercase"], CompletionItemKind.Keyword, "lowercase the text first");
  if (prev === "sharing") return words(SHARING_MODES, CompletionItemKind.EnumMember, "or a block: sharing { group … }");
  if (prev === "expect") return words(EXPECT_KEYS, CompletionItemKind.EnumMember, "an expectation");
  if (prev !== undefined && MEMBER_NAMES.includes(prev)) {
    const p = ownEntry<Property>(MODEL_PROPERTIES, prev);
    return p ? values(p) : [];
  }
  return [
    ...properties(MODEL_PROPERTIES, ""),
    ...Object.entries(RECORDS).map(([name, record]) => block(name, `${name} { ${Object.keys(record).join(" ")} }`)),
    block("objectives", `objectives { ${Object.keys(OBJECTIVES).join(" ")} }`),
    block("sharing", "sharing all | sharing none | sharing { group … }"),
    block("teacher", 'teacher MODEL [from "checkpoint"] { init … }'),
    block("tokenizer", `tokenizer ${TOKENIZERS.join(" | ")} [lowercase]`),
    block("expect", `expect ${EXPECT_KEYS.join(" | ")} COUNT`),
  ];
}

function objectivesBlock(prev: string | undefined): CompletionItem[] {
  const options = prev === undefined ? undefined : ownEntry<Readonly<Record<string, Property>>>(OBJECTIVES, prev);
  if (options) {
    return [...properties(options, `objectives.${prev}.`), ...words(["off"], CompletionItemKind.Keyword, "remove an inherited objective")];
  }
  // After an option's name comes its number.
  if (prev !== undefined && Object.values(OBJECTIVES).some((o) => Object.hasOwn(o, prev))) return [];
  return Object.keys(OBJECTIVES).map((name) => ({
    label: name,
    kind: CompletionItemKind.Module,
    detail: `objective; options: ${Object.keys(ownEntry(OBJECTIVES, name)!).join(", ")}`,
  }));
}

function propertiesOrValues(schema: Readonly<Record<string, Property>>, prefix: string, prev: string | undefined): CompletionItem[] {
  const p = prev === undefined ? undefined : ownEntry(schema, prev);
  return p ? values(p) : properties(schema, prefix);
}

function properties(schema: Readonly<Record<string, Property>>, prefix: string): CompletionItem[] {
  return Object.entries(schema).map(([key, p]) => ({
    label: key,
    kind: CompletionItemKind.Property,
    detail: p.type.describe,
    documentation: { kind: MarkupKind.Markdown, value: `\`${prefix}${key}\`: ${describeProperty(prefix + key, p)}` },
  }));
}

function values(p: Property): CompletionItem[] {
  return words(valueWords(p.type), CompletionItemKind.EnumMember, p.type.describe);
}

function block(label: string, detail: string): CompletionItem {
  return { label, kind: CompletionItemKind.Struct, detail };
}

function words(list: readonly string[], kind: CompletionItemKind, detail: string): CompletionItem[] {
  return list.map((label) => (detail ? { label, kind, detail } : { label, kind }));
}

function isWord(t: IToken): boolean {
  return t.tokenType === Word || (t.tokenType.CATEGORIES ?? []).includes(Word);
}

/**
 * Lexes the text before the cursor and follows its braces. Null where nothing should be
 * offered: inside a comment or a string.
 */
function contextAt(text: string, filePath: string): Context | null {
  const { tokens, comments } = tokenize({ path: filePath, text });
  const lastComment = comments.at(-1);
  // A comment runs to the end of its line: one that reaches the cursor holds it.
  if (lastComment && lastComment.endOffset! + 1 >= text.length) return null;
  let last = tokens.at(-1);
  // A string still open at the cursor (an import's path being typed) runs to the end of the text.
  if (last && last.tokenType === UnterminatedString) return null;
  // The word being typed is what completion replaces, not context.
  if (last && isWord(last) && last.endOffset! + 1 === text.length) tokens.pop();
  const stack: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.tokenType === LBrace) stack.push(blockOwner(tokens, i));
    else if (t.tokenType === RBrace) stack.pop();
  }
  last = tokens.at(-1);
  const cursorLine = text.split("\n").length;
  const sameLine = last !== undefined && last.startLine === cursorLine && last.tokenType !== LBrace && last.tokenType !== RBrace;
  const before = tokens.at(-2);
  return {
    block: stack.at(-1) ?? null,
    previous: sameLine ? last : undefined,
    beforePrevious: sameLine && before && before.startLine === cursorLine ? before : undefined,
  };
}

/**
 * The first word of the statement a `{` ends: the statement starts after the previous
 * brace, or at the first token of the brace's line, whichever is later
 * (`model x extends y {` → model, `  embeddings {` → embeddings, `teacher t from "c" {` → teacher).
 */
function blockOwner(tokens: readonly IToken[], brace: number): string {
  const line = tokens[brace]!.startLine;
  let start = brace;
  while (start > 0) {
    const t = tokens[start - 1]!;
    if (t.tokenType === LBrace || t.tokenType === RBrace || t.startLine !== line) break;
    start--;
  }
  return start < brace ? tokens[start]!.image : "";
}
