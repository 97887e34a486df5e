/** Source → AST: lexing, parsing with recovery, and CST → AST, with every syntax error found. */
import type { IToken } from "chevrotain";
import { EOF } from "chevrotain";
import type { FileNode } from "./ast.js";
import type { FileCstNode } from "./cst.js";
import { Diag, diagnostic, type Diagnostic } from "./diagnostics.js";
import { tokenize } from "./lexer.js";
import { parser } from "./parser.js";
import { spanOf, type Source, type Span } from "./source.js";
import { toAst } from "./to-ast.js";

export interface ParseResult {
  ast: FileNode;
  diagnostics: Diagnostic[];
}

/** Past this many syntax errors in one file the rest are summarised: they are echoes of the first ones. */
export const MAX_SYNTAX_ERRORS = 100;


export function parseSource(source: Source): ParseResult {
  const lexed = tokenize(source);
  parser.input = lexed.tokens;
  const cst = parser.file() as FileCstNode;
  const diagnostics = [...lexed.diagnostics];
  const errors = parser.errors;
  for (const e of errors.slice(0, MAX_SYNTAX_ERRORS)) {
    diagnostics.push(diagnostic(Diag.SyntaxError, errorSpan(source, e.token, previousToken(e)), [e.message]));
  }
  if (errors.length > MAX_SYNTAX_ERRORS) {
    const last = errors[MAX_SYNTAX_ERRORS]!;
    diagnostics.push(
      diagnostic(Diag.SyntaxError, errorSpan(source, last.token, previousToken(last)), [
        `${errors.length - MAX_SYNTAX_ERRORS} more syntax errors not shown.`,
      ]),
    );
  }
  const { ast, diagnostics: incomplete } = toAst(cst, source, lexed.comments);
  return { ast, diagnostics: [...diagnostics, ...incomplete] };
}

function previousToken(e: object): IToken | undefined {
  return (e as { previousToken?: IToken }).previousToken;
}

/**
 * Where to point a syntax error: at the offending token, or — when that is the end of
 * the file or a token invented by recovery — just after the last real token.
 */
function errorSpan(source: Source, token: IToken, previous: IToken | undefined): Span {
  if (token.tokenType !== EOF && !Number.isNaN(token.startOffset) && !token.isInsertedInRecovery) {
    return spanOf(source, token.startOffset, (token.endOffset ?? token.startOffset) + 1);
  }
  if (previous && !Number.isNaN(previous.startOffset)) {
    const end = (previous.endOffset ?? previous.startOffset) + 1;
    return spanOf(source, end, end);
  }
  return spanOf(source, source.text.length, source.text.length);
}
