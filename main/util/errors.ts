/** The text of anything thrown: an Error's message, or the value itself written out. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Anything thrown, as an Error (for stacks and instanceof checks). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
