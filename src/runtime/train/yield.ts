/**
 * A step loop's pause between steps. Tensor code runs synchronously, so without a pause
 * the event loop never runs while training: a Ctrl-C handler (signals arrive through the
 * event loop) would wait until the whole run ended.
 *
 * Signals are read in the event loop's poll phase. One `setImmediate` may run in the check
 * phase of the same loop iteration, right after a poll that happened before the signal came
 * (when the caller itself resumed from an I/O callback); a second one always runs one full
 * iteration later, after a poll that has seen it. Together they cost microseconds.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
