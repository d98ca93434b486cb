import { describe, expect, it } from 'vitest';
import { fillTemplate, parseQuery, placeInSentence, wantsPrompts } from '../../main/search/query.js';

describe('the search box language', () => {
  it('a sentence is a sentence', () => {
    expect(parseQuery('  two kids   building a sandcastle at sunset ')).toEqual({
      text: 'two kids building a sandcastle at sunset', negatives: [], phrases: [], categories: [], people: [], notPeople: [], places: [], notPlaces: [], texts: [],
    });
  });

  it('people: a word or a quoted name after person:, combined with a sentence, and excluded with -person:', () => {
    const q = parseQuery('person:Ana at the beach person:"Leo Costa" -person:Tom');
    expect(q.people).toEqual(['Ana', 'Leo Costa']);
    expect(q.notPeople).toEqual(['Tom']);
    expect(q.text).toBe('at the beach');
    expect(q.negatives).toEqual([]);
    // A category's name does not run on over a person.
    expect(parseQuery('category:Indigo Bunting person:Ana').categories).toEqual([{ taxonomy: null, name: 'Indigo Bunting' }]);
  });

  it('negative words and quoted negative phrases', () => {
    const q = parseQuery('beach -people -"parked cars" sunset');
    expect(q.text).toBe('beach sunset');
    expect(q.negatives).toEqual(['people', 'parked cars']);
  });

  it('a hyphen inside a word or alone is not a negative', () => {
    expect(parseQuery('t-shirt - x-ray').text).toBe('t-shirt - x-ray');
    expect(parseQuery('t-shirt - x-ray').negatives).toEqual([]);
  });

  it('quoted phrases are kept for name matching and stay in the sentence', () => {
    const q = parseQuery('"IMG_2041" at night');
    expect(q.phrases).toEqual(['IMG_2041']);
    expect(q.text).toBe('IMG_2041 at night');
  });

  it('category: takes the following words, up to an operator; quotes end it early; a taxonomy prefix', () => {
    expect(parseQuery('category:Indigo Bunting').categories).toEqual([{ taxonomy: null, name: 'Indigo Bunting' }]);
    const q = parseQuery('category:"golden retriever" on the grass -snow');
    expect(q.categories).toEqual([{ taxonomy: null, name: 'golden retriever' }]);
    expect(q.text).toBe('on the grass');
    expect(q.negatives).toEqual(['snow']);
    expect(parseQuery('category:birds/Indigo Bunting').categories).toEqual([{ taxonomy: 'birds', name: 'Indigo Bunting' }]);
    expect(parseQuery('CATEGORY:pug category:beagle').categories).toEqual([{ taxonomy: null, name: 'pug' }, { taxonomy: null, name: 'beagle' }]);
    expect(parseQuery('category:').categories).toEqual([]);
  });

  it('an unclosed quote runs to the end; non-ASCII and emoji survive', () => {
    expect(parseQuery('"crème brûlée').phrases).toEqual(['crème brûlée']);
    expect(parseQuery('🐶 im Schnee').text).toBe('🐶 im Schnee');
  });

  it('short queries get prompt templates, sentences do not', () => {
    expect(wantsPrompts('dog')).toBe(true);
    expect(wantsPrompts('red sports car')).toBe(true);
    expect(wantsPrompts('two kids building a sandcastle')).toBe(false);
    expect(wantsPrompts('a dog.')).toBe(false);
    expect(wantsPrompts('  ')).toBe(false);
    expect(fillTemplate('a photo of a {}.', 'dog')).toBe('a photo of a dog.');
  });
});

describe('places in a query', () => {
  const known = (name: string): boolean => ['lisbon', 'new york', 'portugal', 'nice'].includes(name.toLowerCase());

  it('reads place: and -place: terms, quoted or one word', () => {
    const q = parseQuery('beach place:Lisbon -place:"New York"');
    expect(q.text).toBe('beach');
    expect(q.places).toEqual(['Lisbon']);
    expect(q.notPlaces).toEqual(['New York']);
  });

  it('takes a known place off the end of a sentence after in / at / near, and a sentence that is only a place', () => {
    expect(placeInSentence('beach in Lisbon', known)).toEqual({ text: 'beach', place: 'Lisbon' });
    expect(placeInSentence('two kids at the beach near New York.', known)).toEqual({ text: 'two kids at the beach', place: 'New York' });
    expect(placeInSentence('Portugal', known)).toEqual({ text: '', place: 'Portugal' });
  });

  it('leaves a sentence alone where the place is not at its end after such a word, or not known', () => {
    expect(placeInSentence('nice beach', known)).toBeNull();
    expect(placeInSentence('New York cheesecake', known)).toBeNull();
    expect(placeInSentence('dinner in Porto', known)).toBeNull();
  });
});
