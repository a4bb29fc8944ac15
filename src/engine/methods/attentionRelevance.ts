// The attention view's relevance mode: the attention-gradient relevance matrix (computed by the
// token attribution's code, attribution/attentionGradient.ts) cut to the tokens the view shows. A
// graph that cannot be differentiated gives the reason (it names the operators), not an error, so
// that the attention itself is still shown.

import { LoupeError } from '../../protocol/errors';
import type { AttentionRelevance } from '../../protocol/workerProtocol';
import type { Work } from '../inference/predict';
import type { LoadedModel } from '../model/loadModel';
import { keepTokens } from './attentionMath';
import { attentionRelevance, type RunEnv } from './attribution';

export async function relevanceForView(model: LoadedModel, text: string, maxTokens: number | null, shown: number[], env: RunEnv, work: Work): Promise<AttentionRelevance> {
  let rel: Awaited<ReturnType<typeof attentionRelevance>>;
  try {
    rel = await attentionRelevance(model, text, maxTokens, env, work);
  } catch (e) {
    if (e instanceof LoupeError && e.code === 'UNSUPPORTED') return { unavailable: e.message, target: null, rows: [], matrix: new Float32Array(0), layerMaps: new Float32Array(0) };
    throw e;
  }
  const n = rel.size;
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
