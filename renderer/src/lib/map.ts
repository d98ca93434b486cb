/**
 * The map's arithmetic, pure: a Web Mercator view of the world (the projection street tiles are
 * drawn in; degrees ↔ pixels), zooming about the cursor, panning, the box a dragged rectangle
 * covers, the street tiles a view needs, and photo markers clustered in screen cells so that a
 * zoomed-out map shows one marker per crowd with its count.
 */

export interface MapView {
  readonly width: number;
  readonly height: number;
  /** The longitude and latitude at the view's centre. */
  readonly lon: number;
  readonly lat: number;
  /** Pixels per degree of longitude (and per "degree" of Mercator's stretched latitude). */
  readonly zoom: number;
}

/** Web Mercator's limit: the square world of every tile server. */
export const MAX_LAT = 85.0511287798;

/** Mercator's northing in degrees (equal to the latitude at the equator). */
export function mercator(lat: number): number {
  const φ = (Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI) / 180;
  return (Math.log(Math.tan(Math.PI / 4 + φ / 2)) * 180) / Math.PI;
}

export function inverseMercator(y: number): number {
  return (Math.atan(Math.sinh((y * Math.PI) / 180)) * 180) / Math.PI;
}

export interface Area {
  readonly south: number;
  readonly west: number;
  readonly north: number;
  readonly east: number;
}

export interface Points {
  readonly ids: readonly number[];
  readonly lats: readonly number[];
  readonly lons: readonly number[];
}

export interface Cluster {
  /** Its centre on screen (the mean of its photos' positions). */
  readonly x: number;
  readonly y: number;
  readonly count: number;
  /** The box its photos are in. */
  readonly area: Area;
  /** One of its photos (the most recent: points come newest first). */
  readonly photoId: number;
}

const MAX_ZOOM = 20_000;

/** The whole world in a view of this size (the inhabited latitudes, 56° S to 75° N, fill the height where the width allows). */
export function worldView(width: number, height: number): MapView {
  return { width, height, lon: 0, lat: 20, zoom: Math.min(width / 360, height / (mercator(75) - mercator(-56))) };
}

export function project(v: MapView, lon: number, lat: number): [number, number] {
  return [v.width / 2 + (lon - v.lon) * v.zoom, v.height / 2 - (mercator(lat) - mercator(v.lat)) * v.zoom];
}

export function unproject(v: MapView, x: number, y: number): [number, number] {
  return [v.lon + (x - v.width / 2) / v.zoom, inverseMercator(mercator(v.lat) - (y - v.height / 2) / v.zoom)];
}

/** Keeps the centre on the world (Mercator's square) and the zoom between the world and a street. */
function clamp(v: MapView): MapView {
  const min = worldView(v.width, v.height).zoom;
  const zoom = Math.min(MAX_ZOOM, Math.max(min, v.zoom));
  const half = v.height / 2 / zoom;
  const top = mercator(MAX_LAT);
  const y = half >= top ? 0 : Math.min(top - half, Math.max(-top + half, mercator(v.lat)));
  const lon = ((((v.lon + 180) % 360) + 360) % 360) - 180;
  return { ...v, zoom, lat: inverseMercator(y), lon };
}

/** Zoomed by `factor` about the screen point (x, y), which stays over the same place. */
export function zoomAt(v: MapView, factor: number, x: number, y: number): MapView {
  const [lon, lat] = unproject(v, x, y);
  const zoom = Math.min(MAX_ZOOM, Math.max(worldView(v.width, v.height).zoom, v.zoom * factor));
  return clamp({ ...v, zoom, lon: lon - (x - v.width / 2) / zoom, lat: inverseMercator(mercator(lat) + (y - v.height / 2) / zoom) });
}

/** Moved by a drag of (dx, dy) pixels. */
export function panBy(v: MapView, dx: number, dy: number): MapView {
  return clamp({ ...v, lon: v.lon - dx / v.zoom, lat: inverseMercator(mercator(v.lat) + dy / v.zoom) });
}

/** A street tile of the view: its numbers in the usual z/x/y scheme, and where it goes on screen. */
export interface Tile {
  readonly z: number;
  readonly x: number;
  readonly y: number;
  readonly left: number;
  readonly top: number;
  readonly size: number;
}

/** The 256-px tiles (OpenStreetMap's scheme) that cover the view, at the level nearest its zoom. */
export function tilesFor(v: MapView): Tile[] {
  const z = Math.max(0, Math.min(19, Math.round(Math.log2((360 * v.zoom) / 256))));
  const n = 2 ** z;
  const size = (360 * v.zoom) / n;
  // The world's top-left corner on screen.
  const [wx, wy] = project(v, -180, MAX_LAT);
  const out: Tile[] = [];
  const x0 = Math.floor(-wx / size);
  const x1 = Math.ceil((v.width - wx) / size) - 1;
  const y0 = Math.max(0, Math.floor(-wy / size));
  const y1 = Math.min(n - 1, Math.ceil((v.height - wy) / size) - 1);
  for (let ty = y0; ty <= y1; ty++) {
    for (let tx = x0; tx <= x1; tx++) out.push({ z, x: ((tx % n) + n) % n, y: ty, left: wx + tx * size, top: wy + ty * size, size });
  }
  return out;
}

/** The box a rectangle drawn from (x1, y1) to (x2, y2) covers, on the world. */
export function areaOf(v: MapView, x1: number, y1: number, x2: number, y2: number): Area {
  const [w, n] = unproject(v, Math.min(x1, x2), Math.min(y1, y2));
  const [e, s] = unproject(v, Math.max(x1, x2), Math.max(y1, y2));
  // Mercator keeps horizontal lines horizontal: the rectangle is a box of latitudes and longitudes.
  const lon = (d: number): number => Math.min(180, Math.max(-180, d));
  const lat = (d: number): number => Math.min(90, Math.max(-90, d));
  return { south: lat(s), west: lon(w), north: lat(n), east: lon(e) };
}

/**
 * The photos on screen, one marker per `cell`-pixel square they fall in: a crowd far away is
 * one marker with its count, and splits as the map zooms in. Off-screen photos are left out.
 */
export function cluster(points: Points, v: MapView, cell = 44): Cluster[] {
  type Acc = { sx: number; sy: number; n: number; s: number; w: number; no: number; e: number; id: number };
  const cells = new Map<string, Acc>();
  for (let i = 0; i < points.ids.length; i++) {
    const lat = points.lats[i]!;
    const lon = points.lons[i]!;
    const [x, y] = project(v, lon, lat);
    if (x < -cell || y < -cell || x > v.width + cell || y > v.height + cell) continue;
    const key = `${Math.floor(x / cell)}:${Math.floor(y / cell)}`;
    const a = cells.get(key);
    if (!a) cells.set(key, { sx: x, sy: y, n: 1, s: lat, w: lon, no: lat, e: lon, id: points.ids[i]! });
    else {
      a.sx += x; a.sy += y; a.n++;
      a.s = Math.min(a.s, lat); a.no = Math.max(a.no, lat); a.w = Math.min(a.w, lon); a.e = Math.max(a.e, lon);
    }
  }
  return [...cells.values()].map((a) => ({
    x: a.sx / a.n, y: a.sy / a.n, count: a.n, area: { south: a.s, west: a.w, north: a.no, east: a.e }, photoId: a.id,
  })).sort((a, b) => b.count - a.count);
}

/** A cluster's box with a margin (a photo's GPS is a few metres off), for the search it opens. */
export function padded(a: Area, degrees = 0.01): Area {
  return {
    south: Math.max(-90, a.south - degrees), west: Math.max(-180, a.west - degrees),
    north: Math.min(90, a.north + degrees), east: Math.min(180, a.east + degrees),
  };
}
