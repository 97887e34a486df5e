/** Source text → tokens, comments, and lexical diagnostics. */
import { Lexer, type IToken } from "chevrotain";
import { Diag, diagnostic, type Diagnostic } from "./diagnostics.js";
import { spanOf, type Source } from "./source.js";
import { allTokens, UnterminatedString } from "./tokens.js";

const lexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });

export interface LexResult {
  tokens: IToken[];
  comments: IToken[];
  diagnostics: Diagnostic[];
}

export function tokenize(source: Source): LexResult {
  const result = lexer.tokenize(source.text);
  const diagnostics: Diagnostic[] = [];
  for (const e of result.errors) {
    const ch = source.text.slice(e.offset, e.offset + e.length);
    const shown = ch.length > 20 ? ch.slice(0, 20) + "…" : ch;
    diagnostics.push(diagnostic(Diag.UnexpectedCharacter, spanOf(source, e.offset, e.offset + e.length), [JSON.stringify(shown)]));
  }
  for (const t of result.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(diagnostic(Diag.UnterminatedString, spanOf(source, t.startOffset, t.endOffset! + 1)));
    }
  }
  return { tokens: result.tokens, comments: (result.groups["comments"] as IToken[] | undefined) ?? [], diagnostics };
}
