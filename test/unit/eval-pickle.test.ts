import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NdArray, numbers, PickleError, PyDict, strings, unpickle, type PyValue } from '../../eval/pickle.js';

/** Pickles made by the real Python (ground-truth files come from it), in the given protocol. */
function pythonPickle(expr: string, protocol: number, numpy = false): Uint8Array {
  const code = `import pickle, sys${numpy ? ', numpy as np' : ''}\nsys.stdout.buffer.write(pickle.dumps(${expr}, protocol=${protocol}))`;
  const r = spawnSync('python3', ['-c', code]);
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return new Uint8Array(r.stdout);
}

const hasPython = spawnSync('python3', ['-c', 'print(1)']).status === 0;
const hasNumpy = hasPython && spawnSync('python3', ['-c', 'import numpy']).status === 0;

function dict(v: PyValue): PyDict {
  if (!(v instanceof PyDict)) throw new Error('not a dict');
  return v;
}

const GND = `{'imlist': ['all_souls_000000', 'ashmolean_000001'], 'qimlist': ['all_souls_000013'],
  'gnd': [{'bbx': [136.5, 34.1, 648.5, 955.7], 'easy': [0, 1], 'hard': [], 'junk': [1]}], 'big': 2**70, 'neg': -5, 'flag': True, 'none': None}`;

describe.skipIf(!hasPython)('pickle reader (against pickles written by Python)', () => {
  for (const protocol of [0, 2, 4, 5]) {
    it(`reads a revisitop-shaped ground truth in protocol ${protocol}`, () => {
      const root = dict(unpickle(pythonPickle(GND, protocol)));
      expect(strings(root.get('imlist'))).toEqual(['all_souls_000000', 'ashmolean_000001']);
      expect(strings(root.get('qimlist'))).toEqual(['all_souls_000013']);
      const gnd = root.get('gnd');
      expect(Array.isArray(gnd)).toBe(true);
      const q = dict((gnd as PyValue[])[0]!);
      expect(numbers(q.get('bbx'))).toEqual([136.5, 34.1, 648.5, 955.7]);
      expect(numbers(q.get('easy'))).toEqual([0, 1]);
      expect(numbers(q.get('hard'))).toEqual([]);
      expect(root.get('big')).toBe(2n ** 70n);
      expect(root.get('neg')).toBe(-5);
      expect(root.get('flag')).toBe(true);
      expect(root.get('none')).toBeNull();
    });
  }

  it.skipIf(!hasNumpy)('reads NumPy arrays of ints and floats, big- and little-endian, in every protocol', () => {
    for (const protocol of [2, 4, 5]) {
      const root = dict(unpickle(pythonPickle(
        `{'easy': np.array([3, 1, 4], dtype=np.int64), 'bbx': np.array([1.5, 2.0, 3.25, 4.0]), 'm': np.arange(6, dtype='>i4').reshape(2, 3), 'f': np.array([0.5], dtype=np.float32), 'e': np.array([], dtype=np.int64)}`,
        protocol, true,
      )));
      expect(numbers(root.get('easy'))).toEqual([3, 1, 4]);
      expect(numbers(root.get('bbx'))).toEqual([1.5, 2, 3.25, 4]);
      const m = root.get('m');
      expect(m).toBeInstanceOf(NdArray);
      expect((m as NdArray).shape).toEqual([2, 3]);
      expect(numbers(m)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(numbers(root.get('f'))).toEqual([0.5]);
      expect(numbers(root.get('e'))).toEqual([]);
    }
  });

  it('refuses a pickle that would build anything else, and a truncated one', () => {
    expect(() => unpickle(pythonPickle(`__import__('collections').OrderedDict(a=1)`, 2))).toThrow(PickleError);
    const ok = pythonPickle(GND, 4);
    expect(() => unpickle(ok.subarray(0, ok.length - 20))).toThrow(PickleError);
  });
});
