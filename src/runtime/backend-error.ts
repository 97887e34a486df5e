export class BackendError extends Error {}
