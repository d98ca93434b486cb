/**
 * `loupe places [COUNTRY]`: where the photos were taken, by name — countries with their counts,
 * or one country's places — from the photos' GPS, looked up offline.
 */
import type { Command } from 'commander';
import type { PlaceCount } from '../contract/api.js';
import type { CommandKit } from './search-commands.js';

const line = (p: PlaceCount): string =>
  `${p.placeId === null ? p.countryCode : ''.padEnd(2)}  ${(p.region ? `${p.name} (${p.region})` : p.name).padEnd(36)} ${String(p.photos).padStart(6)} photo(s)`;

export function addPlacesCommands(program: Command, kit: CommandKit): void {
  const { withE, print } = kit;
  program.command('places [country]')
    .description('where your photos were taken: countries, or one country\'s places (a country code or name)')
    .action((country: string | undefined) => withE(async (e) => {
      const countries = await e.listPlaces();
      if (country === undefined) {
        print(countries, countries.length === 0 ? 'No places yet: photos with a GPS position are placed while indexing.' : countries.map(line).join('\n'));
        return;
      }
      const key = country.trim().toLowerCase();
      const match = countries.find((c) => c.countryCode.toLowerCase() === key || c.name.toLowerCase() === key);
      const places = match ? await e.listPlaces(match.countryCode) : [];
      print(places, match ? [line(match), ...places.map(line)].join('\n') : `No photo was taken in a country called ${country}.`);
    }));
}
