/** Where models may be asked to run: part of the contract (Settings offers them, calls are checked against them). */
import type { Device } from './api.js';

export const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml'] as const satisfies readonly Device[];

export function isDevice(v: string): v is Device {
  return (DEVICES as readonly string[]).includes(v);
}
