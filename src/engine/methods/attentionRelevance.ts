// The attention view's relevance mode: the attention-gradient relevance matrix (computed by the
// token attribution's code, attribution/attentionGradient.ts) cut to the tokens the view shows. A
// graph that cannot be differentiated (or a gradient run that fails) gives the reason (it names the
// operators), not an error, so that the attention itself is still shown.

import { LoupeError } from '../../protocol/errors';
import type { AttentionRelevance } from '../../protocol/workerProtocol';
import type { Work } from '../inference/predict';
import type { LoadedModel } from '../model/loadModel';
import { shownTokens } from './attention';
import { keepTokens } from './attentionMath';
import { attentionRelevance, type RunEnv } from './attribution';

const RELEVANCE_FAILURES: ReadonlySet<string> = new Set(['UNSUPPORTED', 'INFERENCE_FAILED', 'INTERNAL']);

/** The relevance over the tokens the attention view shows: all, or all but the special tokens. */
export async function relevanceForView(model: LoadedModel, text: string, maxTokens: number | null, hideSpecial: boolean, env: RunEnv, work: Work): Promise<AttentionRelevance> {
  let rel: Awaited<ReturnType<typeof attentionRelevance>>;
  try {
    rel = await attentionRelevance(model, text, maxTokens, env, work);
  } catch (e) {
    // The attention is shown whatever happens to the relevance (a cancel still cancels the request).
    if (!(e instanceof LoupeError) || !RELEVANCE_FAILURES.has(e.code)) throw e;
    const unavailable = e.code === 'UNSUPPORTED' ? e.message : `It could not be computed: ${e.message}`;
    return { unavailable, target: null, rows: [], matrix: new Float32Array(0), layerMaps: new Float32Array(0) };
  }
  const n = rel.size;
  const shown = shownTokens(rel.tokens, hideSpecial);
  const m = shown.length;
  const layerMaps = new Float32Array(rel.layerMaps.length * m * m);
  rel.layerMaps.forEach((bar, l) => layerMaps.set(keepTokens(Float32Array.from(bar), 1, n, shown, false), l * m * m));
  const t = rel.target;
  return {
    unavailable: null,
    target: { kind: t.kind, index: t.index!, label: t.label ?? String(t.index), value: t.value },
    rows: rel.rows,
    matrix: keepTokens(Float32Array.from(rel.relevance), 1, n, shown, false),
    layerMaps,
  };
}
