/** What the main area shows, and the small view helpers every component shares. */
import type { AlbumInfo, Box, PersonInfo, PlaceCount, SearchHit, SearchRequest } from '../../../main/contract/api.js';

export type View =
  | { readonly kind: 'search'; readonly request: SearchRequest; readonly title: string }
  | { readonly kind: 'album'; readonly album: AlbumInfo }
  | { readonly kind: 'suggestions'; readonly category: string; readonly hits: SearchHit[] }
  /** Everyone the face stage found, and faces to confirm. */
  | { readonly kind: 'people' }
  /** One person's photos. */
  | { readonly kind: 'person'; readonly person: PersonInfo }
  /** Where the photos were taken: countries, or one country's places. */
  | { readonly kind: 'places'; readonly country: PlaceCount | null }
  /** The photos on a map: the library's, or a search's (its filters place the markers; an area drawn narrows it). */
  | { readonly kind: 'map'; readonly request: SearchRequest | null; readonly title: string | null };

/** Views that show something other than a grid of photos. */
export function isBrowser(v: View): boolean {
  return v.kind === 'people' || v.kind === 'places' || v.kind === 'map';
}

/**
 * A face's square, as fractions of its photo: the face box enlarged and squared in pixels (the
 * photo's width and height as displayed), kept inside the photo.
 */
export function faceSquare(box: Box, width: number, height: number, enlarge = 1.6): Box {
  const w = Math.max(1, width);
  const h = Math.max(1, height);
  const side = Math.min(w, h, enlarge * Math.max(box.w * w, box.h * h));
  const cx = (box.x + box.w / 2) * w;
  const cy = (box.y + box.h / 2) * h;
  const x = Math.min(Math.max(0, cx - side / 2), w - side);
  const y = Math.min(Math.max(0, cy - side / 2), h - side);
  return { x: x / w, y: y / h, w: side / w, h: side / h };
}

/** The drag payload of selected photos (their ids as JSON), from the grid onto an album. */
export const DRAG_MIME = 'application/x-loupe-photos';

/** A path's last part (a file or folder name), whichever separator it uses. */
export function baseName(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

export function viewTitle(v: View): string {
  if (v.kind === 'album') return v.album.name;
  if (v.kind === 'suggestions') return `Suggested for “${v.category}”`;
  if (v.kind === 'people') return 'People';
  if (v.kind === 'person') return v.person.name ?? 'Someone without a name yet';
  if (v.kind === 'places') return v.country ? v.country.name : 'Places';
  if (v.kind === 'map') return v.title ? `${v.title} on the map` : 'Map';
  return v.title;
}

/** Whether the view ranks by a query (rather than browsing). */
export function isQuery(v: View): boolean {
  return v.kind === 'search' && Boolean(v.request.text || v.request.photo || v.request.region);
}

/** The photo ids carried by a drop, or none. */
export function droppedIds(e: DragEvent): number[] {
  const raw = e.dataTransfer?.getData(DRAG_MIME);
  if (!raw) return [];
  try {
    return (JSON.parse(raw) as unknown[]).filter((x): x is number => Number.isInteger(x));
  } catch {
    return [];
  }
}

/** A video moment or length as m:ss (h:mm:ss past an hour). */
export function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
