/** The map's arithmetic (renderer/src/lib/map.ts): projection, zoom about the cursor, panning, drawn areas, clustering by zoom. */
import { describe, expect, it } from 'vitest';
import { areaOf, cluster, MAX_LAT, padded, panBy, project, tilesFor, unproject, worldView, zoomAt } from '../../renderer/src/lib/map.js';

const LISBON = [38.7071, -9.1355] as const;
const CASCAIS = [38.6979, -9.4215] as const;
const TOKYO = [35.6762, 139.6503] as const;
const points = (...at: (readonly [number, number])[]): { ids: number[]; lats: number[]; lons: number[] } =>
  ({ ids: at.map((_, i) => i + 1), lats: at.map((p) => p[0]), lons: at.map((p) => p[1]) });

describe('the map', () => {
  it('projects and unprojects the same point, and fits the world in the view', () => {
    const v = worldView(1000, 500);
    const [x, y] = project(v, LISBON[1], LISBON[0]);
    const [lon, lat] = unproject(v, x, y);
    expect(lon).toBeCloseTo(LISBON[1], 9);
    expect(lat).toBeCloseTo(LISBON[0], 9);
    expect(project(v, -180, 0)[0]).toBeGreaterThanOrEqual(0);
    expect(project(v, 180, 0)[0]).toBeLessThanOrEqual(1000);
  });

  it('zooms about the cursor: the place under it stays under it', () => {
    const v = worldView(1000, 500);
    const [x, y] = project(v, TOKYO[1], TOKYO[0]);
    const z = zoomAt(v, 8, x, y);
    const [x2, y2] = project(z, TOKYO[1], TOKYO[0]);
    expect(z.zoom).toBeCloseTo(v.zoom * 8, 9);
    expect(x2).toBeCloseTo(x, 6);
    expect(y2).toBeCloseTo(y, 6);
    // Never out past the whole world.
    expect(zoomAt(v, 0.01, 500, 250).zoom).toBeCloseTo(v.zoom, 9);
  });

  it('pans with the drag and keeps longitudes on the world', () => {
    const v = zoomAt(worldView(1000, 500), 4, 500, 250);
    const moved = panBy(v, 100, 0);
    expect(moved.lon).toBeCloseTo(v.lon - 100 / v.zoom, 9);
    const round = panBy(v, -360 * v.zoom, 0);
    expect(round.lon).toBeCloseTo(v.lon, 6);
  });

  it('turns a drawn rectangle into the area it covers, whichever way it was drawn', () => {
    const v = zoomAt(worldView(1000, 500), 50, ...project(worldView(1000, 500), LISBON[1], LISBON[0]));
    const [x, y] = project(v, LISBON[1], LISBON[0]);
    const a = areaOf(v, x + 20, y + 20, x - 20, y - 20);
    expect(a.south).toBeLessThan(LISBON[0]);
    expect(a.north).toBeGreaterThan(LISBON[0]);
    expect(a.west).toBeLessThan(LISBON[1]);
    expect(a.east).toBeGreaterThan(LISBON[1]);
    expect(a.east - a.west).toBeCloseTo(40 / v.zoom, 9);
  });

  it('asks for the street tiles that cover the view, numbered as tile servers number them', () => {
    // The whole world at zoom level 0 is one tile; Lisbon at about 1,000 px per degree is level 12.
    const world = { width: 256, height: 256, lon: 0, lat: 0, zoom: 256 / 360 };
    expect(tilesFor(world)).toEqual([{ z: 0, x: 0, y: 0, left: 0, top: expect.closeTo(0, 6), size: 256 }]);
    const v = { width: 800, height: 600, lon: LISBON[1], lat: LISBON[0], zoom: 4096 * 256 / 360 };
    const tiles = tilesFor(v);
    expect(new Set(tiles.map((t) => t.z))).toEqual(new Set([12]));
    // Lisbon is tile 1944/1569 at level 12 (OpenStreetMap's numbering), and it is drawn under the centre.
    const centre = tiles.find((t) => t.left <= 400 && t.left + t.size > 400 && t.top <= 300 && t.top + t.size > 300)!;
    expect([centre.x, centre.y]).toEqual([1944, 1569]);
    expect(tiles.length).toBeLessThanOrEqual(Math.ceil(800 / 256 + 1) * Math.ceil(600 / 256 + 1));
    expect(project(v, 0, MAX_LAT)[1]).toBeLessThan(0);
  });

  it('clusters photos by screen cell: one crowd zoomed out, apart zoomed in; off-screen ones are left out', () => {
    const p = points(LISBON, LISBON, CASCAIS, TOKYO);
    const world = worldView(1000, 500);
    expect(cluster(p, world).map((c) => c.count)).toEqual([3, 1]);
    const [x, y] = project(world, LISBON[1], LISBON[0]);
    const near = zoomAt(world, 200, x, y);
    const apart = cluster(p, near);
    expect(apart.map((c) => c.count)).toEqual([2, 1]);
    const crowd = apart[0]!;
    expect(crowd.area).toEqual({ south: LISBON[0], west: LISBON[1], north: LISBON[0], east: LISBON[1] });
    expect(crowd.photoId).toBe(1);
    const box = padded(crowd.area);
    expect(box.south).toBeLessThan(LISBON[0]);
    expect(box.east).toBeGreaterThan(LISBON[1]);
  });
});

describe('text that matches a search', () => {
  it('marks a line that says what was searched, accents, case and spaces aside', async () => {
    const { lineMatches } = await import('../../renderer/src/lib/text-match.js');
    expect(lineMatches('HOTELAURORA', 'Hotel Aurora')).toBe(true);
    expect(lineMatches('Bakery& Cafe', 'text:"bakery & café"')).toBe(true);
    expect(lineMatches('Station Road 42', 'hotel')).toBe(false);
    expect(lineMatches('Station Road 42', 'a road at dusk')).toBe(true);
    expect(lineMatches('', 'anything')).toBe(false);
  });
});
