// Human-readable CLI output. JSON output does not go through here.

import type { AttentionResult, Explanation, ModelInfo, Prediction, TensorSpec } from '../protocol/workerProtocol';

const tensor = (t: TensorSpec): string => `${t.name} ${t.type}[${t.shape.join(', ')}]`;
const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;
const bar = (p: number): string => '█'.repeat(Math.round(p * 20));

export function formatModel(m: ModelInfo, indent: string): string {
  const lines = [
    `model:   ${m.path}`,
    `file:    ${m.onnxFile} (${(m.sizeBytes / 1e6).toFixed(2)} MB, opset ${m.opset ?? '?'}, sha256 ${m.sha256.slice(0, 12)}…)`,
    `task:    ${m.task} (from ${m.taskSource})`,
    `inputs:  ${m.inputs.map(tensor).join('; ')}`,
    `outputs: ${m.outputs.map(tensor).join('; ')}`,
  ];
  if (m.labels) lines.push(`labels:  ${m.labels.join(', ')}`);
  if (m.featureNames) lines.push(`features: ${m.featureNames.length} (${m.featureNames.slice(0, 4).join(', ')}${m.featureNames.length > 4 ? ', …' : ''})`);
  if (m.maxLength !== null) lines.push(`max tokens: ${m.maxLength}`);
  if (m.onnxCandidates.length > 1) lines.push(`other .onnx files: ${m.onnxCandidates.join(', ')}`);
  return lines.map((l) => indent + l).join('\n') + '\n';
}

/** One line per row for tabular predictions: a CSV can have thousands. */
export function formatTabularRow(p: Prediction, index: number): string {
  if (p.kind !== 'tabular') return formatPrediction(p);
  const answer = p.predicted ? `${p.predicted.label} (${pct(p.predicted.probability)})` : String(p.value);
  return `row ${String(index + 1).padStart(4)}: ${answer}\n`;
}

export function formatPrediction(p: Prediction): string {
  const out: string[] = [''];
  if (p.kind !== 'tabular') {
    out.push(`tokens:  ${p.tokens.length}`);
    if (p.truncation) {
      out.push(`note:    the text was truncated to ${p.truncation.keptTokens} of ${p.truncation.originalTokens} tokens (the model takes at most ${p.truncation.maxLength}); only its first ${p.truncation.keptChars} characters were used.`);
    }
  }
  if (p.kind === 'text-classification' || (p.kind === 'tabular' && p.labels)) {
    const labels = p.kind === 'tabular' ? p.labels! : p.labels;
    const predicted = p.predicted!;
    out.push(`prediction: ${predicted.label} (${pct(predicted.probability)})`);
    const width = Math.max(...labels.map((l) => l.label.length));
    for (const l of labels) out.push(`  ${l.label.padEnd(width)}  ${pct(l.probability).padStart(6)}  ${bar(l.probability)}`);
  } else if (p.kind === 'tabular') {
    out.push(`prediction: ${p.value}`);
  } else {
    out.push('next tokens:');
    for (const t of p.top) out.push(`  ${JSON.stringify(t.text).padEnd(16)} ${pct(t.probability).padStart(6)}  ${bar(t.probability)}`);
    if (p.generated) out.push(`continuation: ${JSON.stringify(p.generated.text)}`);
  }
  return out.join('\n') + '\n';
}

/** For each query token, the keys it attends to most: per selected layer (mean over the selected heads), rollout, or relevance R − I. */
export function formatAttention(r: AttentionResult, show: 'layers' | 'rollout' | 'relevance'): string {
  const n = r.shown.length;
  const label = (i: number): string => JSON.stringify(r.tokens[r.shown[i]!]!.token);
  const out: string[] = [`tokens: ${n}${r.hideSpecial ? ' (special tokens hidden, rows renormalised)' : ''}; layers ${r.numLayers}, heads ${r.numHeads}`];
  if (r.truncation) out.push(`note: truncated to ${r.truncation.keptTokens} of ${r.truncation.originalTokens} tokens.`);
  const describe = (title: string, m: (q: number, k: number) => number): void => {
    out.push('', title);
    for (let q = 0; q < n; q++) {
      const top = Array.from({ length: n }, (_, k) => k)
        .sort((a, b) => m(q, b) - m(q, a))
        .slice(0, 3)
        .map((k) => `${label(k)} ${m(q, k).toFixed(3)}`);
      out.push(`  ${label(q).padEnd(16)} → ${top.join(', ')}`);
    }
  };
  const rel = r.relevance;
  if (show === 'relevance' && rel?.target) {
    describe(`attention-gradient relevance R − I of ${rel.target.kind === 'class' ? 'class' : 'next token'} ${JSON.stringify(rel.target.label)} (the token attribution reads row ${rel.rows.join(', ')}):`, (q, k) => rel.matrix[q * n + k]! - (q === k ? 1 : 0));
  } else if (show === 'rollout') describe('attention rollout (all layers):', (q, k) => r.rollout[q * n + k]!);
  else {
    r.layers.forEach((l, li) => {
      const heads = r.heads.length;
      const at = (q: number, k: number): number => {
        let s = 0;
        for (let hi = 0; hi < heads; hi++) s += r.attention[((li * heads + hi) * n + q) * n + k]!;
        return s / heads;
      };
      describe(`layer ${l}, ${heads === r.numHeads ? 'mean over heads' : `heads ${r.heads.join(', ')}`}:`, at);
    });
  }
  return out.join('\n') + '\n';
}

/** One method's token scores, its target, budget and faithfulness. */
export function formatExplanation(e: Explanation): string {
  const t = e.target;
  const what = t.kind === 'class' ? `class ${t.label ?? t.index}` : t.kind === 'next-token' ? `next token ${t.index}` : `continuation ${JSON.stringify(t.continuationText ?? '')}`;
  const out = [
    '',
    `${e.method}: target ${what} (${t.output} ${t.value.toFixed(4)}${t.baselineValue !== null ? `, baseline ${t.baselineValue.toFixed(4)}` : ''}); ${e.forwardPasses} forward passes (planned ${e.plannedForwardPasses}), seed ${e.seed}`,
  ];
  const grad = e.parameters.gradients;
  if (grad === 'exact' || grad === 'finite-differences') out.push(`  gradients: ${grad === 'exact' ? 'exact (the differentiated ONNX graph)' : 'finite differences'}`);
  const layer = e.parameters.layer;
  if (typeof layer === 'string') out.push(`  layer: ${typeof e.parameters.layerBlock === 'number' ? `block ${e.parameters.layerBlock}'s output, ` : ''}${layer}`);
  if (e.completenessGap !== null) out.push(`  completeness gap (Σ scores − (f(x) − f(baseline))): ${e.completenessGap.toExponential(2)}`);
  if (e.faithfulness) {
    const f = e.faithfulness;
    out.push(`  comprehensiveness ${f.attribution.comprehensivenessMean.toFixed(4)} (random ${f.random.comprehensivenessMean.toFixed(4)}), sufficiency ${f.attribution.sufficiencyMean.toFixed(4)} (random ${f.random.sufficiencyMean.toFixed(4)}), deletion AOPC ${f.attribution.deletion.aopc.toFixed(4)} (random ${f.random.deletion.aopc.toFixed(4)})`);
  }
  for (const w of e.warnings) out.push(`  warning: ${w}`);
  const max = Math.max(1e-12, ...e.scores.map((x) => Math.abs(x)));
  e.tokens.forEach((tok, i) => {
    if (!e.attributed[i]) return;
    const s = e.scores[i]!;
    const bar = (s >= 0 ? '+' : '−').repeat(Math.max(0, Math.round((Math.abs(s) / max) * 12)));
    out.push(`  ${JSON.stringify(tok.token).padEnd(18)} ${s.toFixed(5).padStart(10)}  ${bar}`);
  });
  if (e.generation) out.push(`  generated: ${JSON.stringify(e.generation.text)} (${e.generation.steps.length} steps; see --json for the matrix)`);
  return out.join('\n') + '\n';
}
