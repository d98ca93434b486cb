/**
 * The places stage: every indexed photo with a GPS is placed in the populated place it was taken
 * in (gazetteer.ts), once, and again only when its GPS changes; a photo with no GPS but a date is
 * placed "near" the place of the located photo taken closest in time to it in its directory, when
 * that is within a few hours (a burst, a day's walk), marked as inferred. Cheap: it runs in every
 * index run, before embedding.
 */
import { dirname } from 'node:path';
import type { Repos } from '../db/repos/index.js';
import type { LocatedInTime } from '../db/repos/places.js';
import { Gazetteer } from './gazetteer.js';

/** How far in time a photo without GPS may be from a located one in its folder to be placed near it. */
export const INFER_WITHIN_MS = 3 * 3600_000;

export interface PlacesSummary {
  /** Photos placed from their own GPS this pass, and those of them in no place (open sea). */
  readonly located: number;
  readonly nowhere: number;
  /** Photos without GPS placed near a neighbour in time, and those that lost such a place. */
  readonly inferred: number;
  readonly ms: number;
}

let shared: Gazetteer | null = null;

/** One gazetteer per process, loaded the first time a photo needs it. */
export function gazetteer(): Gazetteer {
  shared ??= Gazetteer.load();
  return shared;
}

/** The located photo nearest in time to `t` among `sorted` (by time), or null. */
function nearestInTime(sorted: readonly LocatedInTime[], t: number): LocatedInTime | null {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.takenAt < t) lo = mid + 1;
    else hi = mid;
  }
  const candidates = [sorted[lo - 1], sorted[lo]].filter((x): x is LocatedInTime => x !== undefined);
  return candidates.sort((a, b) => Math.abs(a.takenAt - t) - Math.abs(b.takenAt - t))[0] ?? null;
}

/** Places what needs placing; stops between batches when `signal` is aborted. */
export function placePhotos(repos: Repos, signal?: AbortSignal, places: () => Gazetteer = gazetteer): PlacesSummary {
  const started = Date.now();
  let located = 0;
  let nowhere = 0;
  for (;;) {
    if (signal?.aborted) break;
    const batch = repos.places.toLocate(500);
    if (batch.length === 0) break;
    const g = places();
    repos.transaction(() => {
      for (const p of batch) {
        const at = g.reverse(p.lat, p.lon);
        repos.places.setPlace(p.id, at, at?.distanceKm ?? null, false, p.lat, p.lon);
        located++;
        if (!at) nowhere++;
      }
    });
  }
  let inferred = 0;
  if (!signal?.aborted) {
    // Neighbours share a directory (a camera's card, a trip's folder); each list is in time order.
    const byDir = new Map<string, LocatedInTime[]>();
    for (const l of repos.places.locatedInTime()) {
      const list = byDir.get(dirname(l.path)) ?? [];
      list.push(l);
      byDir.set(dirname(l.path), list);
    }
    repos.transaction(() => {
      for (const p of repos.places.unlocatedInTime()) {
        const near = nearestInTime(byDir.get(dirname(p.path)) ?? [], p.takenAt);
        const place = near && Math.abs(near.takenAt - p.takenAt) <= INFER_WITHIN_MS ? repos.places.place(near.placeId) ?? null : null;
        if (place) {
          repos.places.setPlace(p.id, place, null, true, null, null);
          inferred++;
        } else repos.places.clearInferred(p.id);
      }
    });
  }
  return { located, nowhere, inferred, ms: Date.now() - started };
}
