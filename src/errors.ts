/**
 * The library's error types. Every failure a caller can cause (a bad shape, a bad setting, a corrupt file)
 * ends in one of these, with a stable `code` for programs and a message that names the problem for people.
 */

export class SparsegradError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Shapes that do not fit together; the message names every shape involved. */
export class ShapeError extends SparsegradError {
  constructor(message: string) {
    super('E_SHAPE', message);
  }
}

/** A typed array of the wrong kind, or mixed element types. */
export class DTypeError extends SparsegradError {
  constructor(message: string) {
    super('E_DTYPE', message);
  }
}

/** NaN or ±Infinity where finite numbers are required (inputs, losses, weights read from a file). */
export class NonFiniteError extends SparsegradError {
  constructor(message: string) {
    super('E_NON_FINITE', message);
  }
}

/** A setting outside its allowed range or an unknown name (sparsity, learning rate, criterion, ...). */
export class ConfigError extends SparsegradError {
  constructor(message: string) {
    super('E_CONFIG', message);
  }
}

/** A class label outside [0, numClasses), or a label count that does not match the batch. */
export class LabelError extends SparsegradError {
  constructor(message: string) {
    super('E_LABEL', message);
  }
}

/** An operation called in a state that does not allow it (backward twice, a frozen mask, ...). */
export class StateError extends SparsegradError {
  constructor(message: string) {
    super('E_STATE', message);
  }
}

/** The JavaScript engine lacks something a requested feature needs (WebAssembly SIMD for the wasm backend). */
export class UnsupportedError extends SparsegradError {
  constructor(message: string) {
    super('E_UNSUPPORTED', message);
  }
}

/**
 * A worker thread failed during a job: a kernel trapped or threw in it, it exited or was terminated, or it
 * stopped answering. The job's results are not to be used; the message names the worker and the cause.
 */
export class ThreadError extends SparsegradError {
  constructor(message: string) {
    super('E_THREAD', message);
  }
}

/** A broken sparse-matrix structure (row pointers, column indices, lengths). */
export class SparseFormatError extends SparsegradError {
  constructor(message: string) {
    super('E_SPARSE_FORMAT', message);
  }
}

/** A data file (IDX, built-in digits) that is truncated, has a wrong magic number or inconsistent sizes. */
export class DataFormatError extends SparsegradError {
  constructor(message: string) {
    super('E_DATA_FORMAT', message);
  }
}

/**
 * An output path the library will not write: a device, FIFO, socket or directory where a file should go, a
 * read-only file, a missing directory, or a symbolic link that the caller did not ask to follow.
 */
export class OutputPathError extends SparsegradError {
  constructor(message: string) {
    super('E_OUTPUT_PATH', message);
  }
}

/** A model file that cannot be trusted: truncated, malformed header, bad offsets, bad tensors. */
export class ModelFormatError extends SparsegradError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}
