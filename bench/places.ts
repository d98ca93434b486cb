/**
 * npm run bench:places — offline reverse geocoding: the gazetteer's load time and size, lookups
 * per second (photos' GPS: points on land, near towns; and random points on Earth, mostly sea,
 * where the bound is searched to its end), and the answers for a set of known coordinates.
 */
import { availableParallelism } from 'node:os';
import { Gazetteer } from '../main/places/gazetteer.js';

const KNOWN: [string, number, number][] = [
  ['Lisbon', 38.7223, -9.1393], ['Tokyo', 35.6762, 139.6503], ['Canberra', -35.2809, 149.13], ['Nairobi', -1.2921, 36.8219],
  ['Reykjavík', 64.1466, -21.9426], ['Buenos Aires', -34.6037, -58.3816], ['Tristan da Cunha (remote island)', -37.068, -12.311],
  ['20 km off Lisbon, at sea', 38.6, -9.6], ['mid-Atlantic', 30, -40], ['Yokohama (beside Tokyo)', 35.4437, 139.638],
];

function rate(g: Gazetteer, points: readonly [number, number][]): { perSecond: number; placed: number } {
  const t = performance.now();
  let placed = 0;
  for (const [lat, lon] of points) if (g.reverse(lat, lon)) placed++;
  return { perSecond: points.length / ((performance.now() - t) / 1000), placed };
}

let seed = 7;
const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

console.log(`Loupe bench:places — ${availableParallelism()} cores`);
const t = performance.now();
const g = Gazetteer.load();
console.log(`gazetteer: ${g.size.toLocaleString()} places loaded and indexed in ${(performance.now() - t).toFixed(0)} ms`);
// Near towns: a few kilometres from random places of the gazetteer, as photos' GPS are.
const towns = Array.from({ length: 20_000 }, (): [number, number] => {
  const p = g.reverse(-40 + rand() * 100, -120 + rand() * 240, 20_000)!;
  return [p.lat + (rand() - 0.5) * 0.05, p.lon + (rand() - 0.5) * 0.05];
});
const land = rate(g, towns);
console.log(`lookups near towns: ${Math.round(land.perSecond).toLocaleString()}/s (${land.placed} of ${towns.length} placed)`);
const anywhere = rate(g, Array.from({ length: 20_000 }, (): [number, number] => [-90 + rand() * 180, -180 + rand() * 360]));
console.log(`lookups anywhere on Earth: ${Math.round(anywhere.perSecond).toLocaleString()}/s (${anywhere.placed} of 20,000 within 50 km of a town)`);
console.log('\n| point | placed in | distance |\n| --- | --- | --- |');
for (const [name, lat, lon] of KNOWN) {
  const p = g.reverse(lat, lon);
  console.log(`| ${name} | ${p ? [p.name, p.region, p.country].filter(Boolean).join(', ') : 'nowhere'} | ${p ? `${p.distanceKm.toFixed(1)} km` : '—'} |`);
}
