/**
 * Vitest global setup: unpacks the npm-shipped Chromium once, before the test files run in
 * parallel workers, so that no two of them unpack it into the same temporary folder at once.
 * A machine with no browser at all is reported by the end-to-end tests themselves.
 */
import { findBrowser } from '../helpers/browser.js';

export default async function setup(): Promise<void> {
  await findBrowser().catch(() => undefined);
}
