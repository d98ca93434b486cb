/**
 * Errors the user can act on. Whatever throws one, every transport (HTTP bridge, the engine's
 * process, the CLI) shows its message as the answer and maps it the same way; anything else is a
 * failure of Loupe, logged and reported as such.
 */
import { asError } from '../util/errors.js';

/** Whose failure it is: a call refused before the engine saw it, the user's to act on, or Loupe's own. */
export type FailureKind = 'call' | 'user' | 'internal';

export class UserError extends Error {
  /**
   * @param status the HTTP status the bridge answers with: 422 by default (the call was well formed,
   * the library cannot do it), 400 for a malformed call, 404 for a picture that is not there.
   */
  constructor(message: string, readonly status: number = 422, readonly kind: Exclude<FailureKind, 'internal'> = 'user') {
    super(message);
    this.name = new.target.name;
  }
}

/** A call refused before it reached the engine: unknown method, arguments that fail the schema. */
export class CallError extends UserError {
  constructor(message: string) {
    super(message, 400, 'call');
  }
}

export interface Failure {
  readonly message: string;
  readonly kind: FailureKind;
  /** The HTTP status a transport answers with. */
  readonly status: number;
}

/** What a transport answers for anything thrown by a call. */
export function failureOf(err: unknown): Failure {
  const e = asError(err);
  if (e instanceof UserError) return { message: e.message, kind: e.kind, status: e.status };
  return { message: e.message, kind: 'internal', status: 500 };
}

/**
 * Loupe's own storage failed (the library folder: read-only, full, gone): not the photo's fault
 * nor the user's mistake, so nothing is recorded against a photo and the run stops with this.
 */
export class StorageError extends UserError {
  constructor(
    readonly path: string,
    cause: unknown,
    advice = 'Photos not yet indexed stay waiting; free space or fix the folder, then index again',
  ) {
    const code = (cause as NodeJS.ErrnoException | null)?.code;
    const why = code === 'ENOSPC' ? 'the disk is full' : code === 'EROFS' ? 'the disk is read-only'
      : code === 'EACCES' || code === 'EPERM' ? 'Loupe may not write there' : (cause instanceof Error ? cause.message : String(cause));
    super(`cannot write to the library folder at ${path}: ${why}. ${advice}`, 507);
  }
}

/** A change asked of a library opened read-only (it is on a read-only disk): searching works, saving does not. */
export class ReadOnlyLibraryError extends UserError {
  constructor(readonly library: string) {
    super(`the library at ${library} is open read-only (its disk cannot be written): search works, but nothing can be changed or indexed. ` +
      'Copy the library folder to a writable disk to change it', 409);
  }
}
