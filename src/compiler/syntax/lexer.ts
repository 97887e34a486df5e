/** Source text → tokens, comments, and lexical diagnostics. */
import { Lexer, type IToken } from "chevrotain";
import { Diag, diagnostic, type Diagnostic } from "../diagnostics.js";
import { spanOf, type Source } from "../source.js";
import { allTokens, UnterminatedString } from "./tokens.js";

const lexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });

/** Like syntax errors, lexical errors past the first hundred are summarised: junk input would flood the output. */
export const MAX_LEXICAL_ERRORS = 100;

export interface LexResult {
  tokens: IToken[];
  comments: IToken[];
  diagnostics: Diagnostic[];
}

export function tokenize(source: Source): LexResult {
  const result = lexer.tokenize(source.text);
  const problems: Diagnostic[] = [];
  for (const e of result.errors) {
    const ch = source.text.slice(e.offset, e.offset + e.length);
    const shown = ch.length > 20 ? ch.slice(0, 20) + "…" : ch;
    problems.push(diagnostic(Diag.UnexpectedCharacter, spanOf(source, e.offset, e.offset + e.length), [JSON.stringify(shown)]));
  }
  for (const t of result.tokens) {
    if (t.tokenType === UnterminatedString) {
      problems.push(diagnostic(Diag.UnterminatedString, spanOf(source, t.startOffset, t.endOffset! + 1)));
    }
  }
  problems.sort((a, b) => a.span.start - b.span.start);
  const diagnostics = problems.slice(0, MAX_LEXICAL_ERRORS);
  if (problems.length > MAX_LEXICAL_ERRORS) {
    const first = problems[MAX_LEXICAL_ERRORS]!;
    diagnostics.push(diagnostic(Diag.TooManyErrors, first.span, [`${problems.length - MAX_LEXICAL_ERRORS} more lexical errors not shown`]));
  }
  return { tokens: result.tokens, comments: (result.groups["comments"] as IToken[] | undefined) ?? [], diagnostics };
}
