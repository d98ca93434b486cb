import exifr from 'exifr';
import type { PhotoRecord } from '../contract/api.js';

/** What Loupe keeps of a photo's embedded metadata: these fields of the public record. */
export type PhotoMeta = Pick<PhotoRecord, 'takenAt' | 'takenAtMs' | 'takenAtSource' | 'cameraMake' | 'cameraModel' | 'lens'
  | 'gpsLat' | 'gpsLon' | 'gpsAlt'> & {
  /** Apple's content identifier: the picture and the video of a Live Photo carry the same one. */
  readonly contentIdentifier: string | null;
};

const APPLE_NOTE = 'Apple iOS\0';
/** Apple's maker-note tag for the Live Photo content identifier (as ExifTool names it: ContentIdentifier). */
const APPLE_CONTENT_IDENTIFIER = 0x0011;

/**
 * The content identifier in an Apple maker note: "Apple iOS\0", a version, "MM", then a
 * big-endian IFD whose offsets count from the note's start. Null for any other note.
 */
export function appleContentIdentifier(note: Uint8Array): string | null {
  const b = Buffer.from(note.buffer, note.byteOffset, note.byteLength);
  if (b.length < 16 || b.subarray(0, 10).toString('latin1') !== APPLE_NOTE || b.subarray(12, 14).toString('latin1') !== 'MM') return null;
  const count = b.readUInt16BE(14);
  for (let i = 0; i < count; i++) {
    const at = 16 + i * 12;
    if (at + 12 > b.length) return null;
    if (b.readUInt16BE(at) !== APPLE_CONTENT_IDENTIFIER || b.readUInt16BE(at + 2) !== 2) continue;
    const n = b.readUInt32BE(at + 4);
    const from = n <= 4 ? at + 8 : b.readUInt32BE(at + 8);
    if (from + n > b.length) return null;
    const id = b.subarray(from, from + n).toString('latin1').replace(/\0+$/, '').trim();
    return /^[\w-]{8,64}$/.test(id) ? id : null;
  }
  return null;
}

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;
const OFFSET = /^([+-])(\d{2}):?(\d{2})$/;

/**
 * EXIF stores local wall-clock time ("2023:07:14 18:22:05") and, since EXIF 2.31, its UTC offset
 * separately. Returns ISO 8601 text (with offset when known) and a sort key in ms; without an
 * offset the wall-clock time is read as UTC, so photos from one camera still sort correctly.
 */
export function parseExifDate(value: unknown, offset: unknown, subSec?: unknown): { iso: string; ms: number } | null {
  if (typeof value !== 'string') return null;
  const m = EXIF_DATE.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac] = m;
  const year = Number(y), month = Number(mo), day = Number(d), hour = Number(h), minute = Number(mi), second = Number(s);
  if (year < 1800 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const fracDigits = (frac ?? (typeof subSec === 'string' && /^\d+$/.test(subSec.trim()) ? subSec.trim() : '')).slice(0, 3);
  const millis = fracDigits ? Number(fracDigits.padEnd(3, '0')) : 0;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const base = `${y}-${mo}-${d}T${h}:${mi}:${s}${fracDigits ? '.' + fracDigits.padEnd(3, '0') : ''}`;
  const om = typeof offset === 'string' ? OFFSET.exec(offset.trim()) : null;
  if (!om) return { iso: base, ms };
  const [, sign, oh, omin] = om;
  const offMin = (Number(oh) * 60 + Number(omin)) * (sign === '-' ? -1 : 1);
  ms -= offMin * 60_000;
  return { iso: `${base}${sign}${oh}:${omin}`, ms };
}

function text(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = v.replace(/\0+$/, '').trim();
  return t.length > 0 ? t : null;
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Falls back to the file's own times when the photo carries no date: the earlier of birth and modification. */
export function fileDate(mtimeMs: number, birthtimeMs: number): { iso: string; ms: number } {
  const ms = Math.floor(birthtimeMs > 0 && birthtimeMs < mtimeMs ? birthtimeMs : mtimeMs);
  return { iso: new Date(ms).toISOString(), ms };
}

type ExifFields = Record<string, unknown>;

/**
 * Reads camera, lens, date and location from an EXIF block. `source` is either the raw EXIF
 * payload (TIFF structure, as libvips extracts it from any format) or a whole TIFF file.
 */
/**
 * EXIF tags found in a TIFF's first IFD, where exifr names them only by number (a CR3 keeps its
 * EXIF IFD apart, as the first IFD of its CMT2 box).
 */
const EXIF_IFD_TAGS: Readonly<Record<string, string>> = {
  36867: 'DateTimeOriginal', 36868: 'CreateDate', 36880: 'OffsetTime', 36881: 'OffsetTimeOriginal', 36882: 'OffsetTimeDigitized',
  37521: 'SubSecTimeOriginal', 42036: 'LensModel',
};

async function exifIfdTags(tiff: Buffer): Promise<ExifFields> {
  try {
    const raw = ((await exifr.parse(tiff, {
      tiff: true, exif: false, gps: false, ifd1: false, xmp: false, icc: false, iptc: false, jfif: false,
      reviveValues: false, translateValues: false, mergeOutput: true,
    })) ?? {}) as ExifFields;
    return Object.fromEntries(Object.entries(raw).flatMap(([k, v]) => (EXIF_IFD_TAGS[k] ? [[EXIF_IFD_TAGS[k], v]] : [])));
  } catch {
    return {};
  }
}

export async function readMeta(
  source: Buffer | null, fileTimes: { mtimeMs: number; birthtimeMs: number }, exifIfd: Buffer | null = null,
): Promise<PhotoMeta> {
  let tags: ExifFields = {};
  if (source && source.length > 8) {
    const tiff = source.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? source.subarray(6) : source;
    try {
      tags = ((await exifr.parse(tiff, {
        tiff: true, exif: true, gps: true, ifd1: false, xmp: false, icc: false, iptc: false, jfif: false, makerNote: true,
        reviveValues: false, translateValues: false, mergeOutput: true,
      })) ?? {}) as ExifFields;
    } catch {
      tags = {}; // a damaged EXIF block costs only the metadata, never the photo
    }
  }
  if (exifIfd && exifIfd.length > 8) tags = { ...(await exifIfdTags(exifIfd)), ...tags };
  const date = parseExifDate(tags['DateTimeOriginal'], tags['OffsetTimeOriginal'], tags['SubSecTimeOriginal'])
    ?? parseExifDate(tags['CreateDate'] ?? tags['DateTimeDigitized'], tags['OffsetTimeDigitized'])
    ?? parseExifDate(tags['ModifyDate'] ?? tags['DateTime'], tags['OffsetTime']);
  const fallback = date ? null : fileDate(fileTimes.mtimeMs, fileTimes.birthtimeMs);
  const lat = finite(tags['latitude']);
  const lon = finite(tags['longitude']);
  const hasGps = lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 && !(lat === 0 && lon === 0);
  const altRef = tags['GPSAltitudeRef'];
  const below = altRef instanceof Uint8Array ? altRef[0] === 1 : altRef === 1;
  const alt = finite(tags['GPSAltitude']);
  return {
    takenAt: date?.iso ?? fallback!.iso,
    takenAtMs: date?.ms ?? fallback!.ms,
    takenAtSource: date ? 'exif' : 'file',
    cameraMake: text(tags['Make']),
    cameraModel: text(tags['Model']),
    lens: text(tags['LensModel']) ?? text(tags['Lens']),
    gpsLat: hasGps ? lat : null,
    gpsLon: hasGps ? lon : null,
    gpsAlt: hasGps && alt !== null ? (below ? -alt : alt) : null,
    contentIdentifier: tags['makerNote'] instanceof Uint8Array ? appleContentIdentifier(tags['makerNote']) : null,
  };
}
