/** What a dataset layout gives the harness: the pictures to index and what counts as a right answer. */

/** Relevant and ignored pictures of one query under one protocol. */
export interface Judgement {
  readonly positives: ReadonlySet<string>;
  readonly junk: ReadonlySet<string>;
}

/** Pixel box (x1, y1, x2, y2) in the picture as stored. */
export type PixelBox = readonly [number, number, number, number];

export interface ImageQuery {
  readonly name: string;
  /** The query picture's key. */
  readonly image: string;
  /** The query is this crop of the picture (Oxford/Paris), else the whole picture. */
  readonly box: PixelBox | null;
  /** Protocol name → judgement ('' when the dataset has one protocol). */
  readonly judgements: Readonly<Record<string, Judgement>>;
}

interface Base {
  /** A line saying what was found (layout, counts). */
  readonly title: string;
  /** Keys (paths relative to the dataset folder, '/'-separated) of the pictures to index. */
  readonly images: readonly string[];
  /** Keys listed by the ground truth but absent from the folder. */
  readonly missing: readonly string[];
}

/** mAP datasets: INRIA Holidays, Oxford5k/Paris6k, ROxford/RParis. */
export interface RankingDataset extends Base {
  readonly kind: 'ranking';
  readonly queries: readonly ImageQuery[];
  readonly protocols: readonly string[];
  /** The query picture is taken out of its own ranking (Holidays); otherwise it counts like any other. */
  readonly excludeQuery: boolean;
  /** Also report mP@k (the revisited protocol does). */
  readonly precisionAt: readonly number[];
}

/** UKBench: groups of pictures of one object; every picture is a query. */
export interface GroupDataset extends Base {
  readonly kind: 'groups';
  readonly groupOf: ReadonlyMap<string, string>;
  /** The N-S score counts this many top results (4). */
  readonly k: number;
}

/** Captioned pictures: text→image and image→text retrieval. */
export interface CaptionDataset extends Base {
  readonly kind: 'captions';
  readonly captions: readonly { readonly image: string; readonly text: string }[];
}

/** One folder per class: zero-shot classification and image→image retrieval. */
export interface ClassDataset extends Base {
  readonly kind: 'classes';
  readonly classes: readonly string[];
  readonly labelOf: ReadonlyMap<string, number>;
}

export type Dataset = RankingDataset | GroupDataset | CaptionDataset | ClassDataset;

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}
