/**
 * The search request's schema: the one check for input from IPC, HTTP, the CLI and saved
 * smart-album queries.
 */
import { z } from 'zod';
import type { SearchRequest } from './api.js';
import { UserError } from './errors.js';

/** The user's to act on (see contract/errors.ts). */
export class RequestError extends UserError {}

export const BoxSchema = z.object({
  x: z.number().min(0).max(1),
  y: z.number().min(0).max(1),
  w: z.number().gt(0).max(1),
  h: z.number().gt(0).max(1),
});

/** The search request, validated: the same schema checks IPC and HTTP input and saved smart-album queries. */
export const SearchRequestSchema = z.object({
  text: z.string().max(1000).optional(),
  photo: z.union([
    z.object({ id: z.number().int().positive() }).strict(),
    z.object({ path: z.string().min(1).max(4096) }).strict(),
    z.object({ bytes: z.string().min(1).max(70_000_000) }).strict(),
  ]).optional(),
  region: z.object({ photoId: z.number().int().positive(), box: BoxSchema }).strict().optional(),
  mode: z.enum(['similar', 'same']).optional(),
  textWeight: z.number().min(0).max(1).optional(),
  expand: z.boolean().optional(),
  diffusion: z.boolean().optional(),
  all: z.boolean().optional(),
  refineBoxes: z.number().int().min(0).max(1000).optional(),
  filters: z.object({
    from: z.number().optional(),
    to: z.number().optional(),
    folders: z.array(z.number().int()).max(1000).optional(),
    albums: z.array(z.number().int()).max(1000).optional(),
    camera: z.string().max(200).optional(),
    hasLocation: z.boolean().optional(),
    orientation: z.enum(['landscape', 'portrait', 'square']).optional(),
    formats: z.array(z.string().max(20)).max(20).optional(),
    minRating: z.number().int().min(-1).max(5).optional(),
    keywords: z.array(z.string().min(1).max(200)).max(50).optional(),
    labels: z.array(z.string().min(1).max(50)).max(20).optional(),
    people: z.array(z.number().int().positive()).max(20).optional(),
    notPeople: z.array(z.number().int().positive()).max(20).optional(),
    peopleCount: z.number().int().min(0).max(100).optional(),
    onlyPeople: z.boolean().optional(),
    places: z.array(z.string().min(1).max(200)).max(20).optional(),
    notPlaces: z.array(z.string().min(1).max(200)).max(20).optional(),
    placeIds: z.array(z.number().int().positive()).max(1000).optional(),
    texts: z.array(z.string().min(1).max(500)).max(20).optional(),
    area: z.object({
      south: z.number().min(-90).max(90), west: z.number().min(-180).max(180),
      north: z.number().min(-90).max(90), east: z.number().min(-180).max(180),
    }).strict().refine((a) => a.south <= a.north, 'south must not be north of north').optional(),
  }).strict().optional(),
  sort: z.enum(['relevance', 'newest', 'oldest']).optional(),
  offset: z.number().int().min(0).max(1_000_000).optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
}).strict();

export function parseSearchRequest(v: unknown): SearchRequest {
  const r = SearchRequestSchema.safeParse(v);
  if (!r.success) throw new RequestError(`invalid search request: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data as SearchRequest;
}

