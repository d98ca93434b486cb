/**
 * The remote surface of the engine: which LoupeApi methods a window (IPC) or a browser (HTTP
 * bridge) may call, and the schema every call's arguments must pass before the engine sees them.
 * Both transports go through `parseCall`, so they accept exactly the same input.
 */
import { z } from 'zod';
import type { LoupeApi } from './api.js';
import { DEVICES } from './devices.js';
import { CallError } from './errors.js';
import { BoxSchema, SearchRequestSchema } from './search-request.js';

/** A BCP-47 tag, as a window may send one ("de", "pt-BR", "zh-Hant-TW"). */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const ids = z.array(id).max(100_000);
const name = z.string().trim().min(1).max(200);
/** A folder the user chose; only addFolder and removeFolder take a path. */
const folderPath = z.string().min(1).max(4096);

/**
 * A remote caller's search: a dropped-in photo comes as bytes, never as a path, so a page cannot
 * make the engine open a file of its choosing.
 */
const RemoteSearchSchema = SearchRequestSchema.extend({
  photo: z.union([z.object({ id }).strict(), z.object({ bytes: z.string().min(1).max(70_000_000) }).strict()]).optional(),
  region: z.object({ photoId: id, box: BoxSchema }).strict().optional(),
}).strict();

const filters = SearchRequestSchema.shape.filters;

/** Argument tuples, method by method. A method missing here cannot be called remotely. */
export const REMOTE_METHODS = {
  addFolder: z.tuple([folderPath, z.object({ confirm: z.boolean().optional() }).strict().optional()]),
  removeFolder: z.tuple([folderPath]),
  listFolders: z.tuple([]),
  scan: z.tuple([]),
  index: z.tuple([]),
  pauseIndexing: z.tuple([]),
  resumeIndexing: z.tuple([]),
  status: z.tuple([z.object({ errorLimit: z.number().int().min(0).max(10_000).optional() }).strict().optional()]),
  getPhoto: z.tuple([id]),
  listModels: z.tuple([]),
  useModel: z.tuple([name]),
  installModel: z.tuple([name]),
  cancelInstall: z.tuple([name]),
  device: z.tuple([]),
  setDevice: z.tuple([z.enum(DEVICES)]),
  preferences: z.tuple([]),
  // mapTiles is the installation's, never a window's to set.
  setPreferences: z.tuple([z.object({
    writeSidecars: z.boolean().optional(), readText: z.boolean().optional(), onlineMap: z.boolean().optional(),
    language: z.string().regex(LANGUAGE_TAG, 'must be a language tag such as "de" or "pt-BR"').optional(),
  }).strict()]),
  search: z.tuple([RemoteSearchSchema]),
  duplicates: z.tuple([filters]),
  listAlbums: z.tuple([]),
  createAlbum: z.tuple([name, RemoteSearchSchema.optional()]),
  renameAlbum: z.tuple([id, name]),
  deleteAlbum: z.tuple([id]),
  addToAlbum: z.tuple([id, ids, id.optional()]),
  removeFromAlbum: z.tuple([id, ids]),
  reorderAlbum: z.tuple([id, ids]),
  albumPhotos: z.tuple([id, z.number().int().min(0).max(1_000_000).optional(), z.number().int().min(1).max(10_000).optional()]),
  listTaxonomies: z.tuple([]),
  categoryCounts: z.tuple([z.string().min(1).max(100), z.number().min(0).max(1).optional()]),
  listCategories: z.tuple([]),
  teachCategory: z.tuple([name, ids, ids.optional()]),
  deleteCategory: z.tuple([name]),
  markSame: z.tuple([z.array(id).min(2).max(1000)]),
  unmarkSame: z.tuple([z.array(id).min(1).max(1000)]),
  listSameGroups: z.tuple([]),
  listPeople: z.tuple([z.object({ includeHidden: z.boolean().optional() }).strict().optional()]),
  personFaces: z.tuple([id]),
  namePerson: z.tuple([id, z.string().min(1).max(100)]),
  mergePeople: z.tuple([id, z.array(id).min(1).max(100)]),
  splitFaces: z.tuple([z.array(id).min(1).max(10_000)]),
  moveFace: z.tuple([id, id.nullable()]),
  notThisPerson: z.tuple([id, id]),
  hidePerson: z.tuple([id, z.boolean()]),
  forgetFaces: z.tuple([]),
  faceSuggestions: z.tuple([z.number().int().min(1).max(1000).optional()]),
  listPlaces: z.tuple([z.string().regex(/^[A-Za-z]{2}$/, 'a two-letter country code').optional()]),
  photoLocations: z.tuple([filters]),
} as const satisfies { readonly [K in keyof LoupeApi]: z.ZodType };

export type RemoteMethod = keyof typeof REMOTE_METHODS;

export interface Call {
  readonly method: RemoteMethod;
  readonly args: readonly unknown[];
}

export function isRemoteMethod(method: unknown): method is RemoteMethod {
  return typeof method === 'string' && Object.prototype.hasOwnProperty.call(REMOTE_METHODS, method);
}

/**
 * Checks a call from outside: a known method and arguments that pass its schema. JSON has no
 * undefined, so trailing nulls are read as arguments left out.
 */
export function parseCall(method: unknown, args: unknown): Call {
  if (!isRemoteMethod(method)) throw new CallError(`unknown method ${JSON.stringify(String(method)).slice(0, 80)}`);
  if (!Array.isArray(args)) throw new CallError(`${method}: arguments must be a list`);
  const trimmed = [...args];
  while (trimmed.length > 0 && (trimmed[trimmed.length - 1] === null || trimmed[trimmed.length - 1] === undefined)) trimmed.pop();
  const r = REMOTE_METHODS[method].safeParse(trimmed);
  if (!r.success) {
    throw new CallError(`${method}: ${r.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ')}`);
  }
  return { method, args: r.data as readonly unknown[] };
}

/** Runs a checked call on the engine. */
export function dispatch(api: LoupeApi, call: Call): Promise<unknown> {
  const fn = api[call.method] as (...a: readonly unknown[]) => Promise<unknown>;
  return fn.apply(api, [...call.args]);
}
