// Layer Gradient × Activation (Captum's LayerGradientXActivation) on a named intermediate tensor h
// of shape [batch, sequence, hidden]: score_i = Σ_d h[i,d] · ∂f/∂h[i,d], from one forward-and-backward
// row whose gradient graph also returns h and ∂f/∂h (a tap). The layer is a tensor name, or a block
// index resolved to the block's output by model/blockOutputs.ts.

import * as path from 'node:path';
import { LoupeError } from '../../../protocol/errors';
import { blockOutputs, residualStream, StreamFacts } from '../../model/blockOutputs';
import type { LoadedModel } from '../../model/loadModel';
import { attentionTaps } from './attentionGradient';
import { findWordEmbedding } from './embeddingGraph';
import { logitsOf } from './gradientModel';
import { GradientRunner } from './gradientRunner';
import type { MethodOutput } from './method';
import type { Problem } from './problem';
import type { Runner } from './runner';

export interface ResolvedLayer {
  /** The tensor whose activation and gradient are read. */
  tensor: string;
  /** The block it is the output of, when given (or defaulted) as a block index. */
  block: number | null;
}

function stream(model: LoadedModel): StreamFacts {
  const file = model.info.onnxFile;
  const embedding = findWordEmbedding(model.facts.graph, file);
  return residualStream(model.facts.graph, embedding.tensor, logitsOf(model), model.facts.opset ?? 0);
}

/** The output tensor of every transformer block, in order. */
export function modelBlockOutputs(model: LoadedModel): string[] {
  return blockOutputs(stream(model), attentionTaps(model), model.info.onnxFile);
}

/**
 * A block index or a tensor name, checked against the graph. The default is the next-to-last block's
 * output, the last block's input: the last hidden state whose every token still reaches the target
 * (through the last attention). At the last block's output only the position the target reads has a
 * gradient, so a default there would score one token.
 */
export function resolveLayer(model: LoadedModel, layer: number | string | undefined): ResolvedLayer {
  const file = model.info.onnxFile;
  const base = path.basename(file);
  if (typeof layer === 'string') {
    const s = stream(model);
    const graph = model.facts.graph;
    const exists = graph.inputs.includes(layer) || graph.initializers.has(layer) || graph.nodes.some((n) => n.outputs.includes(layer));
    if (!exists) throw new LoupeError('BAD_REQUEST', `${base} has no tensor named "${layer}".`, { file });
    if (layer === s.order[0]) throw new LoupeError('BAD_REQUEST', `"${layer}" is the word embeddings of ${base}: use Gradient × Input (gradxinput) for them.`, { file });
    if (graph.outputs.includes(layer)) throw new LoupeError('BAD_REQUEST', `"${layer}" is an output of ${base}, not an intermediate activation.`, { file });
    if (!s.position.has(layer)) {
      throw new LoupeError('BAD_REQUEST', `The tensor "${layer}" of ${base} is not on the differentiable path from the word embeddings to the output, so it has no gradient to attribute.`, { file });
    }
    return { tensor: layer, block: null };
  }
  const blocks = modelBlockOutputs(model);
  const block = layer ?? blocks.length - 2;
  if (!Number.isInteger(block) || block < 0 || block >= blocks.length) {
    throw new LoupeError('BAD_REQUEST', `Block ${block} does not exist: ${base} has ${blocks.length} blocks (0 to ${blocks.length - 1}).`, { file });
  }
  return { tensor: blocks[block]!, block };
}

export async function layerGradientXActivation(p: Problem, runner: Runner, g: GradientRunner, tensor: string): Promise<MethodOutput> {
  const file = runner.model.info.onnxFile;
  const base = path.basename(file);
  const row = { ids: p.ids.concat(p.continuation), prefixLen: p.ids.length };
  const S = row.ids.length;
  const [x] = await runner.gather([row.ids]);
  const positions = p.ids.map((_, i) => i);
  let values: number[] = [];
  await g.rows(row, 1, (_, dst) => dst.set(x!), p.readout, (_, out) => {
    const tap = out.taps[tensor];
    if (!tap) throw new LoupeError('UNSUPPORTED', `No gradient reaches the tensor "${tensor}" of ${base}: the target does not depend on it.`, { file });
    if (tap.dims.length !== 3 || tap.dims[1] !== S) {
      throw new LoupeError('BAD_REQUEST', `The tensor "${tensor}" of ${base} has shape [${tap.dims.join(', ')}]: layer attributions need a [batch, sequence (${S} tokens), hidden] tensor, with one row per token.`, {
        file,
      });
    }
    const H = tap.dims[2]!;
    values = positions.map((i) => {
      let s = 0;
      for (let j = i * H; j < (i + 1) * H; j++) s += tap.value[j]! * tap.grad[j]!;
      return s;
    });
  });
  return { values, positions, baselineValue: null, completenessGap: null, fit: null };
}

/** The run's gradient runner with this tap (a separate cached gradient model per tensor). */
const withLayer = new WeakMap<Runner, Map<string, Promise<GradientRunner>>>();
export function layerGradientRunner(runner: Runner, tensor: string): Promise<GradientRunner> {
  let byTensor = withLayer.get(runner);
  if (!byTensor) withLayer.set(runner, (byTensor = new Map()));
  let g = byTensor.get(tensor);
  if (!g) {
    g = GradientRunner.open(runner, [tensor]);
    byTensor.set(tensor, g);
  }
  return g;
}
