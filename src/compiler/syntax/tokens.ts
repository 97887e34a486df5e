/**
 * Tokens of the `.bdl` language.
 *
 * Keywords are few: only words that start a construct with its own shape. Property names
 * (`vocab`, `rate`, `lr`, …) are plain identifiers checked against the schema, so a
 * misspelt one gets "did you mean" instead of a syntax error, and adding a property
 * needs no grammar change.
 *
 * Two token categories let keywords double as names where that is unambiguous:
 * `Word` (any identifier or keyword: model names, values such as `none`) and
 * `Key` (identifiers plus `layers`, which is both a keyword and a model property).
 */
import { createToken, Lexer, type TokenType } from "chevrotain";

export const Word = createToken({ name: "Word", pattern: Lexer.NA });
export const Key = createToken({ name: "Key", pattern: Lexer.NA });

// Identifiers may contain inner hyphens (`bert-mini`); a hyphen must be followed by a
// letter or digit so that `x->y` still lexes the arrow.
/** One character of an identifier after its first (a regular-expression character class). */
export const IDENTIFIER_CHAR = "[A-Za-z0-9_]";
const IDENTIFIER_SOURCE = `[A-Za-z_]${IDENTIFIER_CHAR}*(?:-${IDENTIFIER_CHAR}+)*`;
/** What continues an identifier: a word ends only where neither follows. */
const IDENTIFIER_GOES_ON = `${IDENTIFIER_CHAR}|-${IDENTIFIER_CHAR}`;

/** A whole text that lexes as one identifier: a model name or property key written bare. */
export const IDENTIFIER = new RegExp(`^${IDENTIFIER_SOURCE}$`);

export const Identifier = createToken({
  name: "Identifier",
  pattern: new RegExp(IDENTIFIER_SOURCE),
  categories: [Word, Key],
});

function keyword(word: string, extraCategories: TokenType[] = []): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    label: `'${word}'`,
    pattern: new RegExp(`${word}(?!${IDENTIFIER_GOES_ON})`),
    longer_alt: Identifier,
    categories: [Word, ...extraCategories],
  });
}

export const Import = keyword("import");
export const Model = keyword("model");
export const Extends = keyword("extends");
export const Sharing = keyword("sharing");
export const Group = keyword("group");
export const Layers = keyword("layers", [Key]);
export const Share = keyword("share");
export const Objectives = keyword("objectives");
export const Off = keyword("off");
export const Teacher = keyword("teacher");
export const From = keyword("from");
export const Init = keyword("init");
export const Expect = keyword("expect");
export const Tokenizer = keyword("tokenizer");
export const Lowercase = keyword("lowercase");
export const Over = keyword("over");

export const KEYWORDS = [
  Import,
  Model,
  Extends,
  Sharing,
  Group,
  Layers,
  Share,
  Objectives,
  Off,
  Teacher,
  From,
  Init,
  Expect,
  Tokenizer,
  Lowercase,
  Over,
] as const;

/** `19M`, `1.5K`, `2B`: a count with a scale suffix (thousand, million, billion). */
export const Quantity = createToken({
  name: "Quantity",
  label: "count such as 19M",
  pattern: new RegExp(`\\d+(?:\\.\\d+)?[KMB](?!${IDENTIFIER_CHAR})`),
});
// `0..11` must lex as 0, `..`, 11: the fraction part needs a digit after the dot.
export const NumberLiteral = createToken({
  name: "NumberLiteral",
  label: "number",
  pattern: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
});
export const StringLiteral = createToken({
  name: "StringLiteral",
  label: "string",
  // Unrolled (a run of plain characters, then escapes each followed by a run): a
  // per-character alternation recurses in the regex engine and overflows on long strings.
  pattern: /"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"/,
});
/** A string that runs to the end of the line: reported, then parsed as if it were closed. */
export const UnterminatedString = createToken({
  name: "UnterminatedString",
  label: "string",
  pattern: /"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*/,
  categories: [StringLiteral],
});

export const LBrace = createToken({ name: "LBrace", label: "'{'", pattern: /\{/ });
export const RBrace = createToken({ name: "RBrace", label: "'}'", pattern: /\}/ });
export const LBracket = createToken({ name: "LBracket", label: "'['", pattern: /\[/ });
export const RBracket = createToken({ name: "RBracket", label: "']'", pattern: /\]/ });
export const Comma = createToken({ name: "Comma", label: "','", pattern: /,/ });
export const DotDot = createToken({ name: "DotDot", label: "'..'", pattern: /\.\./ });
export const Arrow = createToken({ name: "Arrow", label: "'->'", pattern: /->/ });

export const Comment = createToken({ name: "Comment", pattern: /\/\/[^\r\n]*/, group: "comments" });
export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v\u00a0\ufeff]+/, group: Lexer.SKIPPED });

/** Order matters: comments before anything, keywords before Identifier, Quantity before Number, Arrow before Number. */
export const allTokens: TokenType[] = [
  WhiteSpace,
  Comment,
  ...KEYWORDS,
  Identifier,
  Word,
  Key,
  Quantity,
  Arrow,
  NumberLiteral,
  StringLiteral,
  UnterminatedString,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Comma,
  DotDot,
];
