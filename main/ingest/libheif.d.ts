/** Types for the part of libheif-js (libheif compiled to WebAssembly) Loupe uses; it ships none. */
declare module 'libheif-js/wasm-bundle' {
  interface HeifImage {
    get_width(): number;
    get_height(): number;
    is_primary(): boolean;
    /** Decodes into `target` (RGBA), applying the file's rotation and mirroring; calls back with null on failure. */
    display(
      target: { data: Uint8ClampedArray; width: number; height: number },
      done: (result: { data: Uint8ClampedArray } | null) => void,
    ): void;
    free(): void;
  }
  interface HeifDecoder {
    readonly decoder: { delete(): void };
    decode(data: Uint8Array): HeifImage[];
  }
  const libheif: { readonly HeifDecoder: new () => HeifDecoder; readonly ready?: Promise<void> };
  export default libheif;
}
