/**
 * The word index (FTS5, trigrams with accents off): one row per photo with its name (the path
 * inside its library folder), what people wrote (title, description, keywords), its place, the
 * names of the people in it, the text read in it, and its albums. Triggers (migration 10) mark a
 * photo whenever any of these change; `sync` rewrites the marked rows, so a search always sees
 * the library as it is. `match` finds the photos holding every word of a query, best first (BM25).
 */
import { placeKey } from './places.js';
import { Repo } from './repo.js';

/** BM25 weights of the columns: names and what people wrote count most, the text read in photos least (it is noisier). */
const WEIGHTS = '2.0, 2.0, 1.5, 2.0, 1.0, 1.0';

/** A query word as an FTS5 string (quotes doubled), or null where it is too short for trigrams. */
function ftsWord(w: string): string | null {
  return [...w].length >= 3 ? `"${w.replace(/"/g, '""')}"` : null;
}

export class WordsRepo extends Repo {
  /** Brings the rows of marked photos up to date (in batches); returns how many were rewritten. */
  sync(batch = 5000): number {
    if (!this.writable) return 0;
    let done = 0;
    for (;;) {
      const n = this.transaction(() => {
        const ids = this.all<{ id: number }>('SELECT photo_id AS id FROM words_dirty ORDER BY photo_id LIMIT ?', batch).map((r) => r.id);
        if (ids.length === 0) return 0;
        const list = JSON.stringify(ids);
        this.run('DELETE FROM photo_words WHERE rowid IN (SELECT value FROM json_each(?))', list);
        this.run(`INSERT INTO photo_words (rowid, name, about, place, people, text, albums)
          SELECT p.id,
            substr(p.path, length(f.path) + 2),
            coalesce(p.title, '') || ' ' || coalesce(p.description, '') || ' '
              || coalesce((SELECT group_concat(keyword, ' ') FROM photo_keywords k WHERE k.photo_id = p.id), ''),
            coalesce((SELECT pl.name || ' ' || coalesce(pl.region, '') || ' ' || pl.country FROM photo_places pp
              JOIN places pl ON pl.id = pp.place_id WHERE pp.photo_id = p.id), ''),
            coalesce((SELECT group_concat(DISTINCT pe.name) FROM faces fa JOIN people pe ON pe.id = fa.person_id
              WHERE fa.hash = p.hash AND pe.name IS NOT NULL), ''),
            coalesce((SELECT group_concat(t.text_key || ' ' || replace(t.text_key, ' ', ''), ' ') FROM text_scans t WHERE t.hash = p.hash), ''),
            coalesce((SELECT group_concat(a.name, ' ') FROM album_items ai JOIN albums a ON a.id = ai.album_id WHERE ai.photo_id = p.id), '')
          FROM photos p JOIN folders f ON f.id = p.folder_id
          WHERE p.id IN (SELECT value FROM json_each(?)) AND p.state = 'ok' AND p.hash IS NOT NULL`, list);
        this.run('DELETE FROM words_dirty WHERE photo_id IN (SELECT value FROM json_each(?))', list);
        return ids.length;
      });
      done += n;
      if (n < batch) return done;
    }
  }

  /**
   * The photos holding every word of `phrase` (or, `contiguous`, the phrase as it is: a quoted
   * phrase), folded (case and accents aside; a word of one or two characters, as Chinese and
   * Japanese names are, by substring), best first by BM25.
   * Spaces do not separate what the text read in a photo ran together: "hotel aurora" finds "HOTELAURORA".
   */
  match(phrase: string, limit: number, contiguous = false): number[] {
    const folded = placeKey(phrase);
    const words = contiguous ? [folded] : folded.split(' ').filter((w) => w.length > 0);
    const long = words.map(ftsWord).filter((w): w is string => w !== null);
    // Short words in Latin script ("at", "in") say nothing; in other scripts two characters are a word.
    const short = words.filter((w) => ftsWord(w) === null && /[^\p{Script=Latin}\p{N}\p{P}]/u.test(w));
    if (long.length === 0 && short.length === 0) return [];
    const like = short.map(() => `(photo_words.name || ' ' || about || ' ' || place || ' ' || people || ' ' || text || ' ' || albums) LIKE ?`);
    if (long.length === 0) {
      return this.all<{ id: number }>(`SELECT rowid AS id FROM photo_words WHERE ${like.join(' AND ')} LIMIT ?`,
        ...short.map((w) => `%${w}%`), limit).map((r) => r.id);
    }
    return this.all<{ id: number }>(`SELECT rowid AS id FROM photo_words WHERE photo_words MATCH ? ${like.map((l) => `AND ${l}`).join(' ')}
      ORDER BY bm25(photo_words, ${WEIGHTS}) LIMIT ?`, long.join(' AND '), ...short.map((w) => `%${w}%`), limit).map((r) => r.id);
  }
}
