export class BackendError extends Error {}

/** The backend's tensor memory cannot hold what the model needs: the user's to fix (a smaller batch or model). */
export class TensorMemoryError extends Error {}
