/**
 * Street tiles for the map: only when the user turns them on (Preferences.onlineMap), from
 * OpenStreetMap's tile servers (or `LOUPE_TILE_URL`'s, a mirror or a test's). The window's
 * Content-Security-Policy lets pictures come from that origin then, and never otherwise.
 */

export const DEFAULT_TILES = 'https://tile.openstreetmap.org/{z}/{x}/{y}.png';

/** A tile template's origin (what the CSP names), or null where it is not an http(s) URL with {z}, {x} and {y}. */
export function tileOrigin(template: string): string | null {
  if (!['{z}', '{x}', '{y}'].every((p) => template.includes(p))) return null;
  try {
    const u = new URL(template.replace(/\{[zxy]\}/g, '0'));
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : null;
  } catch {
    return null;
  }
}

/** One tile's address. */
export function tileUrl(template: string, z: number, x: number, y: number): string {
  return template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y));
}
