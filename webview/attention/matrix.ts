// Pure functions over the attention maps: picking one map out of the result, binning adjacent tokens
// when they do not fit, and turning a map into pixels through the theme's colour ramp.

import type { AttentionMode } from '../../src/protocol/attentionViewProtocol';
import type { AttentionResult } from '../../src/protocol/workerProtocol';

export interface MapChoice {
  mode: AttentionMode;
  /** Positions in result.layers / result.heads (not the model's indices). */
  layerPos: number;
  headPos: number;
}

/** R − I of a result's relevance (what the token attribution reads: each token's relevance to itself left out), made once. */
const relevanceShown = new WeakMap<Float32Array, Float32Array>();
function relevanceMinusIdentity(r: AttentionResult): Float32Array {
  const R = r.relevance!.matrix;
  let out = relevanceShown.get(R);
  if (!out) {
    const m = r.shown.length;
    out = Float32Array.from(R);
    for (let i = 0; i < m; i++) out[i * m + i]! -= 1;
    relevanceShown.set(R, out);
  }
  return out;
}

/** The query × key map (m × m, row-major) for a choice: a view into the result's buffers (no copy, but for R − I, made once). */
export function mapOf(r: AttentionResult, c: MapChoice): Float32Array {
  const m = r.shown.length;
  const mm = m * m;
  if (c.mode === 'rollout') return r.rollout.subarray(0, mm);
  if (c.mode === 'relevance') return relevanceMinusIdentity(r);
  if (c.mode === 'layer-relevance') {
    const l = r.layers[c.layerPos]!;
    return r.relevance!.layerMaps.subarray(l * mm, (l + 1) * mm);
  }
  if (c.mode === 'mean') return r.headMean.subarray(c.layerPos * mm, (c.layerPos + 1) * mm);
  const at = (c.layerPos * r.heads.length + c.headPos) * mm;
  return r.attention.subarray(at, at + mm);
}

export function mapKey(c: MapChoice): string {
  if (c.mode === 'rollout' || c.mode === 'relevance') return c.mode;
  return c.mode === 'mean' ? `mean:${c.layerPos}` : c.mode === 'layer-relevance' ? `layer-relevance:${c.layerPos}` : `head:${c.layerPos}:${c.headPos}`;
}

export interface Plan {
  /** Rows (and columns) drawn. */
  bins: number;
  /** Tokens per bin (the last bin may hold fewer). */
  binSize: number;
  /** CSS pixels per drawn cell. */
  cell: number;
}

export const MIN_CELL = 3;
export const MAX_CELL = 28;

/** How to fit m tokens in `available` CSS pixels: one cell per token, or bins of adjacent tokens. */
export function planCells(m: number, available: number, minCell = MIN_CELL, maxCell = MAX_CELL): Plan {
  const avail = Math.max(minCell, Math.floor(available));
  const cell = Math.floor(avail / m);
  if (cell >= minCell) return { bins: m, binSize: 1, cell: Math.min(cell, maxCell) };
  const maxBins = Math.max(1, Math.floor(avail / minCell));
  const binSize = Math.ceil(m / maxBins);
  const bins = Math.ceil(m / binSize);
  return { bins, binSize, cell: Math.max(1, Math.min(maxCell, Math.floor(avail / bins))) };
}

export interface Binned {
  values: Float32Array;
  bins: number;
  binSize: number;
  max: number;
}

/**
 * Bins an m × m map: a bin's weight is the attention its queries pay to its keys, summed over the
 * keys and averaged over the queries, so every row still sums to what the rows summed to.
 */
export function binMap(map: Float32Array, m: number, binSize: number): Binned {
  const bins = Math.ceil(m / binSize);
  if (binSize === 1) {
    let max = 0;
    for (let i = 0; i < map.length; i++) if (map[i]! > max) max = map[i]!;
    return { values: map, bins, binSize, max };
  }
  const values = new Float32Array(bins * bins);
  for (let q = 0; q < m; q++) {
    const row = q * m;
    const out = Math.floor(q / binSize) * bins;
    for (let k = 0; k < m; k++) values[out + Math.floor(k / binSize)]! += map[row + k]!;
  }
  let max = 0;
  for (let qb = 0; qb < bins; qb++) {
    const rows = Math.min(binSize, m - qb * binSize);
    for (let kb = 0; kb < bins; kb++) {
      const v = (values[qb * bins + kb]! /= rows);
      if (v > max) max = v;
    }
  }
  return { values, bins, binSize, max };
}

/** How weights map to colours: linear or square root up to the map's maximum, or each row to its own maximum. */
export type ColourScale = 'sqrt' | 'linear' | 'row';

/** The position (0 to 1) on the colour ramp of weight `v`, for a map or row whose maximum is `max`. */
export function rampPosition(v: number, max: number, scale: ColourScale): number {
  if (!(max > 0) || !Number.isFinite(v) || v <= 0) return 0;
  const t = Math.min(1, v / max);
  return scale === 'sqrt' ? Math.sqrt(t) : t;
}

/** RGBA pixels, one per bin, coloured through the ramp. */
export function pixelsOf(b: Binned, lut: Uint8ClampedArray, scale: ColourScale): Uint8ClampedArray<ArrayBuffer> {
  const px = new Uint8ClampedArray(new ArrayBuffer(b.bins * b.bins * 4));
  for (let q = 0; q < b.bins; q++) {
    let max = b.max;
    if (scale === 'row') {
      max = 0;
      for (let k = 0; k < b.bins; k++) max = Math.max(max, b.values[q * b.bins + k]!);
    }
    for (let k = 0; k < b.bins; k++) {
      const i = q * b.bins + k;
      const j = Math.round(rampPosition(b.values[i]!, max, scale) * 255) * 4;
      px[i * 4] = lut[j]!;
      px[i * 4 + 1] = lut[j + 1]!;
      px[i * 4 + 2] = lut[j + 2]!;
      px[i * 4 + 3] = 255;
    }
  }
  return px;
}

/** An offscreen canvas of bins × bins pixels: drawn scaled (without smoothing) into the view. */
export function imageOf(b: Binned, lut: Uint8ClampedArray, scale: ColourScale): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = b.bins;
  c.height = b.bins;
  const ctx = c.getContext('2d');
  if (ctx) ctx.putImageData(new ImageData(pixelsOf(b, lut, scale), b.bins, b.bins), 0, 0);
  return c;
}

/** FNV-1a over bytes, as 8 hex digits. */
export function fnv1a(data: Uint8ClampedArray | Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
