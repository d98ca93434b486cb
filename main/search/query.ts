/**
 * The search box's little language, parsed into parts:
 *   two kids building a sandcastle     a sentence
 *   beach -people -"parked cars"       negative terms (a word or a quoted phrase after "-")
 *   "IMG_2041"                         a quoted phrase (also matched against file and folder names)
 *   category:Indigo Bunting            a fine-grained category: the words after it, up to the next
 *   category:"golden retriever" grass  operator; quotes end it early
 *   category:birds/Indigo Bunting      …within one taxonomy
 *   person:Ana at the beach            a person (one word, or quoted: person:"Ana Silva"), and a sentence
 *   person:Ana person:Leo -person:Tom  both of them, without him
 *   place:Lisbon -place:"New York"    taken there (a place, region or country), not there
 *   text:"hotel aurora"               those words in the text read in the photo
 *   beach in Lisbon                   a sentence naming a place the library has photos of: the place
 *                                     becomes a filter and the rest ranks (search.ts, placeInSentence)
 */

export interface CategoryTerm {
  readonly taxonomy: string | null;
  readonly name: string;
}

export interface ParsedQuery {
  /** The positive sentence (quoted phrases included, without their quotes). */
  readonly text: string;
  readonly negatives: readonly string[];
  readonly phrases: readonly string[];
  readonly categories: readonly CategoryTerm[];
  /** People who must be in the photo (by name), and people who must not. */
  readonly people: readonly string[];
  readonly notPeople: readonly string[];
  /** Places the photo must be taken in (by name), and places it must not. */
  readonly places: readonly string[];
  readonly notPlaces: readonly string[];
  /** Words or phrases the text read in the photo must hold. */
  readonly texts: readonly string[];
  /** The whole sentence is a place some photo was taken in ("Lisbon"): its photos come first (search.ts). */
  readonly namedPlace?: string;
}

interface Token {
  readonly value: string;
  readonly quoted: boolean;
  readonly negative: boolean;
  /** `category:` came right before it (value is what followed the colon). */
  readonly category: boolean;
  /** `person:` came right before it. */
  readonly person: boolean;
  /** `place:` came right before it. */
  readonly place: boolean;
  /** `text:` came right before it. */
  readonly text: boolean;
}

function tokenize(input: string): Token[] {
  const out: Token[] = [];
  const re = /(-?)(category:|person:|place:|text:)?(?:"([^"]*)"?|(\S+))/giy;
  let i = 0;
  while (i < input.length) {
    while (i < input.length && /\s/.test(input[i]!)) i++;
    if (i >= input.length) break;
    re.lastIndex = i;
    const m = re.exec(input);
    if (!m) break;
    i = re.lastIndex;
    const quoted = m[3] !== undefined;
    const value = (quoted ? m[3]! : m[4] ?? '').trim();
    const negative = m[1] === '-' && (quoted || value.length > 0);
    const category = m[2]?.toLowerCase() === 'category:';
    const person = m[2]?.toLowerCase() === 'person:';
    const place = m[2]?.toLowerCase() === 'place:';
    const text = m[2]?.toLowerCase() === 'text:';
    const operator = category || person || place || text;
    if (!operator && value.length === 0 && m[1] !== '-') continue;
    out.push({ value: negative || operator ? value : `${m[1]}${value}`, quoted, negative, category, person, place, text });
  }
  return out;
}

function categoryTerm(raw: string): CategoryTerm | null {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (name.length === 0) return null;
  const slash = name.indexOf('/');
  if (slash > 0 && !/\s/.test(name.slice(0, slash))) return { taxonomy: name.slice(0, slash).toLowerCase(), name: name.slice(slash + 1).trim() };
  return { taxonomy: null, name };
}

export function parseQuery(input: string): ParsedQuery {
  const tokens = tokenize(input.normalize('NFC'));
  const words: string[] = [];
  const negatives: string[] = [];
  const phrases: string[] = [];
  const categories: CategoryTerm[] = [];
  const people: string[] = [];
  const notPeople: string[] = [];
  const places: string[] = [];
  const notPlaces: string[] = [];
  const texts: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text && !t.negative) {
      const words = t.value.replace(/\s+/g, ' ').trim();
      if (words) texts.push(words);
    } else if (t.place) {
      const name = t.value.replace(/\s+/g, ' ').trim();
      if (name) (t.negative ? notPlaces : places).push(name);
    } else if (t.person) {
      const name = t.value.replace(/\s+/g, ' ').trim();
      if (name) (t.negative ? notPeople : people).push(name);
    } else if (t.category && t.negative) {
      negatives.push(t.value);
    } else if (t.category) {
      // Unquoted: the category name runs on over plain words.
      let name = t.value;
      if (!t.quoted) {
        while (i + 1 < tokens.length && !tokens[i + 1]!.quoted && !tokens[i + 1]!.negative && !tokens[i + 1]!.category
          && !tokens[i + 1]!.person && !tokens[i + 1]!.place && !tokens[i + 1]!.text && !tokens[i + 1]!.value.includes(':')) {
          name += ` ${tokens[++i]!.value}`;
        }
      }
      const c = categoryTerm(name);
      if (c) categories.push(c);
    } else if (t.negative) {
      negatives.push(t.value);
    } else {
      if (t.quoted) phrases.push(t.value);
      words.push(t.value);
    }
  }
  return { text: words.join(' ').replace(/\s+/g, ' ').trim(), negatives, phrases, categories, people, notPeople, places, notPlaces, texts };
}

/** Words that put a place after them in a sentence ("at the beach in Lisbon", "dinner near Porto"). */
const PLACE_WORDS = new Set(['in', 'at', 'near', 'around', 'from', 'em', 'en', 'à', 'a', 'bei', 'nahe', 'près', 'de']);

/**
 * A place named at the end of a sentence, after "in", "at" or "near" (1–3 words, which `known`
 * says some photo was taken in), split off: "beach in Lisbon" → "beach" and "Lisbon"; a sentence
 * that is only a known place name is that place. Only the end and only after those words, so "New
 * York cheesecake" stays a sentence and "nice beach" is not Nice.
 */
export function placeInSentence(text: string, known: (name: string) => boolean): { text: string; place: string } | null {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return null;
  const bare = (w: string): string => w.replace(/[.,!?;:]+$/, '');
  for (let n = Math.min(3, words.length); n >= 1; n--) {
    const name = words.slice(words.length - n).map(bare).join(' ');
    if (words.length === n) {
      if (known(name)) return { text: '', place: name };
      continue;
    }
    const before = words[words.length - n - 1]!.toLowerCase();
    if (PLACE_WORDS.has(before) && known(name)) return { text: words.slice(0, words.length - n - 1).join(' '), place: name };
  }
  return null;
}

/**
 * Whether a short query ("dog", "red car") gets the prompt ensemble: CLIP was trained on captions,
 * so a bare noun phrase matches better as "a photo of a dog." and its variants; a sentence is
 * already a caption.
 */
export function wantsPrompts(text: string): boolean {
  const words = text.trim().split(/\s+/).filter((w) => w.length > 0);
  return words.length > 0 && words.length <= 3 && !/[.!?]$/.test(text.trim());
}

/** A template's "{}" filled with the term. */
export function fillTemplate(template: string, term: string): string {
  return template.replace('{}', term);
}
