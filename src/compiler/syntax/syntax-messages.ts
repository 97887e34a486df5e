/** Plain-sentence syntax error messages, in place of chevrotain's defaults. */
import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";

/** What each rule expects, for "expected … but found …" when no single token would do. */
const RULE_EXPECTS: Record<string, string> = {
  file: "'model' or 'import'",
  member: "a property, a block, or '}'",
  value: "a value (number, word, string or list)",
  layerSet: "layers (a number, a range such as 0..5, or a list)",
  count: "a count such as 19M or 110106428",
  sharingDecl: "'all', 'none' or '{' after 'sharing'",
  objective: "'off' or an option such as 'weight 1.0'",
  teacherInit: "'layers' or 'embeddings' after 'init'",
};

function describeToken(t: IToken): string {
  if (t.tokenType === EOF) return "end of file";
  const image = t.image.length > 30 ? t.image.slice(0, 30) + "…" : t.image;
  return `'${image}'`;
}

function tokenLabel(t: TokenType): string {
  return t.LABEL ?? t.name;
}

export const syntaxErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }) {
    return `Expected ${expected === EOF ? RULE_EXPECTS["file"] : tokenLabel(expected)} but found ${describeToken(actual)}.`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `Expected 'model' or 'import' but found ${describeToken(firstRedundant)}.`;
  },
  buildNoViableAltMessage({ actual, ruleName }) {
    return `Expected ${RULE_EXPECTS[ruleName] ?? ruleName} but found ${describeToken(actual[0]!)}.`;
  },
  buildEarlyExitMessage({ actual, ruleName, expectedIterationPaths }) {
    const first = expectedIterationPaths[0]?.[0];
    const what = first ? tokenLabel(first) : (RULE_EXPECTS[ruleName] ?? ruleName);
    return `Expected at least one ${what} but found ${describeToken(actual[0]!)}.`;
  },
};
