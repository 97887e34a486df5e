/**
 * The library's error classes whose every instance is about a user's input file (a Hugging Face
 * config or weights file, a checkpoint), and the wrapper that turns them into `InputError`s.
 * These modules do not load TensorFlow.js.
 */
import { CheckpointError } from "../runtime/checkpoint/checkpoint.js";
import { WeightsError } from "../runtime/checkpoint/hf-weights.js";
import { SafetensorsError } from "../runtime/checkpoint/safetensors.js";
import { HfConfigError } from "../model/hf/config.js";
import { InputError } from "./input-error.js";

export type ErrorClass = new (...args: never[]) => Error;

export const INPUT_FILE_ERRORS: readonly ErrorClass[] = [HfConfigError, WeightsError, SafetensorsError, CheckpointError];

/** Runs `fn`, turning an error of `kinds` into an `InputError` with the same message. */
export function asInputErrors<T>(fn: () => T, kinds: readonly ErrorClass[] = INPUT_FILE_ERRORS): T {
  try {
    return fn();
  } catch (e) {
    throw inputErrorOf(e, kinds);
  }
}

/** `e` as an `InputError` when it is one of `kinds`, else `e` itself (for a catch block to rethrow). */
export function inputErrorOf(e: unknown, kinds: readonly ErrorClass[]): unknown {
  return kinds.some((c) => e instanceof c) ? new InputError((e as Error).message) : e;
}
