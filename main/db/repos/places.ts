/**
 * Places: the populated place each photo was taken in (places/stage.ts fills it from the GPS, or
 * infers it from photos taken beside it), and the Places browser's counts.
 */
import type { PlaceCount } from '../../contract/api.js';
import { Repo } from './repo.js';

/** A place as stored: a populated place of the gazetteer, with its folded keys for matching. */
export interface PlaceRecord {
  readonly id: number;
  readonly name: string;
  readonly region: string | null;
  readonly countryCode: string;
  readonly country: string;
  readonly lat: number;
  readonly lon: number;
}

/** Lower case, accents off, spaces folded: "Reykjavík" and "reykjavik" are one key. */
export function placeKey(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export interface PhotoToPlace {
  readonly id: number;
  readonly lat: number;
  readonly lon: number;
}

export interface PhotoInTime {
  readonly id: number;
  /** Its path: photos are neighbours in the directory they are in. */
  readonly path: string;
  readonly takenAt: number;
}

export interface LocatedInTime extends PhotoInTime {
  readonly placeId: number;
}

export interface PhotoPlace extends PlaceRecord {
  readonly distanceKm: number | null;
  readonly inferred: boolean;
}

export class PlacesRepo extends Repo {
  /** Indexed photos with a GPS that no place was looked up for, or whose GPS changed since. */
  toLocate(limit: number): PhotoToPlace[] {
    return this.all(`SELECT p.id, p.gps_lat AS lat, p.gps_lon AS lon FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id
      WHERE p.state = 'ok' AND p.gps_lat IS NOT NULL AND p.gps_lon IS NOT NULL
        AND (pp.photo_id IS NULL OR pp.inferred = 1 OR pp.lat IS NOT p.gps_lat OR pp.lon IS NOT p.gps_lon)
      ORDER BY p.id LIMIT ?`, limit);
  }

  /** Stores a place (once) and where a photo is; `place` null: the photo is in no place. */
  setPlace(
    photoId: number, place: PlaceRecord | null, distanceKm: number | null, inferred: boolean, lat: number | null, lon: number | null,
  ): void {
    if (place) {
      this.run(`INSERT INTO places (id, name, name_key, region, region_key, country_code, country, country_key, lat, lon)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
      place.id, place.name, placeKey(place.name), place.region, place.region === null ? null : placeKey(place.region),
      place.countryCode, place.country, placeKey(place.country), place.lat, place.lon);
    }
    this.run(`INSERT INTO photo_places (photo_id, place_id, distance_km, inferred, lat, lon) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(photo_id) DO UPDATE SET place_id = excluded.place_id, distance_km = excluded.distance_km, inferred = excluded.inferred,
        lat = excluded.lat, lon = excluded.lon`, photoId, place?.id ?? null, distanceKm, inferred ? 1 : 0, lat, lon);
  }

  /** Indexed photos with no GPS but a date, and no place of their own: the ones a neighbour in time may place. */
  unlocatedInTime(): PhotoInTime[] {
    return this.all(`SELECT p.id, p.path, p.taken_at_ms AS takenAt FROM photos p LEFT JOIN photo_places pp ON pp.photo_id = p.id
      WHERE p.state = 'ok' AND (p.gps_lat IS NULL OR p.gps_lon IS NULL) AND p.taken_at_ms IS NOT NULL
        AND (pp.photo_id IS NULL OR pp.inferred = 1) ORDER BY p.taken_at_ms`);
  }

  /** Photos placed by their own GPS, with their dates, by folder and time. */
  locatedInTime(): LocatedInTime[] {
    return this.all(`SELECT p.id, p.path, p.taken_at_ms AS takenAt, pp.place_id AS placeId FROM photos p
      JOIN photo_places pp ON pp.photo_id = p.id
      WHERE p.state = 'ok' AND pp.inferred = 0 AND pp.place_id IS NOT NULL AND p.taken_at_ms IS NOT NULL ORDER BY p.taken_at_ms`);
  }

  place(id: number): PlaceRecord | undefined {
    return this.one(`SELECT id, name, region, country_code AS countryCode, country, lat, lon FROM places WHERE id = ?`, id);
  }

  /** Takes an inferred place away (its neighbours moved on). */
  clearInferred(photoId: number): void {
    this.run('DELETE FROM photo_places WHERE photo_id = ? AND inferred = 1', photoId);
  }

  ofPhoto(photoId: number): PhotoPlace | null {
    const r = this.one<PlaceRecord & { distanceKm: number | null; inferred: number }>(`SELECT pl.id, pl.name, pl.region, pl.country_code AS countryCode,
      pl.country, pl.lat, pl.lon, pp.distance_km AS distanceKm, pp.inferred FROM photo_places pp JOIN places pl ON pl.id = pp.place_id
      WHERE pp.photo_id = ?`, photoId);
    return r ? { ...r, inferred: r.inferred === 1 } : null;
  }

  /** The photos taken in a place, region or country (a folded name). */
  photosIn(key: string): number[] {
    return this.all<{ id: number }>(`SELECT pp.photo_id AS id FROM photo_places pp JOIN places pl ON pl.id = pp.place_id
      WHERE ? IN (pl.name_key, pl.region_key, pl.country_key, lower(pl.country_code)) ORDER BY pp.photo_id`, key).map((r) => r.id);
  }

  /** Whether a folded name is a place, region or country some photo is in. */
  known(key: string): boolean {
    return this.one(`SELECT 1 AS x FROM places pl WHERE (pl.name_key = ? OR pl.region_key = ? OR pl.country_key = ? OR lower(pl.country_code) = ?)
      AND EXISTS (SELECT 1 FROM photo_places pp WHERE pp.place_id = pl.id) LIMIT 1`, key, key, key, key) !== undefined;
  }

  /** Every folded name (place, region, country) some photo is in: what a sentence may name. */
  knownKeys(): string[] {
    return this.all<{ k: string }>(`SELECT DISTINCT k FROM (
      SELECT pl.name_key AS k FROM places pl WHERE EXISTS (SELECT 1 FROM photo_places pp WHERE pp.place_id = pl.id)
      UNION SELECT pl.region_key FROM places pl WHERE pl.region_key IS NOT NULL AND EXISTS (SELECT 1 FROM photo_places pp WHERE pp.place_id = pl.id)
      UNION SELECT pl.country_key FROM places pl WHERE EXISTS (SELECT 1 FROM photo_places pp WHERE pp.place_id = pl.id))`).map((r) => r.k);
  }

  /** Countries with photos, most photos first, each with its most recent photo. */
  countries(): PlaceCount[] {
    return this.all(`SELECT pl.country AS name, NULL AS placeId, pl.country_code AS countryCode, NULL AS region, count(*) AS photos,
        (SELECT p2.id FROM photos p2 JOIN photo_places q ON q.photo_id = p2.id JOIN places l ON l.id = q.place_id
          WHERE l.country_code = pl.country_code AND p2.state = 'ok' ORDER BY p2.taken_at_ms DESC, p2.id DESC LIMIT 1) AS coverId
      FROM photo_places pp JOIN places pl ON pl.id = pp.place_id JOIN photos p ON p.id = pp.photo_id
      WHERE p.state = 'ok' AND p.companion_of IS NULL GROUP BY pl.country_code ORDER BY photos DESC, name`);
  }

  /** A country's places with photos, most photos first. */
  cities(countryCode: string): PlaceCount[] {
    return this.all(`SELECT pl.name, pl.id AS placeId, pl.country_code AS countryCode, pl.region, count(*) AS photos,
        (SELECT p2.id FROM photos p2 JOIN photo_places q ON q.photo_id = p2.id
          WHERE q.place_id = pl.id AND p2.state = 'ok' ORDER BY p2.taken_at_ms DESC, p2.id DESC LIMIT 1) AS coverId
      FROM photo_places pp JOIN places pl ON pl.id = pp.place_id JOIN photos p ON p.id = pp.photo_id
      WHERE p.state = 'ok' AND p.companion_of IS NULL AND pl.country_code = ? GROUP BY pl.id ORDER BY photos DESC, pl.name`, countryCode);
  }
}
