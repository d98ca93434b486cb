/**
 * The inference worker: owns onnxruntime sessions so model runs never block the thread that
 * serves the UI or reads files. Messages in: init (models, device, threads), run (feeds), and
 * replies carry output tensors as transferred buffers.
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { providerOrder, type Device, type Provider } from './device.js';
import { lastFeatureMap, withOutput } from '../onnx/inspect.js';
import type { FeedTensor, ModelIo, OutputTensor, WorkerReply, WorkerRequest } from './protocol.js';
import { errorMessage } from '../util/errors.js';

const sessions = new Map<string, ort.InferenceSession>();
/** Providers that failed to start: tried once per worker, reported once. */
const unavailable = new Set<Provider>();
let log: string[] = [];
// Errors surface as exceptions; a missing GPU provider is reported by the fallback line instead of
// onnxruntime's own stderr logging.
ort.env.logLevel = 'fatal';

async function createSession(
  path: string | Uint8Array,
  device: Device,
  threads: number,
): Promise<{ session: ort.InferenceSession; provider: Provider }> {
  const order = providerOrder(device);
  for (const provider of order) {
    if (unavailable.has(provider)) continue;
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      };
      const session =
        typeof path === 'string' ? await ort.InferenceSession.create(path, options) : await ort.InferenceSession.create(path, options);
      return { session, provider };
    } catch (err) {
      if (provider === 'cpu') throw err;
      unavailable.add(provider);
      log.push(
        `${provider} is not available (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); ` +
          `falling back to ${order[order.indexOf(provider) + 1]}`,
      );
    }
  }
  throw new Error('no execution provider could start');
}

/** Declared input shapes; a dimension given as a negative number or nothing is free (named '?'). */
function inputShapes(session: ort.InferenceSession): Record<string, (number | string)[]> {
  const out: Record<string, (number | string)[]> = {};
  for (const m of session.inputMetadata) {
    if (!m.isTensor) continue;
    out[m.name] = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : typeof d === 'string' && d ? d : '?'));
  }
  return out;
}

/** Declared input element types. */
function inputTypes(session: ort.InferenceSession): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of session.inputMetadata) if (m.isTensor) out[m.name] = String(m.type);
  return out;
}

function toOrt(t: FeedTensor): ort.Tensor {
  if (t.type === 'int32') return new ort.Tensor('int32', t.data, t.dims as number[]);
  if (t.type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(t.data, (v) => BigInt(v)), t.dims as number[]);
  return new ort.Tensor('float32', t.data, t.dims as number[]);
}

async function handle(msg: WorkerRequest): Promise<WorkerReply> {
  if (msg.type === 'init') {
    log = [];
    const providers: Record<string, Provider> = {};
    const io: Record<string, ModelIo> = {};
    for (const [name, spec] of Object.entries(msg.models)) {
      let source: string | Uint8Array = spec.path;
      let featureMap: string | undefined;
      if (spec.featureMap !== undefined) {
        const bytes = new Uint8Array(await readFile(spec.path));
        featureMap = spec.featureMap === 'auto' ? lastFeatureMap(bytes) : spec.featureMap;
        source = withOutput(bytes, featureMap);
      }
      const { session, provider } = await createSession(source, msg.device, spec.threads ?? msg.threads);
      sessions.set(name, session);
      providers[name] = provider;
      io[name] = {
        inputs: [...session.inputNames], outputs: [...session.outputNames],
        inputShapes: inputShapes(session), inputTypes: inputTypes(session), featureMap,
      };
    }
    return { type: 'ready', providers, io, log };
  }
  const session = sessions.get(msg.model);
  if (!session) throw new Error(`model ${msg.model} is not loaded`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(msg.feeds)) feeds[k] = toOrt(v);
  // Fetch every output and pick by name: onnxruntime-node 1.23 labels a fetched subset by the
  // positions of the graph's outputs, so asking for the second output returns it as the first.
  const result = await session.run(feeds);
  const outputs: Record<string, OutputTensor> = {};
  for (const name of msg.outputs) {
    const t = result[name];
    if (!t || t.type !== 'float32') throw new Error(`output ${name} is missing or not float32`);
    outputs[name] = { data: t.data as Float32Array, dims: [...t.dims] };
  }
  return { type: 'result', id: msg.id, outputs };
}

const port = parentPort;
if (!port) throw new Error('worker.ts runs as a worker thread');
port.on('message', (msg: WorkerRequest) => {
  handle(msg).then(
    (reply) => {
      const transfer = reply.type === 'result' ? Object.values(reply.outputs).map((o) => o.data.buffer as ArrayBuffer) : [];
      port.postMessage(reply, transfer);
    },
    (err: unknown) => port.postMessage({ type: 'error', id: msg.type === 'run' ? msg.id : -1, message: errorMessage(err) } satisfies WorkerReply),
  );
});
