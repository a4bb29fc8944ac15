// The explained scalar, chosen at run time by inputs so that one cached gradient graph serves every
// target: K (position, token) picks per row, each weighted as a logit and/or as a log-probability.
//   select  [B, K, P] float  one-hot over the output's positions (P = 1 for a classifier's [B, C])
//   token   [B, K, 1] int64  the class or vocabulary index
//   wLogit, wLogprob [B, K]   weights: f = Σ_k wLogit·logit + wLogprob·log softmax
// A class logit is one pick with wLogit = 1; a next-token log-probability one pick with wLogprob = 1;
// a continuation's log-probability K picks. A probability p = exp(log p) has gradient p·∇log p,
// which the caller applies. Its backward seed is the gradient of f with respect to the logits.

import type { Emitter } from './emitter';

export const TARGET_INPUTS = {
  select: 'loupe_target_select',
  token: 'loupe_target_token',
  wLogit: 'loupe_target_w_logit',
  wLogprob: 'loupe_target_w_logprob',
} as const;
export const TARGET_VALUE = 'loupe_target_value';

export interface TargetHead {
  /** f per row, [B]. */
  value: string;
  /** ∂f/∂logits, the logits' shape. */
  seed: string;
}

export function emitTarget(e: Emitter, logits: string): TargetHead {
  const { select, token, wLogit, wLogprob } = TARGET_INPUTS;
  const r = e.rank(logits);
  const shape = e.shape(logits);
  const shape3 = e.op1('Concat', [e.op1('Gather', [shape, e.ints([0])]), e.ints([-1]), e.op1('Gather', [shape, e.ints([r - 1])])], { axis: 0 });
  const picked = e.op1('MatMul', [select, e.op1('Reshape', [logits, shape3])]); // [B, K, V]
  const logSoftmax = e.op1('LogSoftmax', [picked], { axis: 2 });
  const at = (t: string): string => e.reshapeLike(e.op1('GatherElements', [t, token], { axis: 2 }), wLogit);
  const terms = e.add(e.mul(at(picked), wLogit), e.mul(at(logSoftmax), wLogprob));
  const sum = e.reduceSum(terms, [1], false);
  const value = e.opTo(TARGET_VALUE, 'Identity', [sum]);
  // ∂f/∂picked = onehot(token)·(wLogit + wLogprob) − softmax·wLogprob
  const w3 = e.unsqueeze(e.add(wLogit, wLogprob), [2]);
  const onehot = e.op1('ScatterElements', [e.zerosLike(picked), token, w3], { axis: 2 });
  const gPicked = e.sub(onehot, e.mul(e.op1('Exp', [logSoftmax]), e.unsqueeze(wLogprob, [2])));
  const gLogits = e.reshapeLike(e.op1('MatMul', [e.transpose(select, [0, 2, 1]), gPicked]), logits);
  return { value, seed: gLogits };
}
