/**
 * What the renderer is served with, wherever it is served from (the HTTP bridge, Electron's
 * loupe://app scheme): its content types, its Content-Security-Policy, and the one refusal of
 * addresses that try to step out of its folder.
 */

/** The renderer's file types; anything else is not a renderer file. */
export const RENDERER_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
};

/** The renderer's policy: its own scripts and styles only; pictures also from `imgSources`. */
export function contentSecurityPolicy(imgSources: string, mediaSources = ''): string {
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self'", `img-src 'self' ${imgSources}`, `media-src 'self'${mediaSources ? ` ${mediaSources}` : ''}`, "connect-src 'self'",
    "font-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Dot segments and encoded separators never name anything Loupe serves: refused on the raw
 * address, before URL parsing folds them away.
 */
export function hasUnsafeSegments(address: string): boolean {
  return /(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\/i.test(address.split(/[?#]/)[0]!);
}
