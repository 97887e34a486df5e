/**
 * A problem with what the user gave (a file, a flag's value, a model that does not fit) that is
 * theirs to fix. The CLI shows its message as one line and exits 1, as it does a usage error;
 * this file imports nothing, so the CLI's dispatcher can know the class without loading more.
 */
export class InputError extends Error {}
