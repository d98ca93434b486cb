/**
 * Loupe's albums and categories written as XMP keywords into sidecars, for other photo apps
 * (Lightroom, digiKam, darktable) to read — only when the user turns it on (it is off by
 * default: Loupe never writes beside a user's photos otherwise). A photo's own sidecar is updated
 * where it has one (`photo.jpg.xmp`, or `photo.xmp` as Lightroom names it for RAW files); else
 * one is made, named as digiKam and darktable do (`photo.jpg.xmp`), or as Lightroom does for a RAW.
 *
 * Loupe's keywords are hierarchical (`Loupe|Albums|Trip`, in lr:hierarchicalSubject) and plain
 * (`Trip`, in dc:subject, which every app reads). What Loupe wrote is remembered, so taking a
 * photo out of an album takes back only Loupe's own words: a keyword the sidecar already had is
 * left alone. Everything else in the sidecar is kept as it was. A sidecar that is not well-formed
 * XMP is never touched (recorded as a failure). Each write is atomic and durable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import type { SidecarReport } from '../contract/api.js';
import { rawFormatOf, sidecarNames } from '../contract/formats.js';
import type { Repos } from '../db/repos/index.js';
import { ALBUMS_ROOT, CATEGORIES_ROOT, type SidecarState, type Written } from '../db/repos/sidecars.js';
import { writeFileAtomic } from '../util/atomic.js';
import { errorMessage } from '../util/errors.js';

const NS = {
  x: 'adobe:ns:meta/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  lr: 'http://ns.adobe.com/lightroom/1.0/',
} as const;

const EMPTY_PACKET = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="${NS.x}" x:xmptk="Loupe">
 <rdf:RDF xmlns:rdf="${NS.rdf}">
  <rdf:Description rdf:about=""/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
`;

export class SidecarError extends Error {}


/** The plain keyword of a hierarchical one: its last level. */
const leaf = (k: string): string => k.slice(k.lastIndexOf('|') + 1);

function parse(text: string): Document {
  const problems: string[] = [];
  let doc: Document | null = null;
  try {
    doc = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') problems.push(msg); } }).parseFromString(text, 'text/xml');
  } catch (err) {
    // xmldom throws on fatal errors (after reporting some through onError).
    problems.push(errorMessage(err));
  }
  if (problems.length > 0 || !doc) throw new SidecarError(`the sidecar is not well-formed XML (${problems[0]!.split('\n')[0]})`);
  if (doc.getElementsByTagNameNS(NS.rdf, 'RDF').length === 0) throw new SidecarError('the sidecar has no RDF packet: it is not XMP');
  return doc;
}

/** The rdf:Bag of a property, made (in the first rdf:Description) when the sidecar has none. */
function bagOf(doc: Document, ns: string, qname: string): Element {
  const local = qname.slice(qname.indexOf(':') + 1);
  const existing = doc.getElementsByTagNameNS(ns, local)[0];
  if (existing) {
    const bag = existing.getElementsByTagNameNS(NS.rdf, 'Bag')[0];
    if (bag) return bag;
    // A property written as a single value: kept, as the first item of a bag.
    const text = existing.textContent?.trim() ?? '';
    while (existing.firstChild) existing.removeChild(existing.firstChild);
    const made = doc.createElementNS(NS.rdf, 'rdf:Bag');
    existing.appendChild(made);
    if (text) appendItem(doc, made, text);
    return made;
  }
  const description = doc.getElementsByTagNameNS(NS.rdf, 'Description')[0] ?? (() => {
    const d = doc.createElementNS(NS.rdf, 'rdf:Description');
    d.setAttributeNS(NS.rdf, 'rdf:about', '');
    doc.getElementsByTagNameNS(NS.rdf, 'RDF')[0]!.appendChild(d);
    return d;
  })();
  const property = doc.createElementNS(ns, qname);
  const bag = doc.createElementNS(NS.rdf, 'rdf:Bag');
  property.appendChild(bag);
  description.appendChild(property);
  return bag;
}

function items(bag: Element): Element[] {
  return Array.from(bag.getElementsByTagNameNS(NS.rdf, 'li'));
}

function appendItem(doc: Document, bag: Element, text: string): void {
  const li = doc.createElementNS(NS.rdf, 'rdf:li');
  li.appendChild(doc.createTextNode(text));
  bag.appendChild(li);
}

/**
 * A sidecar's text with Loupe's keywords set to `wanted` (hierarchical), taking back what Loupe
 * wrote before (`last`) and nothing else. Returns the new text and what is now Loupe's.
 */
export function mergeKeywords(
  existing: string | null, wanted: readonly string[], last: Written | null,
): { text: string; written: Written } {
  const doc = parse(existing ?? EMPTY_PACKET);
  const hier = bagOf(doc, NS.lr, 'lr:hierarchicalSubject');
  const plain = bagOf(doc, NS.dc, 'dc:subject');
  const want = new Set(wanted);
  const wantLeaves = new Set(wanted.map(leaf));
  // Loupe's own hierarchical keywords, gone from the wanted set, come out; so do plain ones it added.
  const ownRoots = (k: string): boolean => k.startsWith(ALBUMS_ROOT) || k.startsWith(CATEGORIES_ROOT);
  for (const li of items(hier)) {
    const k = li.textContent ?? '';
    if (ownRoots(k) && !want.has(k)) hier.removeChild(li);
  }
  const addedBefore = new Set(last?.added ?? []);
  for (const li of items(plain)) {
    const k = li.textContent ?? '';
    if (addedBefore.has(k) && !wantLeaves.has(k)) plain.removeChild(li);
  }
  const haveHier = new Set(items(hier).map((li) => li.textContent ?? ''));
  for (const k of wanted) if (!haveHier.has(k)) appendItem(doc, hier, k);
  const havePlain = new Set(items(plain).map((li) => li.textContent ?? ''));
  const added = [...wantLeaves].filter((k) => addedBefore.has(k) || !havePlain.has(k));
  for (const k of wantLeaves) if (!havePlain.has(k)) appendItem(doc, plain, k);
  return { text: new XMLSerializer().serializeToString(doc), written: { hierarchical: [...wanted], added } };
}

/** The sidecar a photo's keywords go into: the one it has, else a new one named as the apps that read it expect. */
export function sidecarFor(photo: string): string {
  const [full, stem] = sidecarNames(photo);
  if (existsSync(full)) return full;
  if (existsSync(stem) || rawFormatOf(photo)) return stem;
  return full;
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Writes one photo's sidecar and records it; throws SidecarError (or a file error) for the report. */
async function writeOne(repos: Repos, s: SidecarState, now: number): Promise<void> {
  const sidecar = s.last?.sidecar && existsSync(s.last.sidecar) ? s.last.sidecar : sidecarFor(s.path);
  const existing = existsSync(sidecar) ? readFileSync(sidecar, 'utf8') : null;
  if (existing === null && s.wanted.length === 0) {
    // Nothing to take back from a sidecar that is gone.
    repos.sidecars.record(s.photoId, sidecar, { hierarchical: [], added: [] }, now);
    return;
  }
  const { text, written } = mergeKeywords(existing, s.wanted, s.last?.written ?? null);
  if (text !== existing) await writeFileAtomic(sidecar, Buffer.from(text, 'utf8'), { durable: true });
  repos.sidecars.record(s.photoId, sidecar, written, now);
}

/**
 * Brings every sidecar Loupe writes up to date with the albums and categories now: only those
 * whose keywords changed are written. One bad sidecar is reported and the rest go on.
 */
export async function syncSidecars(repos: Repos): Promise<SidecarReport> {
  let written = 0;
  let unchanged = 0;
  const failed: { path: string; error: string }[] = [];
  for (const s of repos.sidecars.states()) {
    if (s.last && same(s.last.written.hierarchical, s.wanted)) {
      unchanged++;
      continue;
    }
    try {
      await writeOne(repos, s, Date.now());
      written++;
    } catch (err) {
      failed.push({ path: s.path, error: err instanceof SidecarError ? err.message : `could not write its sidecar (${errorMessage(err)})` });
    }
  }
  return { written, unchanged, failed };
}
