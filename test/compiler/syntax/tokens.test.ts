/** The identifier pattern other phases test names against is the one the lexer reads words with. */
import { tokenMatcher } from "chevrotain";
import { describe, expect, it } from "vitest";
import { tokenize } from "../../../src/compiler/syntax/lexer.js";
import { IDENTIFIER, Word } from "../../../src/compiler/syntax/tokens.js";

/** Whether `text` lexes as exactly one word (an identifier or a keyword) and nothing else. */
function lexesAsOneWord(text: string): boolean {
  const { tokens, diagnostics } = tokenize({ path: "t.bdl", text });
  return diagnostics.length === 0 && tokens.length === 1 && tokenMatcher(tokens[0]!, Word) && tokens[0]!.image === text;
}

describe("IDENTIFIER", () => {
  it.each([
    ["bert-mini", true],
    ["_private", true],
    ["a1-2b_c", true],
    ["model", true],
    ["layers", true],
    ["1bert", false],
    ["bert-", false],
    ["a--b", false],
    ["x->y", false],
    ["bert mini", false],
    ["bert.mini", false],
    ["", false],
  ])("%j: %s", (text, expected) => {
    expect(IDENTIFIER.test(text)).toBe(expected);
    expect(lexesAsOneWord(text)).toBe(expected);
  });
});
