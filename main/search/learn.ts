/**
 * Few-shot categories: an L2-regularised logistic regression (a linear probe, as CLIP's authors
 * evaluate few-shot transfer) on embeddings, trained from a few examples, counter-examples and a
 * background sample of the library. Pure and deterministic: the same inputs give the same model.
 */

export interface LinearModel {
  readonly weights: Float32Array;
  readonly bias: number;
  /** Subtracted from a vector before the dot product (the background's mean): CLIP embeddings share a large common component. */
  readonly center: Float32Array;
}

export interface TrainOptions {
  /** L2 penalty on the weights. */
  readonly l2?: number;
  readonly iterations?: number;
  /** How much the background sample counts against explicit counter-examples (each set's total weight). */
  readonly backgroundWeight?: number;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/**
 * Trains positives against negatives (counter-examples) and background (unlabelled library
 * pictures, assumed mostly negative). Positives carry half the total weight, negatives the other
 * half, so a handful of examples is not drowned by hundreds of background pictures.
 */
export function trainLinear(
  positives: readonly Float32Array[], negatives: readonly Float32Array[], background: readonly Float32Array[], opts: TrainOptions = {},
): LinearModel {
  if (positives.length === 0) throw new RangeError('a category needs at least one example');
  const dim = positives[0]!.length;
  const l2 = opts.l2 ?? 1e-3;
  const iterations = opts.iterations ?? 300;
  const bgShare = negatives.length === 0 ? 1 : background.length === 0 ? 0 : (opts.backgroundWeight ?? 0.3);
  const center = new Float32Array(dim);
  const basis = background.length > 0 ? background : [...positives, ...negatives];
  for (const v of basis) for (let i = 0; i < dim; i++) center[i]! += v[i]! / basis.length;

  const xs: Float32Array[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  const add = (set: readonly Float32Array[], y: number, total: number): void => {
    if (set.length === 0 || total === 0) return;
    for (const v of set) {
      if (v.length !== dim) throw new RangeError(`vector of dimension ${v.length}, expected ${dim}`);
      const c = new Float32Array(dim);
      for (let i = 0; i < dim; i++) c[i] = v[i]! - center[i]!;
      xs.push(c);
      ys.push(y);
      ws.push(total / set.length);
    }
  };
  add(positives, 1, 0.5);
  add(negatives, 0, 0.5 * (1 - bgShare));
  add(background, 0, 0.5 * bgShare);

  // Gradient descent with Nesterov momentum; the step from the gradient's Lipschitz bound.
  let maxNorm = 0;
  for (const x of xs) {
    let s = 0;
    for (let i = 0; i < dim; i++) s += x[i]! * x[i]!;
    maxNorm = Math.max(maxNorm, s);
  }
  const totalW = ws.reduce((a, b) => a + b, 0);
  const step = 1 / (0.25 * (maxNorm + 1) + l2);
  let w = new Float64Array(dim);
  let b = 0;
  let prevW = new Float64Array(dim);
  let prevB = 0;
  for (let t = 1; t <= iterations; t++) {
    const mom = (t - 1) / (t + 2);
    const lw = new Float64Array(dim);
    for (let i = 0; i < dim; i++) lw[i] = w[i]! + mom * (w[i]! - prevW[i]!);
    const lb = b + mom * (b - prevB);
    const gw = new Float64Array(dim);
    let gb = 0;
    for (let n = 0; n < xs.length; n++) {
      const x = xs[n]!;
      let z = lb;
      for (let i = 0; i < dim; i++) z += lw[i]! * x[i]!;
      const r = (ws[n]! / totalW) * (sigmoid(z) - ys[n]!);
      for (let i = 0; i < dim; i++) gw[i]! += r * x[i]!;
      gb += r;
    }
    prevW = w;
    prevB = b;
    w = new Float64Array(dim);
    for (let i = 0; i < dim; i++) w[i] = lw[i]! - step * (gw[i]! + l2 * lw[i]!);
    b = lb - step * gb;
  }
  return { weights: Float32Array.from(w), bias: b, center };
}

/** The model's probability that a vector belongs to the category. */
export function probability(m: LinearModel, v: Float32Array): number {
  let z = m.bias;
  for (let i = 0; i < v.length; i++) z += m.weights[i]! * (v[i]! - m.center[i]!);
  return sigmoid(z);
}
