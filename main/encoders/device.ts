/**
 * Execution providers: which onnxruntime provider a `--device` choice means on this platform, and
 * the order they are tried in. A requested provider that cannot start (not bundled, no driver,
 * no GPU) falls back to the CPU, and the reason is logged — indexing never stops for it.
 */
import type { Device, Provider } from '../contract/api.js';

export type { Device, Provider };

export { deviceChoices, DEVICES, isDevice } from '../contract/devices.js';


/** Providers to try, best first; the CPU is always last. */
export function providerOrder(device: Device, platform: NodeJS.Platform = process.platform): Provider[] {
  if (device === 'cpu') return ['cpu'];
  if (device !== 'auto') return [device, 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  if (platform === 'win32') return ['cuda', 'dml', 'cpu'];
  return ['cuda', 'cpu'];
}
