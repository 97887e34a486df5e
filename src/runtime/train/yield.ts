/**
 * A step loop's pause between steps. Tensor code runs synchronously, so without a pause
 * the event loop never runs while training: a Ctrl-C handler (signals arrive through the
 * event loop) would wait until the whole run ended. `setImmediate` lets pending I/O and
 * signal callbacks run, and costs microseconds next to a step.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
