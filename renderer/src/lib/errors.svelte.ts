/** The one error the app shows, and the one wrapper every action runs in. */

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class Failures {
  message = $state<string | null>(null);

  fail(err: unknown): void {
    this.message = errorText(err);
  }

  dismiss(): void {
    this.message = null;
  }

  /** Runs an action; a failure is shown, not thrown (resolves to undefined then). */
  async attempt<T>(action: () => Promise<T>): Promise<T | undefined> {
    try {
      return await action();
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }
}

export const failures = new Failures();
