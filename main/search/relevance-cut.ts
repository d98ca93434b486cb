/**
 * The relevance cut-off of each serving CLIP-family space (relevance.ts says how): a sigmoid
 * model's from its scale and bias; a CLIP-style space's calibrated on the library, once and again
 * when the library has grown or shrunk by a fifth.
 */
import type { SpaceInfo } from '../embed/spaces.js';
import type { SearchContext } from './context.js';
import { calibrateNull, NULL_CAPTIONS, NULL_MIN_PICTURES, NULL_SAMPLE, nullThreshold, sigmoidThreshold } from './relevance.js';

interface Calibration {
  readonly pictures: number;
  readonly sample: Float32Array[];
  readonly k: number;
}

/** Evenly spread picks of `n` from `items` (all of them when there are fewer). */
function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}

export class RelevanceCut {
  private readonly calibrations = new Map<string, Calibration>();

  constructor(private readonly ctx: SearchContext, private readonly embedText: (s: SpaceInfo, text: string) => Promise<Float32Array>) {}

  /** The lowest score a sentence's result may have in this space. */
  async threshold(s: SpaceInfo, q: Float32Array): Promise<number> {
    const enc = await this.ctx.encoders.clip(s.pack);
    const scoring = enc.manifest.scoring;
    if (scoring.kind === 'sigmoid') return sigmoidThreshold(scoring.scale, scoring.bias);
    // Too few pictures to read a null from: every result stands.
    if (this.ctx.repos.vectors.pictures(s.space) < NULL_MIN_PICTURES) return -Infinity;
    const c = await this.calibration(s);
    return nullThreshold(q, c.sample, c.k);
  }

  private async calibration(s: SpaceInfo): Promise<Calibration> {
    const pictures = this.ctx.repos.vectors.pictures(s.space);
    const had = this.calibrations.get(s.space);
    if (had && Math.abs(pictures - had.pictures) <= had.pictures / 5) return had;
    const picked = spread(this.ctx.repos.vectors.items(s.space), NULL_SAMPLE);
    const sample = [...this.ctx.repos.vectors.globals(s.space, picked).values()];
    const nulls: Float32Array[] = [];
    for (const caption of NULL_CAPTIONS) nulls.push(await this.embedText(s, caption));
    const c = { pictures, sample, k: calibrateNull(nulls, sample) };
    this.calibrations.set(s.space, c);
    return c;
  }
}
