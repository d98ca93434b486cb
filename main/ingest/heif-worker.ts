/**
 * A worker thread that decodes HEIC/HEIF pictures with libheif compiled to WebAssembly
 * (libheif-js), for the photos libvips cannot decode (HEVC-coded: every iPhone photo). The decode
 * is synchronous CPU work of hundreds of milliseconds, so it never runs on the engine's thread.
 * A file with several images (a burst, a depth map, a thumbnail) gives its primary one. Pixels go
 * back as a transferred buffer.
 */
import { parentPort } from 'node:worker_threads';
import libheif from 'libheif-js/wasm-bundle';
import type { HeifReply, HeifRequest } from './heif.js';

async function decodePrimary(data: Uint8Array): Promise<{ width: number; height: number; pixels: ArrayBuffer }> {
  await libheif.ready;
  const decoder = new libheif.HeifDecoder();
  const images = decoder.decode(data);
  try {
    const image = images.find((i) => i.is_primary()) ?? images[0];
    if (!image) throw new Error('the file holds no image (wrong brand, or cut off before its first image)');
    const width = image.get_width();
    const height = image.get_height();
    const pixels = await new Promise<Uint8ClampedArray>((resolve, reject) => {
      image.display({ data: new Uint8ClampedArray(width * height * 4), width, height }, (r) => {
        if (r) resolve(r.data);
        else reject(new Error('libheif could not decode the image data (truncated or corrupt)'));
      });
    });
    return { width, height, pixels: pixels.buffer as ArrayBuffer };
  } finally {
    for (const i of images) i.free();
    decoder.decoder.delete();
  }
}

const port = parentPort!;
port.on('message', (req: HeifRequest) => {
  decodePrimary(new Uint8Array(req.data)).then(
    (r) => port.postMessage({ id: req.id, ...r } satisfies HeifReply, [r.pixels]),
    (err: unknown) => port.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies HeifReply),
  );
});
