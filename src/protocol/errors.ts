// Structured errors shared by the engine, the worker protocol, the supervisor, the CLI and the extension.
// A LoupeError carries a stable code (for programs) and a message a user can act on (for people).

export const ERROR_CODES = [
  'FILE_NOT_FOUND',
  'NOT_ONNX',
  'MODEL_INVALID',
  'MODEL_LOAD_FAILED',
  'TOKENIZER_MISSING',
  'TOKENIZER_INVALID',
  'CONFIG_INVALID',
  'INPUT_UNFILLABLE',
  'EMPTY_INPUT',
  'BAD_REQUEST',
  'UNSUPPORTED',
  'INFERENCE_FAILED',
  'CANCELLED',
  'TIMEOUT',
  'WORKER_CRASHED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The plain-data form of an error, as it crosses a process boundary. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  /** The user's file the error is about, when there is one. */
  file?: string;
  /** Extra detail for logs (stack, stderr tail); not shown as the headline. */
  detail?: string;
}

export class LoupeError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, options: { file?: string; detail?: string; cause?: unknown } = {}) {
    super(message);
    this.name = 'LoupeError';
    this.code = code;
    this.file = options.file;
    this.detail = options.detail;
    if (options.cause !== undefined) {
      (this as { cause?: unknown }).cause = options.cause;
    }
  }

  toData(): ErrorData {
    const data: ErrorData = { code: this.code, message: this.message };
    if (this.file !== undefined) data.file = this.file;
    if (this.detail !== undefined) data.detail = this.detail;
    return data;
  }

  static fromData(data: ErrorData): LoupeError {
    return new LoupeError(data.code, data.message, { file: data.file, detail: data.detail });
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

export function isErrorData(value: unknown): value is ErrorData {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    isErrorCode(v.code) &&
    typeof v.message === 'string' &&
    (v.file === undefined || typeof v.file === 'string') &&
    (v.detail === undefined || typeof v.detail === 'string')
  );
}

/** Turns anything thrown into a LoupeError, keeping codes that are already there. */
export function toLoupeError(error: unknown, fallbackCode: ErrorCode = 'INTERNAL'): LoupeError {
  if (error instanceof LoupeError) return error;
  if (error instanceof Error) {
    return new LoupeError(fallbackCode, error.message, { detail: error.stack, cause: error });
  }
  return new LoupeError(fallbackCode, String(error));
}
