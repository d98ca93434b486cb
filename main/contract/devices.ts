/** Where models may be asked to run: part of the contract (Settings offers them, calls are checked against them). */
import type { Device } from './api.js';

export const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml'] as const satisfies readonly Device[];

export function isDevice(v: string): v is Device {
  return (DEVICES as readonly string[]).includes(v);
}

/** The choices that mean something on a platform (the ones onnxruntime-node ships providers for there). */
export function deviceChoices(platform: NodeJS.Platform = process.platform): Device[] {
  if (platform === 'darwin') return ['auto', 'cpu', 'coreml'];
  if (platform === 'win32') return ['auto', 'cpu', 'cuda', 'dml'];
  if (platform === 'linux') return ['auto', 'cpu', 'cuda'];
  return ['auto', 'cpu'];
}
