/** JSON-lines files: one JSON object per non-blank line, each reported by `path:line`. */

export interface JsonLine {
  value: Record<string, unknown>;
  /** `path:line`, for messages. */
  at: string;
  /** 1-based line number. */
  line: number;
}

/**
 * The objects of `lines` (a whole text's lines, or a file's as it is read), in order.
 * `shape` says what each line must be, for the error message.
 */
export function* jsonObjects(lines: Iterable<string>, path: string, fail: (message: string) => Error, shape: string): Generator<JsonLine> {
  let i = -1;
  for (const raw of lines) {
    i++;
    const line = raw.trim();
    if (!line) continue;
    const at = `${path}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw fail(`${at}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw fail(`${at}: each line must be ${shape}, got ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`);
    }
    yield { value: value as Record<string, unknown>, at, line: i + 1 };
  }
}
